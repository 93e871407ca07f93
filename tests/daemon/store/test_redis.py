"""What only the Redis backend has: its key layout, its persistence check, its failures."""

from __future__ import annotations

import logging

import pytest
import redis

from daemon.errors import BadRequest, Unavailable
from daemon.store.redis import RedisStore, redacted_url
from tests.daemon.redis_fixture import _free_port


def test_keys_live_under_the_namespace_prefix(redis_server):
    kv = RedisStore(redis_server, "layout-test")
    raw = redis.Redis.from_url(redis_server)
    try:
        kv.write({"key/1/share": b"s", "a*b": b"g"})
        assert raw.get(b"tssnet:layout-test:key/1/share") == b"s"
        assert raw.get(b"tssnet:layout-test:a*b") == b"g"
        owned = set(raw.scan_iter(match=b"tssnet:layout-test*"))
        assert owned == {b"tssnet:layout-test", b"tssnet:layout-test:key/1/share",
                         b"tssnet:layout-test:a*b"}
        kv.write(deletes=["key/1/share", "a*b"])
        assert set(raw.scan_iter(match=b"tssnet:layout-test*")) == set()
    finally:
        raw.close()
        kv.close()


def test_persistence_off_is_a_warning_not_an_error(redis_instance, caplog):
    raw = redis.Redis.from_url(redis_instance.url)
    raw.config_set("appendonly", "no")
    raw.close()
    with caplog.at_level(logging.WARNING, logger="tssnet.store"):
        kv = RedisStore(redis_instance.url, "warned")
    kv.write({"still": b"works"})
    assert kv.get("still") == b"works"
    kv.close()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "appendonly off" in warnings[0].getMessage()
    assert "loses acknowledged state" in warnings[0].getMessage()


def test_periodic_fsync_is_a_warning_too(redis_instance, caplog):
    raw = redis.Redis.from_url(redis_instance.url)
    raw.config_set("appendfsync", "everysec")
    raw.close()
    with caplog.at_level(logging.WARNING, logger="tssnet.store"):
        RedisStore(redis_instance.url, "warned").close()
    assert "fsyncs its log only periodically" in caplog.text


def test_durable_server_gives_no_warning(redis_server, caplog):
    with caplog.at_level(logging.WARNING, logger="tssnet.store"):
        RedisStore(redis_server, "quiet").close()
    assert not caplog.records


def test_unreachable_server_is_unavailable_without_the_password():
    url = f"redis://user:hunter2@127.0.0.1:{_free_port()}/0"
    with pytest.raises(Unavailable) as caught:
        RedisStore(url, "node")
    assert "unreachable" in caught.value.message and "hunter2" not in caught.value.message
    assert caught.value.status == 503


def test_server_gone_after_open_is_unavailable(redis_instance):
    kv = RedisStore(redis_instance.url, "node")
    kv.write({"k": b"v"})
    redis_instance.kill()
    for operation in (lambda: kv.get("k"), lambda: kv.write({"k": b"w"}), lambda: kv.take("k"),
                      lambda: kv.scan("")):
        with pytest.raises(Unavailable):
            operation()
    kv.close()


def test_redacted_url_drops_credentials():
    assert redacted_url("redis://admin:secret@db.example:6380/2") == "redis://db.example:6380/2"
    assert redacted_url("unix:///run/redis.sock") == "unix:///run/redis.sock"
    assert redacted_url("redis://u:pw@host:99999") == "redis://host:<bad port>"


def test_a_malformed_url_is_a_bad_request():
    with pytest.raises(BadRequest):
        RedisStore("redis://host:notaport/0", "node")
