"""What only the Redis backend has: its key layout, its durability checks, its failures."""

from __future__ import annotations

import logging

import pytest
import redis

from daemon.errors import BadRequest, Unavailable
from daemon.store import redis as store_redis
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


def set_config(url: str, **settings: str) -> None:
    raw = redis.Redis.from_url(url)
    try:
        for name, value in settings.items():
            raw.config_set(name, value)
    finally:
        raw.close()


def tssnet_keys(url: str) -> list[bytes]:
    raw = redis.Redis.from_url(url)
    try:
        return list(raw.scan_iter(match=b"tssnet:*"))
    finally:
        raw.close()


@pytest.mark.parametrize("settings, says", [
    ({"appendonly": "no"}, "has appendonly no"),
    ({"appendfsync": "everysec"}, "appendfsync everysec"),
    ({"appendfsync": "no"}, "appendfsync no"),
])
def test_a_server_that_could_lose_acknowledged_writes_is_refused(redis_instance, settings, says):
    set_config(redis_instance.url, **settings)
    with pytest.raises(Unavailable) as caught:
        RedisStore(redis_instance.url, "refused")
    assert says in caught.value.message and caught.value.status == 503
    assert "appendonly yes and appendfsync always" in caught.value.message   # what to change
    assert tssnet_keys(redis_instance.url) == []        # refused before writing anything


def test_a_server_that_refuses_config_get_is_refused(redis_instance):
    raw = redis.Redis.from_url(redis_instance.url)
    raw.execute_command("ACL", "SETUSER", "node", "on", ">s3cret-pw", "~*", "&*", "+@all", "-config")
    raw.close()
    url = f"redis://node:s3cret-pw@127.0.0.1:{redis_instance.port}/0"
    with pytest.raises(Unavailable, match="refuses CONFIG GET") as caught:
        RedisStore(url, "refused")
    assert "+config|get" in caught.value.message and "7.2" in caught.value.message
    assert "s3cret-pw" not in caught.value.message


def test_a_server_that_hides_its_version_is_checked_by_its_configuration(redis_instance):
    raw = redis.Redis.from_url(redis_instance.url)
    raw.execute_command("ACL", "SETUSER", "node", "on", ">pw", "~*", "&*", "+@all", "-info")
    raw.close()
    url = f"redis://node:pw@127.0.0.1:{redis_instance.port}/0"
    kv = RedisStore(url, "no-info")
    kv.write({"k": b"v"})
    assert kv.get("k") == b"v"
    kv.close()
    set_config(redis_instance.url, appendfsync="everysec")
    with pytest.raises(Unavailable, match="appendfsync everysec"):
        RedisStore(url, "no-info")


def test_a_durable_server_opens_quietly(redis_server, caplog):
    with caplog.at_level(logging.INFO, logger="tssnet.store"):
        RedisStore(redis_server, "quiet").close()
    assert [r.levelno for r in caplog.records] == [logging.INFO]   # says how writes are kept
    assert "appendfsync always" in caplog.text or "WAITAOF" in caplog.text


# This machine's redis-server is 7.0, which has no WAITAOF. The tests below make the
# store take it for 7.2 and answer its WAITAOF with a script that returns what
# WAITAOF would, run on the same connection right after EXEC, as WAITAOF is.

def waitaof_answering(local: int) -> tuple:
    return ("EVAL", f"redis.call('INCR', KEYS[1]) return {{{local}, 0}}", 1, "waitaof-calls")


@pytest.fixture
def redis_72(redis_instance, monkeypatch):
    monkeypatch.setattr(RedisStore, "_server_version", lambda self: (7, 2))
    return redis_instance


def waitaof_calls(url: str) -> int:
    raw = redis.Redis.from_url(url)
    try:
        return int(raw.get("waitaof-calls") or 0)
    finally:
        raw.close()


def test_on_72_every_write_and_take_waits_for_the_disk(redis_72, monkeypatch, caplog):
    monkeypatch.setattr(store_redis, "_WAITAOF", waitaof_answering(1))
    set_config(redis_72.url, appendfsync="everysec")   # fine with WAITAOF: writes wait for the fsync
    with caplog.at_level(logging.INFO, logger="tssnet.store"):
        kv = RedisStore(redis_72.url, "waitaof")
    assert "confirmed on disk with WAITAOF" in caplog.text
    opened = waitaof_calls(redis_72.url)
    kv.write({"presig/1": b"p", "share": b"s"})
    assert kv.take("presig/1") == b"p"
    assert kv.take("presig/1") is None
    kv.write(deletes=["share"])
    kv.write()                                          # an empty batch writes nothing to confirm
    assert kv.scan("") == [] and kv.get("share") is None
    assert waitaof_calls(redis_72.url) - opened == 4
    kv.close()


def test_on_72_a_write_the_disk_did_not_confirm_is_unavailable(redis_72, monkeypatch):
    monkeypatch.setattr(store_redis, "_WAITAOF", waitaof_answering(1))
    kv = RedisStore(redis_72.url, "unconfirmed")
    monkeypatch.setattr(store_redis, "_WAITAOF", waitaof_answering(0))
    with pytest.raises(Unavailable, match="did not confirm .* that the write reached its disk"):
        kv.write({"k": b"v"})
    with pytest.raises(Unavailable, match="did not confirm"):
        kv.take("k")
    kv.close()


def test_on_72_a_server_that_cannot_confirm_is_refused(redis_72):
    # The real 7.0 server answers WAITAOF with an error, as 7.2 does with appendonly no.
    with pytest.raises(Unavailable, match="cannot confirm writes on disk .*; set appendonly yes"):
        RedisStore(redis_72.url, "refused")
    assert tssnet_keys(redis_72.url) == []


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


def test_an_acl_user_limited_to_its_namespace_works_there_and_nowhere_else(redis_instance):
    """The per-node ACL user that daemon.store's docstring tells operators to create."""
    raw = redis.Redis.from_url(redis_instance.url)
    raw.execute_command("ACL", "SETUSER", "node-a", "on", ">pw-a", "~tssnet:node-a", "~tssnet:node-a:*",
                        "+@read", "+@write", "+@transaction", "+@connection", "+info", "+config|get")
    raw.set(b"tssnet:node-b:share", b"another node's record")
    raw.close()
    url = f"redis://node-a:pw-a@127.0.0.1:{redis_instance.port}/0"
    own = RedisStore(url, "node-a")
    own.write({"share": b"mine"})
    assert own.take("share") == b"mine"
    own.close()
    other = RedisStore(url, "node-b")          # opens (no key touched yet), then refused
    for operation in (lambda: other.get("share"), lambda: other.write({"share": b"x"}),
                      lambda: other.take("share"), lambda: other.scan("")):
        with pytest.raises(Unavailable, match="refused a command") as caught:
            operation()
        assert "pw-a" not in caught.value.message
    other.close()
    raw = redis.Redis.from_url(redis_instance.url)
    assert raw.get(b"tssnet:node-b:share") == b"another node's record"
    raw.close()
