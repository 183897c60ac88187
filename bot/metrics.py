"""Prometheus metrics of one bot process, on a registry of its own (tests stay isolated).

Foundation code records updates, handler errors and the clock; feature code calls the plain
methods below (e.g. ``services.metrics.faq_answered()``) at its own call sites.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

OUTBOX_OUTCOMES = ("queued", "sent", "retried", "failed", "unreachable", "uncertain")
REMINDER_OUTCOMES = ("sent", "missed")
FAQ_FEEDBACK = ("helpful", "not_helpful")

# Update handling is mostly a few milliseconds; the long tail is database or Bot API trouble.
_UPDATE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_FAQ_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1)


class Metrics:
    """Every counter and histogram parkbot exports, with one method per thing to record."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.updates_received = Counter(
            "parkbot_updates_received", "Updates received, by update type", ["type"], registry=r
        )
        self.updates_handled = Counter(
            "parkbot_updates_handled",
            "Updates fully handled, by update type",
            ["type"],
            registry=r,
        )
        self.handler_errors = Counter(
            "parkbot_handler_errors",
            "Errors raised by handlers, by exception type",
            ["error"],
            registry=r,
        )
        self.update_seconds = Histogram(
            "parkbot_update_seconds",
            "Time to handle one update (including state load/save)",
            buckets=_UPDATE_BUCKETS,
            registry=r,
        )
        self.webhook_requests = Counter(
            "parkbot_webhook_requests", "Webhook POSTs, by HTTP status", ["status"], registry=r
        )
        self.faq_questions = Counter(
            "parkbot_faq_questions",
            "FAQ questions, answered or not covered",
            ["result"],
            registry=r,
        )
        self.faq_feedback_total = Counter(
            "parkbot_faq_feedback", "FAQ answer feedback from users", ["verdict"], registry=r
        )
        self.faq_match_seconds = Histogram(
            "parkbot_faq_match_seconds",
            "Time to match one question against the FAQ",
            buckets=_FAQ_BUCKETS,
            registry=r,
        )
        self.outbox_messages = Counter(
            "parkbot_outbox_messages",
            "Outbox deliveries by outcome and channel",
            ["outcome", "channel"],
            registry=r,
        )
        self.rate_limited_total = Counter(
            "parkbot_rate_limited",
            "429 Too Many Requests answers, by channel",
            ["channel"],
            registry=r,
        )
        self.retry_after_seconds = Counter(
            "parkbot_retry_after_seconds",
            "Total retry_after waited on 429s, by channel",
            ["channel"],
            registry=r,
        )
        self.reminders = Counter(
            "parkbot_reminders", "Quarterly reminders, sent or missed", ["outcome"], registry=r
        )
        self.clock_leader = Gauge(
            "parkbot_clock_leader", "1 while this process runs the clock", registry=r
        )
        self.clock_ticks = Counter(
            "parkbot_clock_ticks", "Clock ticks run by this process", registry=r
        )

    # ---- foundation -----------------------------------------------------------------------

    def update_received(self, kind: str) -> None:
        """Count one incoming update of kind (message, callback_query, …)."""
        self.updates_received.labels(kind).inc()

    def update_handled(self, kind: str, seconds: float) -> None:
        """Count one handled update and its handling time."""
        self.updates_handled.labels(kind).inc()
        self.update_seconds.observe(seconds)

    def handler_error(self, error: BaseException | str) -> None:
        """Count one handler error by its exception type."""
        name = error if isinstance(error, str) else type(error).__name__
        self.handler_errors.labels(name).inc()

    def webhook_request(self, status: int) -> None:
        """Count one webhook POST by the status we answered."""
        self.webhook_requests.labels(str(status)).inc()

    def set_clock_leader(self, leading: bool) -> None:
        """Record whether this process holds the clock."""
        self.clock_leader.set(1 if leading else 0)

    def clock_tick(self) -> None:
        """Count one tick this process ran."""
        self.clock_ticks.inc()

    # ---- FAQ -------------------------------------------------------------------------------

    def faq_answered(self) -> None:
        """Count a question the FAQ answered."""
        self.faq_questions.labels("answered").inc()

    def faq_not_covered(self) -> None:
        """Count a question the FAQ could not answer."""
        self.faq_questions.labels("not_covered").inc()

    def faq_feedback(self, helpful: bool) -> None:
        """Count one feedback button press on an FAQ answer."""
        self.faq_feedback_total.labels("helpful" if helpful else "not_helpful").inc()

    @contextmanager
    def faq_matching(self) -> Iterator[None]:
        """Time one FAQ match: ``with metrics.faq_matching(): engine.match(q)``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.faq_match_seconds.observe(time.perf_counter() - start)

    # ---- outbox and channels ---------------------------------------------------------------

    def outbox(self, outcome: str, *, channel: str = "telegram", count: int = 1) -> None:
        """Count outbox rows by outcome: queued, sent, retried, failed, unreachable, uncertain."""
        if outcome not in OUTBOX_OUTCOMES:
            raise ValueError(f"unknown outbox outcome {outcome!r}")
        self.outbox_messages.labels(outcome, channel).inc(count)

    def rate_limited(self, retry_after: float, *, channel: str = "telegram") -> None:
        """Count one 429 and the seconds it asked us to wait."""
        self.rate_limited_total.labels(channel).inc()
        self.retry_after_seconds.labels(channel).inc(max(0.0, retry_after))

    # ---- reminders -------------------------------------------------------------------------

    def reminder(self, outcome: str, *, count: int = 1) -> None:
        """Count reminders by outcome: sent, or missed (due but not sent in time)."""
        if outcome not in REMINDER_OUTCOMES:
            raise ValueError(f"unknown reminder outcome {outcome!r}")
        self.reminders.labels(outcome).inc(count)

    # ---- exposition ------------------------------------------------------------------------

    def render(self) -> tuple[bytes, str]:
        """Return the text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
