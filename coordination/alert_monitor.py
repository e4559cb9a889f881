"""A background thread that scans for alerts and sends due webhooks every minute (a server's).

The same two steps as ``oxyroute alerts scan`` (cron): :func:`coordination.alert_scan.
run_alert_scan`, then :func:`coordination.webhooks.deliver_due_webhooks`. Start one per server
process (``api.create_app`` may own it); a failed round is logged and the next one runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from coordination.alert_scan import ScanResult, run_alert_scan
from coordination.webhooks import Sender, deliver_due_webhooks, post_json
from data.schema.live import StatusThresholds

if TYPE_CHECKING:
    from data.store import Store

logger = logging.getLogger("oxyroute.alerts")


class AlertMonitor:
    """Run a scan and the due webhook attempts every ``interval_s`` seconds in a daemon thread.

    Parameters
    ----------
    store
        The registry store.
    clock
        The present instant (aware); the app's, so tests control it.
    interval_s
        Seconds between rounds (default 60).
    sender
        Posts a webhook (default :func:`coordination.webhooks.post_json`).
    thresholds_by_province
        Provinces' own status thresholds (:func:`coordination.alert_scan.thresholds_of_regions`).
    """

    def __init__(
        self,
        store: Store,
        clock: Callable[[], dt.datetime],
        *,
        interval_s: float = 60.0,
        sender: Sender = post_json,
        thresholds_by_province: Mapping[str, StatusThresholds] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s: must be above 0 seconds, got {interval_s}")
        self.store = store
        self.clock = clock
        self.interval_s = interval_s
        self.sender = sender
        self.thresholds_by_province = thresholds_by_province
        self.rounds = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> ScanResult:
        """Run one round now (scan, then webhooks) and return the scan's result."""
        at = self.clock()
        result = run_alert_scan(
            self.store, at, thresholds_by_province=self.thresholds_by_province, actor="monitor"
        )
        deliver_due_webhooks(self.store, at, sender=self.sender)
        self.rounds += 1
        return result

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a broken round must not end the monitor; the next one retries
                logger.exception("alert monitor round failed")
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="oxyroute-alerts", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the thread to stop and wait for its current round to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
