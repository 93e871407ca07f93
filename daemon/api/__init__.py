"""The node's HTTP API (aiohttp): JSON, API-key authentication, one error shape."""

from daemon.api.app import create_app
from daemon.api.metrics import ApiMetrics

__all__ = ["ApiMetrics", "create_app"]
