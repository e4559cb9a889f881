"""The registry store: registry records, report revisions, approvals, users, tokens, audit trail.

All writes run in one transaction each (``BEGIN IMMEDIATE`` on SQLite) and leave one audit row per
change in the same transaction, so a change and its audit row are stored together or not at all.
Report revisions and audit rows are append-only (database triggers refuse UPDATE and DELETE).

:class:`Store` is composed of one part per concern, each in its own module over the same engine and
clock (:mod:`data.store.base`): registry records and provinces (:mod:`~data.store.registry`), daily
reports and their revisions (:mod:`~data.store.reports`), their plausibility flags and the
province officers' reviews (:mod:`~data.store.reviews`), approval and locking of days
(:mod:`~data.store.approvals`), suppliers' daily supply declarations
(:mod:`~data.store.declarations`), users and tokens (:mod:`~data.store.users`) and the audit trail
(:mod:`~data.store.audit`); live operations (issue 14): status inputs
(:mod:`~data.store.status_inputs`), urgent requests (:mod:`~data.store.urgent_requests`),
deliveries and plan states (:mod:`~data.store.deliveries`), alerts and webhooks
(:mod:`~data.store.alerts`). Rows become records in :mod:`data.store.rows`.
"""

from __future__ import annotations

from data.store.alerts import AlertStore
from data.store.approvals import Approval, ApprovalStore
from data.store.audit import AuditEvent, AuditStore
from data.store.base import utc_now
from data.store.declarations import DeclarationResult, DeclarationStore, StoredDeclaration
from data.store.deliveries import DeliveryStore
from data.store.registry import RegistryStore
from data.store.reports import ReportStore, SubmissionResult
from data.store.reviews import (
    ReportCheck,
    Review,
    ReviewDecision,
    ReviewItem,
    ReviewStatus,
    ReviewStore,
)
from data.store.status_inputs import StatusInputStore
from data.store.urgent_requests import UrgentRequestStore
from data.store.users import UserStore

__all__ = [
    "Approval",
    "AuditEvent",
    "DeclarationResult",
    "ReportCheck",
    "Review",
    "ReviewDecision",
    "ReviewItem",
    "ReviewStatus",
    "Store",
    "StoredDeclaration",
    "SubmissionResult",
    "utc_now",
]


class Store(
    RegistryStore,
    ReportStore,
    ReviewStore,
    ApprovalStore,
    DeclarationStore,
    StatusInputStore,
    UrgentRequestStore,
    DeliveryStore,
    AlertStore,
    UserStore,
    AuditStore,
):
    """Repository functions over one database.

    Parameters
    ----------
    engine
        From :func:`data.db.create_db_engine`, with the schema upgraded.
    clock
        Returns the present instant (aware); injected so that tests control "now".
    """
