"""The store's part for alerts and webhooks.

Issue 14 (live operations); the tables are in migration 0006.
"""

from __future__ import annotations

from data.store.base import StoreBase


class AlertStore(StoreBase):
    """Repository functions for alerts, webhook subscriptions and their delivery log."""
