"""Database layer of the registry: engine settings, tables and schema migrations."""

from data.db.engine import create_db_engine, resolve_database_url
from data.db.migrate import upgrade_database
from data.db.models import metadata

__all__ = ["create_db_engine", "metadata", "resolve_database_url", "upgrade_database"]
