"""The urgent requests' state machine in the store: a Hypothesis model, concurrency, the audit.

The model (:class:`_RequestMachine`) files requests and tries every change on them, with the
current version or a stale one, and predicts the answer from
:data:`data.schema.live.REQUEST_TRANSITIONS` alone: a legal change with the current version
succeeds and adds exactly one audit row; anything else raises and stores nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from data.errors import InvalidInputError
from data.schema.live import REQUEST_TRANSITIONS, Product, RequestState
from data.store.urgent_requests import RequestConflictError, UrgentRequestDraft
from tests.registry_world import Clock

NOW = dt.datetime(2021, 8, 20, 2, 0, tzinfo=dt.UTC)
ACTIONS = {
    "approve": RequestState.APPROVED,
    "reject": RequestState.REJECTED,
    "cancel": RequestState.CANCELLED,
    "source": RequestState.SOURCED,
    "dispatch": RequestState.DISPATCHED,
}
REACHED: set[RequestState] = set()  # states the model reached (each must be, in the run)
OPTION = {
    "option_id": "trip:TDS:CT-1",
    "supplier_id": "TDS",
    "vehicle_id": "CT-1",
    "eta": "2021-08-20T03:00:00+00:00",
    "duration_s": 3600,
}


def _draft(product: Product = Product.CYLINDERS, quantity: float = 40) -> UrgentRequestDraft:
    return UrgentRequestDraft.from_mapping(
        {
            "facility_id": "79-A",
            "product": product.value,
            **(
                {"requested_liquid_kg": float(quantity)}
                if product is Product.LIQUID
                else {"requested_cylinders": int(quantity)}
            ),
            "needed_by": "2021-08-20T18:00:00+07:00",
            "reason": "Hết bình dự phòng",
        },
        now=NOW,
    )


def _add_supplier(store: Any) -> None:
    from data.schema.registry import Supplier, SupplierKind

    store.create_records(
        [
            Supplier(
                supplier_id="TDS",
                name="Thép Thủ Đức - trạm nạp oxy",
                kind=SupplierKind.FILLING_STATION,
                province_code="79",
                lon=106.76,
                lat=10.842,
                cylinders_per_day=300,
            )
        ],
        actor="fixture",
    )


@pytest.fixture
def sos_store(store: Any) -> Any:
    """Return the test's store with the filling station TDS registered."""
    _add_supplier(store)
    return store


def _change(store: Any, action: str, request_id: int, version: int, actor: str) -> Any:
    if action == "approve":
        return store.approve_request(request_id, version=version, actor=actor)
    if action == "reject":
        return store.reject_request(request_id, version=version, actor=actor, reason="không cần")
    if action == "cancel":
        return store.cancel_request(request_id, version=version, actor=actor)
    if action == "source":
        return store.source_request(request_id, version=version, actor=actor, sourcing=OPTION)
    return store.dispatch_request(request_id, version=version, actor=actor)


class _RequestMachine(RuleBasedStateMachine):
    template_path: Path

    def __init__(self) -> None:
        super().__init__()
        from data.db import create_db_engine
        from data.store import Store

        self.folder = tempfile.mkdtemp(prefix="sos-model-")
        path = Path(self.folder) / "registry.sqlite3"
        shutil.copyfile(self.template_path, path)
        self.engine = create_db_engine(f"sqlite:///{path}")
        self.store = Store(self.engine, clock=Clock(NOW))
        _add_supplier(self.store)
        self.model: dict[int, tuple[RequestState, int]] = {}  # id -> (state, version)
        self.changes = 0  # audit rows expected (filings and changes)

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    @initialize()
    def one_request_dispatched(self) -> None:
        """Walk one request to dispatched first, so every run holds a delivery to check.

        Left to the random rules, some derandomised runs never dispatched (it takes four legal
        steps in a row), and whether any did depended on the test order.
        """
        stored = self.store.file_request(_draft(), actor="repA")
        version = stored.version
        for action in ("approve", "source", "dispatch"):
            result = _change(self.store, action, stored.request_id, version, "dispatcher")
            version = result.version
            REACHED.add(ACTIONS[action])
        self.model[stored.request_id] = (RequestState.DISPATCHED, version)
        self.changes += 4

    @rule(product=st.sampled_from(list(Product)), quantity=st.integers(1, 500))
    def file(self, product: Product, quantity: int) -> None:
        stored = self.store.file_request(_draft(product, quantity), actor="repA")
        assert (stored.state, stored.version) == (RequestState.REQUESTED, 1)
        self.model[stored.request_id] = (RequestState.REQUESTED, 1)
        self.changes += 1

    @precondition(lambda self: bool(self.model))
    @rule(
        data=st.data(),
        action=st.sampled_from(sorted(ACTIONS)),
        stale=st.booleans(),
    )
    def change(self, data: st.DataObject, action: str, stale: bool) -> None:
        request_id = data.draw(st.sampled_from(sorted(self.model)))
        state, version = self.model[request_id]
        sent = version - 1 if stale and version > 1 else version
        legal = ACTIONS[action] in REQUEST_TRANSITIONS[state] and sent == version
        if not legal:
            with pytest.raises(RequestConflictError) as caught:
                _change(self.store, action, request_id, sent, "coord79")
            assert (caught.value.current.state, caught.value.current.version) == (state, version)
            return
        result = _change(self.store, action, request_id, sent, "coord79")
        assert (result.state, result.version) == (ACTIONS[action], version + 1)
        REACHED.add(ACTIONS[action])
        self.model[request_id] = (ACTIONS[action], version + 1)
        self.changes += 1

    @precondition(
        lambda self: any(
            REQUEST_TRANSITIONS[s] - {RequestState.DELIVERED} for s, _ in self.model.values()
        )
    )
    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """Make a legal change with the current version (so that the model goes deep)."""
        open_ids = sorted(
            i
            for i, (s, _) in self.model.items()
            if REQUEST_TRANSITIONS[s] - {RequestState.DELIVERED}
        )
        request_id = data.draw(st.sampled_from(open_ids))
        state, version = self.model[request_id]
        action = data.draw(
            st.sampled_from(
                sorted(a for a, t in ACTIONS.items() if t in REQUEST_TRANSITIONS[state])
            )
        )
        result = _change(self.store, action, request_id, version, "dispatcher")
        assert (result.state, result.version) == (ACTIONS[action], version + 1)
        REACHED.add(ACTIONS[action])
        self.model[request_id] = (ACTIONS[action], version + 1)
        self.changes += 1

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def two_coordinators_at_once(self, data: st.DataObject) -> None:
        """Both saw the same version; the second one's change must be refused."""
        request_id = data.draw(st.sampled_from(sorted(self.model)))
        state, version = self.model[request_id]
        if RequestState.APPROVED not in REQUEST_TRANSITIONS[state]:
            return
        self.store.approve_request(request_id, version=version, actor="coord79")
        with pytest.raises(RequestConflictError):
            self.store.approve_request(request_id, version=version, actor="admin")
        self.model[request_id] = (RequestState.APPROVED, version + 1)
        self.changes += 1

    @invariant()
    def stored_as_modelled(self) -> None:
        stored = {r.request_id: (r.state, r.version) for r in self.store.list_requests()}
        assert stored == self.model

    @invariant()
    def every_change_audited_and_legal(self) -> None:
        rows = self.store.audit_trail(entity="urgent_requests")
        assert len(rows) == self.changes
        by_request: dict[str, list[Any]] = {}
        for row in rows:
            by_request.setdefault(row.entity_id, []).append(row.detail)
        for details in by_request.values():
            assert details[0]["from"] is None and details[0]["to"] == "requested"
            for previous, detail in itertools.pairwise(details):
                assert detail["from"] == previous["to"]
                assert (
                    RequestState(detail["to"]) in REQUEST_TRANSITIONS[RequestState(detail["from"])]
                )

    @invariant()
    def a_delivery_exactly_when_dispatched(self) -> None:
        for item in self.store.list_requests():
            assert (item.delivery_id is not None) == (item.state is RequestState.DISPATCHED)


def test_the_state_machine_accepts_no_illegal_change(template_db: Any) -> None:
    machine = type("RequestMachine", (_RequestMachine,), {"template_path": template_db.path})
    runner = machine.TestCase
    runner.settings = settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    runner("runTest").runTest()
    assert set(ACTIONS.values()) == REACHED  # the model went down every path, dispatch included


def test_concurrent_approvals_in_two_threads_one_wins(sos_store: Any) -> None:
    """Two coordinators press approve at the same moment with version 1: one 200, one 409."""
    store = sos_store
    request_id = store.file_request(_draft(), actor="repA").request_id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(actor: str) -> None:
        barrier.wait()
        try:
            store.approve_request(request_id, version=1, actor=actor)
            outcomes.append("won")
        except RequestConflictError as error:
            outcomes.append(f"409 {error.current.state.value}")

    threads = [threading.Thread(target=approve, args=(a,)) for a in ("coord79", "admin")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["409 approved", "won"]
    assert [e.action for e in store.audit_trail(entity="urgent_requests")] == ["file", "approve"]


def test_dispatch_writes_the_delivery_with_the_approved_quantity(
    sos_store: Any, clock: Any
) -> None:
    store = sos_store
    from sqlalchemy import select

    from data.db.models import deliveries

    item = store.file_request(_draft(Product.LIQUID, 3000), actor="repA")
    item = store.approve_request(
        item.request_id,
        version=1,
        actor="coord79",
        approved_liquid_kg=2000.0,
        reason="xe bồn nhỏ 5,5 t đang bận",
    )
    item = store.source_request(item.request_id, version=2, actor="dispatcher", sourcing=OPTION)
    clock.now = NOW + dt.timedelta(hours=2)  # dispatched after the option's ETA has passed
    item = store.dispatch_request(item.request_id, version=3, actor="dispatcher")
    with store.engine.connect() as connection:
        row = connection.execute(select(deliveries)).one()._mapping
    assert row["planned_liquid_kg"] == 2000.0 and row["planned_cylinders"] is None
    assert row["planned_m3"] == pytest.approx(1400.0)  # 2 t x 700 m³/t
    # the truck leaves now: now + the option's hour, not the option's past ETA
    assert row["eta"].replace(tzinfo=dt.UTC) == NOW + dt.timedelta(hours=3)
    assert item.delivery_id == row["delivery_id"] and item.delivery_state == "in_transit"


def test_approving_the_other_product_or_nothing_is_refused(store: Any) -> None:
    item = store.file_request(_draft(Product.CYLINDERS, 40), actor="repA")
    with pytest.raises(InvalidInputError, match="approved_liquid_kg: not for a cylinders"):
        store.approve_request(
            item.request_id, version=1, actor="coord79", approved_liquid_kg=10.0, reason="x"
        )
    with pytest.raises(InvalidInputError, match="approved_cylinders: from 1 to"):
        store.approve_request(
            item.request_id, version=1, actor="coord79", approved_cylinders=0, reason="x"
        )
    assert store.get_request(item.request_id).version == 1
