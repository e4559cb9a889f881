"""The delivery state machine in the store, against a model (Hypothesis, stateful).

Rules create deliveries and try every transition (dispatch, confirm, cancel), with the current
version, a stale one or none. Invariants after each step: the store's state and version equal
the model's; every transition the store accepted is an allowed one (``DELIVERY_TRANSITIONS``) and
left exactly one audit row; a refused one changed nothing; a confirmed quantity is counted once
(the sum of received m³ equals the model's, and a second confirmation is refused).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import insert

from data.db import create_db_engine
from data.db.models import urgent_requests
from data.errors import ConflictError
from data.schema.live import DELIVERY_TRANSITIONS, DeliveryState, Product
from data.store import Store
from data.store.deliveries import PlannedDelivery, Receipt
from tests.registry_world import Clock, Template

FACILITIES = ("79-A", "79-B", "01-C")
ETA = dt.datetime(2021, 8, 20, 4, 0, tzinfo=dt.UTC)


def _planned(facility_id: str, product: Product, quantity: int, **extra: Any) -> PlannedDelivery:
    liquid = product == Product.LIQUID
    return PlannedDelivery(
        facility_id=facility_id,
        supplier_id=None,
        plan_id=None,
        routes_id=None,
        vehicle_id=None,
        stop_index=None,
        product=product,
        planned_liquid_kg=float(quantity) if liquid else None,
        planned_cylinders=None if liquid else quantity,
        planned_m3=quantity * (0.7 if liquid else 6.0),
        eta=ETA,
        **extra,
    )


def _receipt(product: Product, quantity: int) -> Receipt:
    liquid = product == Product.LIQUID
    return Receipt(
        received_liquid_kg=float(quantity) if liquid else None,
        received_cylinders=None if liquid else quantity,
        received_at=ETA,
        receiver_name="Trần Văn Bình",
    )


class _DeliveryMachine(RuleBasedStateMachine):
    template_path: Path
    deliveries = Bundle("deliveries")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="oxy-deliveries-"))
        shutil.copyfile(self.template_path, self.folder / "db.sqlite3")
        self.store = Store(
            create_db_engine(f"sqlite:///{self.folder / 'db.sqlite3'}"), clock=Clock()
        )
        # model: delivery id -> (state, version, product, planned m³ per unit, received m³)
        self.model: dict[int, dict[str, Any]] = {}
        self.accepted: dict[int, list[tuple[str, str]]] = {}

    def teardown(self) -> None:
        self.store.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(
        target=deliveries,
        facility_id=st.sampled_from(FACILITIES),
        product=st.sampled_from(list(Product)),
        quantity=st.integers(1, 3000),
    )
    def plan(self, facility_id: str, product: Product, quantity: int) -> int:
        delivery = self.store.create_delivery(_planned(facility_id, product, quantity), actor="t")
        self.model[delivery.delivery_id] = {
            "state": DeliveryState.PLANNED,
            "version": 1,
            "product": product,
            "quantity": quantity,
            "per_unit_m3": 0.7 if product == Product.LIQUID else 6.0,
            "received_m3": None,
        }
        self.accepted[delivery.delivery_id] = []
        return delivery.delivery_id

    def _version(self, delivery_id: int, how: str) -> int | None:
        current = self.model[delivery_id]["version"]
        return {"none": None, "current": current, "stale": current - 1 or current + 1}[how]

    def _attempt(self, delivery_id: int, target: DeliveryState, how: str, call: Any) -> None:
        entry = self.model[delivery_id]
        allowed = target in DELIVERY_TRANSITIONS[entry["state"]] and how != "stale"
        if not allowed:
            with pytest.raises(ConflictError):
                call(self._version(delivery_id, how))
            return
        call(self._version(delivery_id, how))
        self.accepted[delivery_id].append((entry["state"].value, target.value))
        entry["state"] = target
        entry["version"] += 1

    @rule(delivery_id=deliveries, how=st.sampled_from(["none", "current", "stale"]))
    def dispatch(self, delivery_id: int, how: str) -> None:
        self._attempt(
            delivery_id,
            DeliveryState.IN_TRANSIT,
            how,
            lambda v: self.store.dispatch_delivery(delivery_id, actor="t", seen_version=v),
        )

    @rule(
        delivery_id=deliveries,
        how=st.sampled_from(["none", "current", "stale"]),
        fraction=st.sampled_from([0.0, 0.5, 1.0]),
    )
    def confirm(self, delivery_id: int, how: str, fraction: float) -> None:
        entry = self.model[delivery_id]
        received = int(entry["quantity"] * fraction)
        receipt = _receipt(entry["product"], received)
        was = entry["state"]
        self._attempt(
            delivery_id,
            DeliveryState.DELIVERED,
            how,
            lambda v: self.store.confirm_delivery(delivery_id, receipt, actor="t", seen_version=v),
        )
        if was != DeliveryState.DELIVERED and entry["state"] == DeliveryState.DELIVERED:
            entry["received_m3"] = round(received * entry["per_unit_m3"], 3)

    @rule(delivery_id=deliveries, how=st.sampled_from(["none", "current", "stale"]))
    def cancel(self, delivery_id: int, how: str) -> None:
        self._attempt(
            delivery_id,
            DeliveryState.CANCELLED,
            how,
            lambda v: self.store.cancel_delivery(
                delivery_id, actor="t", reason="xe hỏng", seen_version=v
            ),
        )

    @invariant()
    def store_matches_the_model(self) -> None:
        stored = {d.delivery_id: d for d in self.store.list_deliveries()}
        assert set(stored) == set(self.model)
        for delivery_id, entry in self.model.items():
            assert stored[delivery_id].state == entry["state"]
            assert stored[delivery_id].version == entry["version"]
            assert stored[delivery_id].received_m3 == pytest.approx(entry["received_m3"])

    @invariant()
    def every_transition_is_allowed_and_audited_once(self) -> None:
        for delivery_id, moves in self.accepted.items():
            trail = self.store.audit_trail(entity="deliveries", entity_id=str(delivery_id))
            assert trail[0].action == "plan"
            audited = [(e.detail["from"], e.detail["to"]) for e in trail[1:]]
            assert audited == moves
            for source, target in audited:
                assert DeliveryState(target) in DELIVERY_TRANSITIONS[DeliveryState(source)]

    @invariant()
    def a_confirmed_quantity_is_counted_once(self) -> None:
        stored = self.store.list_deliveries(states=[DeliveryState.DELIVERED])
        expected = sum(
            e["received_m3"] for e in self.model.values() if e["received_m3"] is not None
        )
        assert sum(d.received_m3 or 0.0 for d in stored) == pytest.approx(expected)


def test_the_delivery_state_machine(template_db: Template) -> None:
    machine = type("DeliveryMachine", (_DeliveryMachine,), {"template_path": template_db.path})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def _request_row(store: Store, state: str) -> int:
    now = ETA
    with store.engine.begin() as connection:
        result = connection.execute(
            insert(urgent_requests).values(
                facility_id="79-A",
                product="cylinders",
                requested_cylinders=20,
                needed_by=now,
                reason="hết oxy",
                state=state,
                created_at=now,
                created_by="repA",
                updated_at=now,
                updated_by="repA",
                version=1,
            )
        )
        return int(result.inserted_primary_key[0])


@pytest.mark.parametrize(
    ("state", "audited"),
    [("dispatched", ["delivered"]), ("sourced", ["dispatched", "delivered"])],
)
def test_confirming_delivers_its_urgent_request_in_the_same_transaction(
    store: Store, state: str, audited: list[str]
) -> None:
    request_id = _request_row(store, state)
    delivery = store.create_delivery(
        _planned("79-A", Product.CYLINDERS, 20, request_id=request_id), actor="coord79"
    )
    store.confirm_delivery(delivery.delivery_id, _receipt(Product.CYLINDERS, 20), actor="repA")
    trail = store.audit_trail(entity="urgent_requests", entity_id=str(request_id))
    assert [e.action for e in trail] == audited
    with store.engine.connect() as connection:
        row = connection.execute(urgent_requests.select()).one()
    assert row.state == "delivered" and row.version == 1 + len(audited)


def test_a_cancelled_request_refuses_the_confirmation_and_nothing_is_stored(store: Store) -> None:
    request_id = _request_row(store, "cancelled")
    delivery = store.create_delivery(
        _planned("79-A", Product.CYLINDERS, 20, request_id=request_id), actor="coord79"
    )
    with pytest.raises(ConflictError, match=r"request_id: urgent request .* is cancelled"):
        store.confirm_delivery(delivery.delivery_id, _receipt(Product.CYLINDERS, 20), actor="repA")
    assert store.get_delivery(delivery.delivery_id).state == DeliveryState.PLANNED
    assert (
        store.audit_trail(entity="deliveries", entity_id=str(delivery.delivery_id))[-1].action
        == "plan"
    )
