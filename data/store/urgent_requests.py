"""The store's part for urgent requests (SOS).

Issue 14 (live operations); the tables are in migration 0006.
"""

from __future__ import annotations

from data.store.base import StoreBase


class UrgentRequestStore(StoreBase):
    """Repository functions for urgent requests and their audited state changes."""
