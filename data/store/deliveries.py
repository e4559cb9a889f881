"""The store's part for planned deliveries and plans' hand-off.

Issue 14 (live operations); the tables are in migration 0006.
"""

from __future__ import annotations

from data.store.base import StoreBase


class DeliveryStore(StoreBase):
    """Repository functions for deliveries, proof of delivery and plan states."""
