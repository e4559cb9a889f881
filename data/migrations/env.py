"""Alembic environment: runs migrations on the engine handed over by :mod:`data.db.migrate`."""

from __future__ import annotations

from alembic import context

from data.db.engine import create_db_engine
from data.db.models import metadata
from data.errors import InvalidInputError

config = context.config
engine = config.attributes.get("engine")
if not engine:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        # Without this check create_db_engine(None) failed with an AttributeError on None.
        raise InvalidInputError(
            "sqlalchemy.url: missing and no engine given; run migrations through "
            "data.db.migrate.upgrade_database(engine) or set sqlalchemy.url in the Alembic "
            "configuration"
        )
    engine = create_db_engine(url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
