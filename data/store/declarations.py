"""Suppliers' daily supply declarations in the store: one per supplier and day, corrections audited.

A supplier declares, for a day, the liquid oxygen (t) and filled cylinders it can give to medical
use and its liquid stock (:class:`data.schema.registry.SupplyDeclaration`). A second declaration
for the same supplier and day replaces the first; the audit row (entity
``supply_declarations``, id ``<supplier_id>/<date>``) keeps the old and new values, so nothing
is lost. Plans read the declarations of their days (docs/declarations.md).

The table is :data:`data.db.models.supply_declarations` (migration 0005).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (
    insert,
    select,
    update,
)

from data.db.models import suppliers, supply_declarations
from data.errors import InvalidInputError, RecordNotFoundError
from data.schema.registry import SupplyDeclaration
from data.store.base import StoreBase
from data.store.rows import aware_utc

_CONTENT = ("liquid_lox_t", "cylinders_filled", "liquid_stock_t", "note")


@dataclass(frozen=True, slots=True)
class StoredDeclaration:
    """A supply declaration as stored: the content, who declared it and when."""

    declaration: SupplyDeclaration
    declared_at: dt.datetime
    declared_by: str


@dataclass(frozen=True, slots=True)
class DeclarationResult:
    """The outcome of a submission: the stored declaration and what it replaced, if anything."""

    stored: StoredDeclaration
    created: bool
    replaced: SupplyDeclaration | None = None


def _entity_id(declaration: SupplyDeclaration) -> str:
    return f"{declaration.supplier_id}/{declaration.declaration_date.isoformat()}"


def _from_row(row: object) -> StoredDeclaration:
    mapping = row._mapping  # type: ignore[attr-defined]
    return StoredDeclaration(
        SupplyDeclaration(
            supplier_id=mapping["supplier_id"],
            declaration_date=mapping["declaration_date"],
            liquid_lox_t=mapping["liquid_lox_t"],
            cylinders_filled=mapping["cylinders_filled"],
            liquid_stock_t=mapping["liquid_stock_t"],
            note=mapping["note"],
        ),
        aware_utc(mapping["declared_at"]),
        mapping["declared_by"],
    )


class DeclarationStore(StoreBase):
    """Submit, correct and read suppliers' daily supply declarations (each change audited)."""

    def submit_declaration(
        self,
        declaration: SupplyDeclaration,
        *,
        actor: str,
        plant_capacity_t: float | None = None,
    ) -> DeclarationResult:
        """Store a supplier's declaration for a day, replacing an earlier one for that day.

        Parameters
        ----------
        declaration
            What the supplier declares.
        actor
            Username of the submitter (audited).
        plant_capacity_t
            The plant's liquid output, t/day (all of it, not only the medical share: the
            ``capacity_lox_t_per_day`` of the region's suppliers file), when known. The bound
            is the larger of it and the supplier record's ``liquid_output_t_per_day`` (which
            the seed sets to the medical share); a declared ``liquid_lox_t`` above the bound is
            refused.

        Raises
        ------
        RecordNotFoundError
            If there is no supplier ``declaration.supplier_id``.
        InvalidInputError
            If the declared liquid exceeds the plant's capacity (nothing is stored).
        """
        with self._write() as connection:
            supplier = connection.execute(
                select(suppliers.c.liquid_output_t_per_day).where(
                    suppliers.c.supplier_id == declaration.supplier_id
                )
            ).first()
            if supplier is None:
                raise RecordNotFoundError(
                    f"supplier_id: no suppliers record {declaration.supplier_id!r}"
                )
            limit_t = max(plant_capacity_t or 0.0, supplier[0] or 0.0)
            if declaration.liquid_lox_t > limit_t:
                raise InvalidInputError.from_problems(
                    "SupplyDeclaration",
                    [
                        f"liquid_lox_t: must be at most the plant capacity {limit_t:g} t/day of "
                        f"{declaration.supplier_id} (a supplier cannot give more than its plant "
                        f"makes), got {declaration.liquid_lox_t:g}"
                    ],
                )
            where = (supply_declarations.c.supplier_id == declaration.supplier_id) & (
                supply_declarations.c.declaration_date == declaration.declaration_date
            )
            old = connection.execute(select(supply_declarations).where(where)).first()
            now = self.clock()
            values = {name: getattr(declaration, name) for name in _CONTENT}
            stored = StoredDeclaration(declaration, now, actor)
            if old is None:
                connection.execute(
                    insert(supply_declarations).values(
                        supplier_id=declaration.supplier_id,
                        declaration_date=declaration.declaration_date,
                        declared_at=now,
                        declared_by=actor,
                        **values,
                    )
                )
                self._audit(
                    connection,
                    actor,
                    "create",
                    "supply_declarations",
                    _entity_id(declaration),
                    declaration.to_dict(),
                )
                return DeclarationResult(stored, created=True)
            previous = _from_row(old).declaration
            changes = {
                name: [getattr(previous, name), getattr(declaration, name)]
                for name in _CONTENT
                if getattr(previous, name) != getattr(declaration, name)
            }
            if not changes:
                return DeclarationResult(_from_row(old), created=False, replaced=None)
            connection.execute(
                update(supply_declarations)
                .where(where)
                .values(declared_at=now, declared_by=actor, **values)
            )
            self._audit(
                connection,
                actor,
                "correct",
                "supply_declarations",
                _entity_id(declaration),
                changes,
            )
            return DeclarationResult(stored, created=False, replaced=previous)

    def list_declarations(
        self,
        *,
        date_from: dt.date,
        date_to: dt.date,
        supplier_id: str | None = None,
    ) -> list[StoredDeclaration]:
        """Return the declarations of a period (inclusive), by date then supplier id."""
        query = (
            select(supply_declarations)
            .where(supply_declarations.c.declaration_date >= date_from)
            .where(supply_declarations.c.declaration_date <= date_to)
            .order_by(supply_declarations.c.declaration_date, supply_declarations.c.supplier_id)
        )
        if supplier_id is not None:
            query = query.where(supply_declarations.c.supplier_id == supplier_id)
        with self.engine.connect() as connection:
            return [_from_row(row) for row in connection.execute(query)]
