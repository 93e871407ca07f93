"""Logging for the node: one line per event, plain or JSON, to stderr.

Nothing secret is ever passed to a logger (shares, seeds, keys are redacted in their
reprs and never formatted into messages); this module only decides the shape.
"""

from __future__ import annotations

import json
import logging
import time

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"))


def setup(level: str = "info", *, as_json: bool = False, name: str | None = None) -> None:
    handler = logging.StreamHandler()
    if as_json:
        handler.setFormatter(JsonFormatter())
    else:
        prefix = f"{name} " if name else ""
        formatter = logging.Formatter(f"%(asctime)s.%(msecs)03d {prefix}%(levelname)s %(name)s: %(message)s",
                                      "%H:%M:%S")
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS[level])
    # libp2p and aiohttp's access log are chatty at info; their warnings still show.
    for noisy in ("libp2p", "multiaddr", "aiohttp.access", "async_service"):
        logging.getLogger(noisy).setLevel(max(LEVELS[level], logging.WARNING))
