"""Sessions: running the multi-party protocols between validators (see ``engine``)."""

from daemon.sessions.engine import SessionEngine

__all__ = ["SessionEngine"]
