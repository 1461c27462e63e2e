"""Prometheus metrics (`prometheus-client`), served at /metrics without a key.

Two kinds of figure:
- counted by the processes that serve: taps by outcome, request latency per route. With several
  workers each process counts its own and `/metrics` sums them: `ledger serve` points
  PROMETHEUS_MULTIPROC_DIR at a fresh folder before any worker starts (the library's
  multi-process mode), so whichever worker a scrape lands on answers for all of them.
- read from the database at each scrape: the log's head, the projection's position and lag,
  quarantined events, job runs by outcome, the seal's age. They are the database's, so every
  process answers the same, and they survive restarts.

Privacy: no label carries an ID. Routes are labelled by their template
(`/v1/workers/{technician_id}/records`), never by the path asked; a path that matched no route
is labelled `unmatched`. Every figure is an aggregate, so the endpoint needs no key, like the
readiness probe's counts (which name quarantined events' workers: /metrics does not).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger import clock
from ledger.application import Ledger
from projections.jobs.seal import last_seal
from projections.quarantine import quarantined
from projections.store import ReadStore

if TYPE_CHECKING:  # api.reading loads the read pool, which this module need not
    from api.reading import ReplicaHealth

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
TAP_OUTCOMES = ("accepted", "duplicate", "conflict", "flagged", "rejected")

TAPS = Counter("ledger_taps", "Taps answered by POST /v1/taps, by outcome", ["outcome"])
REQUEST_SECONDS = Histogram(
    "ledger_http_request_duration_seconds", "HTTP request latency, by route template",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def count_taps(outcomes: Iterable[str]) -> None:
    for outcome in outcomes:
        TAPS.labels(outcome).inc()


class RequestMetrics:
    """ASGI middleware: each HTTP request's latency, labelled by the route template it matched."""

    def __init__(self, app: ASGIApp, prefix: str = "") -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = self.route_of(scope)
            REQUEST_SECONDS.labels(scope["method"], route, str(status[0])).observe(
                time.perf_counter() - started)


    def route_of(self, scope: Scope) -> str:
        template = getattr(scope.get("route"), "path", None)
        if template is None:
            return "unmatched"  # never the path asked: it may hold an ID
        # A route of a router included under the prefix names its template without it.
        if (self.prefix and scope["path"].startswith(self.prefix + "/")
                and not template.startswith(self.prefix + "/")):
            return f"{self.prefix}{template}"
        return str(template)


class DatabaseFigures(Collector):
    """Figures read from the database at each scrape."""

    def __init__(self, ledger: Ledger, store: ReadStore,
                 replicas: Sequence[ReplicaHealth] = ()) -> None:
        self.ledger, self.store, self.replicas = ledger, store, replicas

    def collect(self) -> Iterator[Metric]:
        # Imported here: api.reading imports the read pool, which the module need not load.
        from api.reading import projection_lag

        lag = projection_lag(self.ledger, self.store)
        yield GaugeMetricFamily("ledger_log_position", "Position of the last event recorded",
                                value=lag.log_position)
        yield GaugeMetricFamily("ledger_projection_position",
                                "Position the read models have projected",
                                value=lag.projection_position)
        yield GaugeMetricFamily("ledger_projection_lag_events",
                                "Events recorded and not yet projected", value=lag.events)
        yield GaugeMetricFamily("ledger_projection_lag_seconds",
                                "Age of the oldest event not yet projected", value=lag.seconds)
        with self.store.read() as tx:
            held = len(quarantined(tx))
            runs = tx.execute("SELECT job, outcome, COUNT(*) FROM job_runs GROUP BY job, outcome")
        yield GaugeMetricFamily("ledger_quarantined_events",
                                "Events the projection could not project", value=held)
        job_runs = CounterMetricFamily("ledger_job_runs", "Job runs recorded, by job and outcome",
                                       labels=["job", "outcome"])
        for job, outcome, count in runs:
            job_runs.add_metric([job, outcome], int(count))
        yield job_runs
        if self.replicas:
            yield from self.replica_figures()
        head = last_seal(self.store)
        if head is not None:
            # A day's seal is due once the day (JST) has ended: its age runs from then.
            ended = datetime.combine(head.day + timedelta(days=1), datetime.min.time(),
                                     clock.JST).astimezone(UTC)
            yield GaugeMetricFamily("ledger_seal_age_seconds",
                                    "Time since the end of the last sealed day (JST)",
                                    value=max((clock.now() - ended).total_seconds(), 0.0))


    def replica_figures(self) -> Iterator[Metric]:
        read_from = GaugeMetricFamily(
            "ledger_read_replica_read_from",
            "1 while queries read this replica (within its lag bound), else 0", labels=["replica"])
        lag = GaugeMetricFamily("ledger_read_replica_lag_seconds",
                                "Last measured replay lag of the replica", labels=["replica"])
        for replica in self.replicas:
            read_from.add_metric([str(replica.number)], 1 if replica.state == "read" else 0)
            if replica.lag_seconds is not None:
                lag.add_metric([str(replica.number)], replica.lag_seconds)
        yield read_from
        yield lag


def exposition(ledger: Ledger, store: ReadStore,
               replicas: Sequence[ReplicaHealth] = ()) -> bytes:
    """The text format of every figure: this process's (or, in multi-process mode, every
    worker's) counters and the database's figures."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseFigures(ledger, store, replicas))
    return body + generate_latest(database)
