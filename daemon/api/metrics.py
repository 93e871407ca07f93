"""Prometheus metrics of one API instance, in its own registry (no process globals).

Requests are counted and timed per route template (``/v1/keys/{key_id}``, never the
raw path, so a scan of random URLs cannot grow the label set), method and status.
The node adds its own numbers through ``service_metrics``: a callable read at each
scrape that returns ``{metric name: value}`` (for example validators online or
presignatures ready), exported as gauges.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger("tssnet.api")

ServiceMetrics = Callable[[], Mapping[str, float]]
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 180.0)


class ApiMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, service_metrics: ServiceMetrics | None = None,
                 registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "tssnet_http_requests", "HTTP requests answered, by route template, method and status",
            ("route", "method", "status"), registry=self.registry)
        self.latency = Histogram(
            "tssnet_http_request_duration_seconds", "Time to answer an HTTP request",
            ("route", "method", "status"), buckets=LATENCY_BUCKETS, registry=self.registry)
        if service_metrics is not None:
            self.registry.register(_ServiceCollector(service_metrics))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        labels = (route, method, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _ServiceCollector(Collector):
    def __init__(self, read: ServiceMetrics) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            values = dict(self._read())
        except Exception:
            # A broken gauge must not take the request metrics down with it.
            log.exception("service metrics callback failed")
            return
        for name, value in sorted(values.items()):
            if not isinstance(name, str) or not _METRIC_NAME.fullmatch(name):
                log.warning("skipped service metric with an invalid name %r", name)
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                log.warning("skipped service metric %s with a non-numeric value", name)
                continue
            yield GaugeMetricFamily(name, f"node metric {name}", value=float(value))
