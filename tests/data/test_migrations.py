"""The Alembic environment: a configuration without a database is refused with a clear message."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config

from data.db.migrate import MIGRATIONS_DIR
from data.errors import InvalidInputError


def test_migrations_without_engine_or_url_name_the_missing_setting() -> None:
    # Used to fail inside create_db_engine with "'NoneType' object has no attribute 'startswith'".
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with pytest.raises(InvalidInputError, match=r"sqlalchemy\.url: missing and no engine given"):
        command.upgrade(config, "head")
