"""Users and API tokens in the store: accounts with a role and scope, tokens, authentication."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from data.access import Principal, hash_token, new_token, validate_role_scope
from data.db.models import api_tokens, facilities, provinces, users
from data.errors import AuthenticationError, ConflictError, InvalidInputError, RecordNotFoundError
from data.schema.registry import Role
from data.store.base import StoreBase
from data.store.rows import aware_utc, inserted_id

_USERNAME = re.compile(r"[\w.@-]{1,100}")
DEFAULT_TOKEN_DAYS = 90
"""Lifetime of a token issued over HTTP unless the admin asks otherwise (1-365 days)."""


class UserStore(StoreBase):
    """Add, disable and list users; issue tokens and authenticate them (only hashes are stored)."""

    def add_user(
        self,
        username: str,
        role: Role,
        *,
        facility_id: str | None = None,
        province_code: str | None = None,
        actor: str = "system",
    ) -> int:
        """Create a user; return its id.

        Raises
        ------
        InvalidInputError
            If the scope does not fit the role, or the facility or province does not exist.
        ConflictError
            If the username is taken.
        """
        problems = validate_role_scope(role, facility_id, province_code)
        if not _USERNAME.fullmatch(username or ""):
            # A "/" made a user that no /users/{username} path could reach (issue 16).
            problems.append(
                "username: 1-100 letters, digits, '.', '_', '-' or '@' (no '/', spaces or "
                f"other signs), got {username!r}"
            )
        if problems:
            raise InvalidInputError.from_problems("user", problems)
        try:
            with self._write() as connection:
                if (
                    facility_id is not None
                    and connection.execute(
                        select(facilities.c.facility_id).where(
                            facilities.c.facility_id == facility_id
                        )
                    ).first()
                    is None
                ):
                    raise InvalidInputError(f"facility_id: no facility {facility_id!r}")
                if (
                    province_code is not None
                    and connection.execute(
                        select(provinces.c.province_code).where(
                            provinces.c.province_code == province_code
                        )
                    ).first()
                    is None
                ):
                    raise InvalidInputError(f"province_code: no province {province_code!r}")
                user_id = inserted_id(
                    connection.execute(
                        insert(users).values(
                            username=username,
                            role=role.value,
                            facility_id=facility_id,
                            province_code=province_code,
                            disabled=False,
                            created_at=self.clock(),
                        )
                    )
                )
                self._audit(
                    connection,
                    actor,
                    "create",
                    "users",
                    username,
                    {
                        "role": role.value,
                        "facility_id": facility_id,
                        "province_code": province_code,
                    },
                )
        except IntegrityError:
            raise ConflictError(f"username: {username!r} is taken") from None
        return int(user_id)

    def issue_token(
        self,
        username: str,
        *,
        label: str | None = None,
        expires_at: dt.datetime | None = None,
        actor: str = "system",
    ) -> str:
        """Create an API token for a user and return it; only its hash is stored.

        Raises
        ------
        RecordNotFoundError
            If the user does not exist.
        """
        return self.issue_token_with_id(username, label=label, expires_at=expires_at, actor=actor)[
            0
        ]

    def issue_token_with_id(
        self,
        username: str,
        *,
        label: str | None = None,
        expires_at: dt.datetime | None = None,
        actor: str = "system",
    ) -> tuple[str, int]:
        """As :meth:`issue_token`, and return the token's id too (to list or revoke it)."""
        token = new_token()
        with self._write() as connection:
            user = connection.execute(select(users).where(users.c.username == username)).first()
            if user is None:
                raise RecordNotFoundError(f"username: no user {username!r}")
            token_id = inserted_id(
                connection.execute(
                    insert(api_tokens).values(
                        user_id=user.user_id,
                        token_hash=hash_token(token),
                        label=label,
                        created_at=self.clock(),
                        expires_at=expires_at,
                    )
                )
            )
            self._audit(
                connection,
                actor,
                "issue_token",
                "users",
                username,
                {
                    "label": label,
                    "token_id": token_id,
                    "expires_at": None if expires_at is None else expires_at.isoformat(),
                },
            )
        return token, int(token_id)

    def list_tokens(self, username: str) -> list[dict[str, Any]]:
        """Return a user's tokens (never the token: id, label, created, expiry, revocation, state).

        Raises
        ------
        RecordNotFoundError
            If the user does not exist.
        """
        now = self.clock()
        with self.engine.connect() as connection:
            user = connection.execute(select(users).where(users.c.username == username)).first()
            if user is None:
                raise RecordNotFoundError(f"username: no user {username!r}")
            rows = connection.execute(
                select(api_tokens)
                .where(api_tokens.c.user_id == user.user_id)
                .order_by(api_tokens.c.token_id)
            ).all()
        out = []
        for row in rows:
            expires_at, revoked_at = aware_utc(row.expires_at), aware_utc(row.revoked_at)
            state = (
                "revoked"
                if revoked_at is not None
                else "expired"
                if expires_at is not None and expires_at <= now
                else "active"
            )
            out.append(
                {
                    "token_id": row.token_id,
                    "label": row.label,
                    "created_at": aware_utc(row.created_at),
                    "expires_at": expires_at,
                    "revoked_at": revoked_at,
                    "state": state,
                }
            )
        return out

    def revoke_token(self, username: str, token_id: int, *, actor: str = "system") -> None:
        """Revoke one of a user's tokens: it stops working at once (audited).

        Raises
        ------
        RecordNotFoundError
            If the user has no such token.
        ConflictError
            If the token is already revoked.
        """
        with self._write() as connection:
            row = connection.execute(
                select(api_tokens.c.token_id, api_tokens.c.revoked_at)
                .join(users, users.c.user_id == api_tokens.c.user_id)
                .where(users.c.username == username, api_tokens.c.token_id == token_id)
            ).first()
            if row is None:
                raise RecordNotFoundError(f"token_id: user {username!r} has no token {token_id}")
            if row.revoked_at is not None:
                raise ConflictError(f"token_id: token {token_id} is already revoked")
            connection.execute(
                update(api_tokens)
                .where(api_tokens.c.token_id == token_id)
                .values(revoked_at=self.clock())
            )
            self._audit(
                connection, actor, "revoke_token", "users", username, {"token_id": token_id}
            )

    def set_user_disabled(self, username: str, disabled: bool, *, actor: str = "system") -> None:
        """Disable (or enable again) a user: a disabled user's tokens stop working at once.

        Raises
        ------
        RecordNotFoundError
            If the user does not exist.
        """
        with self._write() as connection:
            result = connection.execute(
                update(users).where(users.c.username == username).values(disabled=disabled)
            )
            if result.rowcount == 0:
                raise RecordNotFoundError(f"username: no user {username!r}")
            self._audit(connection, actor, "disable" if disabled else "enable", "users", username)

    def authenticate(self, token: str) -> Principal:
        """Return the user a token belongs to.

        Raises
        ------
        AuthenticationError
            If the token is unknown, revoked or expired, or its user is disabled.
        """
        with self.engine.connect() as connection:
            row = connection.execute(
                select(users, api_tokens.c.expires_at, api_tokens.c.revoked_at)
                .join(api_tokens, api_tokens.c.user_id == users.c.user_id)
                .where(api_tokens.c.token_hash == hash_token(token))
            ).first()
        if row is None:
            raise AuthenticationError("unknown token")
        expires_at = aware_utc(row.expires_at)
        if row.revoked_at is not None or (expires_at is not None and expires_at <= self.clock()):
            raise AuthenticationError("token expired or revoked")
        if row.disabled:
            raise AuthenticationError("user disabled")
        return Principal(
            user_id=row.user_id,
            username=row.username,
            role=Role(row.role),
            facility_id=row.facility_id,
            province_code=row.province_code,
        )

    def list_users(self) -> list[dict[str, Any]]:
        """Return every user (without tokens), ordered by username."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(users).order_by(users.c.username))
            return [
                {
                    "username": r.username,
                    "role": r.role,
                    "facility_id": r.facility_id,
                    "province_code": r.province_code,
                    "disabled": r.disabled,
                }
                for r in rows
            ]
