"""Fixtures of the API tests: a fresh app from the factory on a fresh database, and clients."""

from __future__ import annotations

from typing import Any

import pytest

from tests.registry_world import Clock, Template


@pytest.fixture
def app(db_url: str, clock: Clock):  # type: ignore[no-untyped-def]
    from api import ApiConfig, create_app

    application = create_app(
        ApiConfig(
            database_url=db_url, clock=clock, failed_auth_limit=5, max_request_bytes=256 * 1024
        )
    )
    yield application
    application.extensions["oxyroute"].store.engine.dispose()


class Client:
    """The Flask test client acting as one user (or as nobody)."""

    def __init__(self, flask_client: Any, token: str | None) -> None:
        self.flask_client = flask_client
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.token is not None:
            out.setdefault("Authorization", f"Bearer {self.token}")
        return out

    def get(self, path: str, **kwargs: Any) -> Any:
        """Send a GET to ``/api/v1{path}`` with this client's token, if any."""
        return self.flask_client.get(
            f"/api/v1{path}", headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def delete(self, path: str, **kwargs: Any) -> Any:
        """Send a DELETE to ``/api/v1{path}`` with this client's token, if any."""
        return self.flask_client.delete(
            f"/api/v1{path}", headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def post(self, path: str, **kwargs: Any) -> Any:
        """Send a POST to ``/api/v1{path}`` with this client's token, if any."""
        return self.flask_client.post(
            f"/api/v1{path}", headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def put(self, path: str, **kwargs: Any) -> Any:
        """Send a PUT to ``/api/v1{path}`` with this client's token, if any."""
        return self.flask_client.put(
            f"/api/v1{path}", headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )


@pytest.fixture
def as_user(app: Any, template_db: Template):  # type: ignore[no-untyped-def]
    """``as_user("coord79")`` returns a client authenticated as that fixture user."""
    return user_factory(app, template_db)


def user_factory(app: Any, template_db: Template) -> Any:
    """Return ``make(username)``: a client of ``app`` authenticated as that fixture user (or nobody)."""
    flask_client = app.test_client()

    def make(username: str | None) -> Client:
        return Client(flask_client, None if username is None else template_db.tokens[username])

    return make


def expect_error(response: Any, status: int) -> dict[str, Any]:
    """Check a response is the JSON error envelope with ``status`` and no traceback; return it."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["status"] == status and "Traceback" not in response.get_data(as_text=True)
    return body["error"]  # type: ignore[no-any-return]


@pytest.fixture
def plans_app(db_url: str, clock: Clock, tmp_path: Any):  # type: ignore[no-untyped-def]
    """Yield an app whose plans (and routes, scenarios) are stored in the test's temporary folder."""
    from api import ApiConfig, create_app

    application = create_app(ApiConfig(database_url=db_url, clock=clock, plans_dir=str(tmp_path)))
    yield application
    application.extensions["oxyroute"].store.engine.dispose()
