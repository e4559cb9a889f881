"""The store's part for what a facility's status is computed from.

Issue 14 (live operations); the tables are in migration 0006.
"""

from __future__ import annotations

from data.store.base import StoreBase


class StatusInputStore(StoreBase):
    """Repository functions for a facility's last good report and confirmed deliveries."""
