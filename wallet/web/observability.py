"""Request ids, structured (JSON) access logs and Prometheus-style metrics.

Every request gets an id (the caller's ``X-Request-ID`` if it is a sane token, else a new one), returned in the
response and written on every log line of that request, so one person's problem can be followed through the
logs. Logs name the route, never query strings or form fields (which could hold bank details). ``/metrics``
serves counters and a latency histogram in Prometheus' text format, to loopback callers or with the bearer token
``METRICS_TOKEN``.
"""
from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
import uuid
from collections import defaultdict
from decimal import Decimal

from flask import Flask, Response, current_app, g, has_request_context, request

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
log = logging.getLogger("wallet.access")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the request's id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        if has_request_context() and "request_id" in g:
            line["request_id"] = g.request_id
        for key in ("method", "route", "status", "duration_ms", "user"):
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS_MS) + 1))
        self.sum_us: dict[str, int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, micros: int) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            counts = self.buckets[route]
            for i, limit in enumerate(BUCKETS_MS):
                if micros <= limit * 1000:
                    counts[i] += 1
            counts[-1] += 1
            self.sum_us[route] += micros

    def render(self) -> str:
        out = ["# HELP wallet_http_requests_total Requests served, by method, route and status.",
               "# TYPE wallet_http_requests_total counter"]
        with self._lock:
            for (method, route, status), count in sorted(self.requests.items()):
                out.append(f'wallet_http_requests_total{{method="{method}",route="{route}",status="{status}"}} '
                           f"{count}")
            out += ["# HELP wallet_http_request_duration_seconds Time to first byte of the response.",
                    "# TYPE wallet_http_request_duration_seconds histogram"]
            for route, counts in sorted(self.buckets.items()):
                for limit, count in zip(BUCKETS_MS, counts):
                    le = Decimal(limit) / 1000
                    out.append(f'wallet_http_request_duration_seconds_bucket{{route="{route}",le="{le}"}} {count}')
                out.append(f'wallet_http_request_duration_seconds_bucket{{route="{route}",le="+Inf"}} {counts[-1]}')
                out.append(f'wallet_http_request_duration_seconds_sum{{route="{route}"}} '
                           f"{Decimal(self.sum_us[route]) / 1_000_000}")
                out.append(f'wallet_http_request_duration_seconds_count{{route="{route}"}} {counts[-1]}')
        return "\n".join(out) + "\n"


def init_app(app: Flask) -> None:
    metrics = Metrics()
    app.extensions["wallet.metrics"] = metrics
    if not app.config.get("TESTING"):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        for name in ("wallet.access", app.logger.name):
            logger = logging.getLogger(name)
            logger.handlers[:] = [handler]
            logger.setLevel(logging.INFO)
            logger.propagate = False

    @app.before_request
    def start() -> None:
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        g.started_ns = time.perf_counter_ns()

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        micros = (time.perf_counter_ns() - g.get("started_ns", time.perf_counter_ns())) // 1000
        route = request.url_rule.rule if request.url_rule else "(no route)"
        metrics.observe(request.method, route, response.status_code, micros)
        log.info("%s %s %s", request.method, route, response.status_code,
                 extra={"method": request.method, "route": route, "status": response.status_code,
                        "duration_ms": micros // 1000})
        return response

    @app.get("/metrics")
    def metrics_endpoint():
        token = current_app.config.get("METRICS_TOKEN")
        if token:
            offered = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(offered.encode(), str(token).encode()):
                return Response("forbidden\n", 403, mimetype="text/plain")
        elif request.remote_addr not in ("127.0.0.1", "::1"):
            return Response("forbidden\n", 403, mimetype="text/plain")
        return Response(metrics.render(), mimetype="text/plain; version=0.0.4")
