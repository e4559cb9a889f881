"""Post alerts to webhook subscriptions: signed JSON, retries with exponential backoff, a log.

A province points a subscription at its SMS or Zalo gateway; every new alert of its province
(and of the kinds it chose) is posted there as the JSON of :func:`coordination.alerts.alert_to_dict`
with these headers (docs/live-operations-alerts.md, "Webhooks"):

- ``X-Oxyroute-Timestamp``: Unix seconds when the attempt was signed;
- ``X-Oxyroute-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``<timestamp>.<body>`` with the
  subscription's secret (:func:`sign`); a receiver recomputes it, compares in constant time and
  refuses a timestamp more than 5 minutes from its clock (replay), see :func:`verify`;
- ``X-Oxyroute-Delivery``: ``<subscription>-<alert>-<attempt>``; ``X-Oxyroute-Event: alert``.

An answer 2xx delivers the alert. Anything else (another status, a timeout, a refused
connection) is retried after ``30 s x 2^(attempt - 1)``: 30 s, 1, 2, 4 and 8 min, so at most
:data:`MAX_ATTEMPTS` = 6 attempts over about 15.5 minutes. Every attempt is a row of
``webhook_deliveries``. Attempts are sent by :func:`deliver_due_webhooks`, called after each scan
by the command line and the server's monitor thread, never inside an HTTP request. Delivery is
at least once: a receiver may see an alert twice (same ``alert_id``) if it answered too slowly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coordination.alerts import alert_to_dict
from data.store.alerts import Alert, WebhookAttempt, WebhookSubscription

if TYPE_CHECKING:
    from data.store import Store

MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 30
SEND_TIMEOUT_S = 10.0
SIGNATURE_TOLERANCE_S = 300
"""A receiver refuses a signature whose timestamp is further than this from its own clock."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """The answer to one POST: the status code (None: no answer) and the error, if any."""

    status_code: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """Return whether the receiver accepted the alert (2xx)."""
        return self.status_code is not None and 200 <= self.status_code < 300


Sender = Callable[[str, bytes, Mapping[str, str]], SendResult]
"""``(url, body, headers) -> SendResult``; :func:`post_json` by default, injected in tests."""


def retry_delay_s(attempt: int) -> int:
    """Return the seconds to wait after failed attempt ``attempt`` (1-based) before the next.

    Examples
    --------
    >>> [retry_delay_s(n) for n in range(1, MAX_ATTEMPTS)]
    [30, 60, 120, 240, 480]
    """
    return int(BACKOFF_BASE_S * 2 ** (attempt - 1))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the ``X-Oxyroute-Signature`` of ``body`` sent at ``timestamp`` (Unix seconds)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: dt.datetime,
    tolerance_s: int = SIGNATURE_TOLERANCE_S,
) -> bool:
    """Return whether a received webhook is authentic and fresh (what a receiver does).

    ``timestamp`` and ``signature`` are the headers as received; ``body`` the raw bytes.
    """
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def post_json(url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
    """POST ``body`` to ``url`` with ``headers`` (timeout 10 s); never raises."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_S) as response:
            return SendResult(int(response.status))
    except urllib.error.HTTPError as error:
        return SendResult(int(error.code), f"HTTP {error.code}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        return SendResult(None, f"{type(error).__name__}: {error}")


def webhook_request(
    subscription: WebhookSubscription, alert: Alert, attempt: int, at: dt.datetime
) -> tuple[bytes, dict[str, str]]:
    """Return the body and headers of one attempt, signed at ``at``."""
    body = json.dumps(alert_to_dict(alert), ensure_ascii=False, sort_keys=True).encode("utf-8")
    timestamp = int(at.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "oxyroute-webhooks/1",
        "X-Oxyroute-Event": "alert",
        "X-Oxyroute-Delivery": f"{subscription.subscription_id}-{alert.alert_id}-{attempt}",
        "X-Oxyroute-Timestamp": str(timestamp),
        "X-Oxyroute-Signature": sign(subscription.secret, timestamp, body),
    }
    return body, headers


def deliver_due_webhooks(
    store: Store,
    at: dt.datetime,
    *,
    sender: Sender = post_json,
    province_code: str | None = None,
) -> list[WebhookAttempt]:
    """Send every attempt due at ``at`` and log each; return the attempts made.

    Due: a matching alert raised since the subscription began with no attempt yet, or one whose
    last attempt failed and whose retry time has come. After :data:`MAX_ATTEMPTS` failures an
    alert is given up for that subscription (its last row has no ``next_attempt_at``).
    """
    made = []
    for subscription in store.list_webhooks(province_code=province_code):
        for alert, attempt in store.pending_webhook_work(subscription, at=at):
            body, headers = webhook_request(subscription, alert, attempt, at)
            result = sender(subscription.url, body, headers)
            retry = None
            if not result.delivered and attempt < MAX_ATTEMPTS:
                retry = at + dt.timedelta(seconds=retry_delay_s(attempt))
            made.append(
                store.record_webhook_attempt(
                    subscription_id=subscription.subscription_id,
                    alert_id=alert.alert_id,
                    attempt=attempt,
                    status_code=result.status_code,
                    error=result.error
                    or (None if result.delivered else f"HTTP {result.status_code}"),
                    delivered=result.delivered,
                    next_attempt_at=retry,
                    attempted_at=at,
                )
            )
    return made
