"""The KVStore contract, run on both backends: SQLite and a real Redis server."""

from __future__ import annotations

import threading

import pytest

from daemon.config import NodeConfig
from daemon.errors import BadRequest
from daemon.store import open_store
from daemon.store.sqlite import SqliteStore


def test_get_put_delete(kv):
    assert kv.get("a") is None
    kv.write({"a": b"1", "b": b""})
    assert kv.get("a") == b"1" and kv.get("b") == b""
    kv.write({"a": b"2"})
    assert kv.get("a") == b"2"
    kv.write(deletes=["a", "never-there"])
    assert kv.get("a") is None and kv.get("b") == b""


def test_scan_is_sorted_and_keeps_to_its_prefix(kv):
    keys = ["key/10", "key/2", "key/1/share", "key/1", "kez", "key", "ke", "key0", "keys/x", "k\u00e9y/1"]
    kv.write({k: k.encode() for k in keys})
    assert kv.scan("key/") == [(k, k.encode()) for k in sorted(["key/10", "key/2", "key/1/share", "key/1"])]
    assert [k for k, _ in kv.scan("key")] == sorted(k for k in keys if k.startswith("key"))
    assert [k for k, _ in kv.scan("")] == sorted(keys)
    assert kv.scan("nothing/") == []


def test_keys_lists_what_scan_finds_without_the_values(kv):
    keys = ["presig/k/1", "presig/k/2", "presig/k0", "presig/j/1", "other"]
    kv.write({k: k.encode() * 100 for k in keys})
    for prefix in ("presig/k/", "presig/", "", "none/"):
        assert kv.keys(prefix) == [k for k, _ in kv.scan(prefix)]
    kv.write(deletes=["presig/k/1"])
    assert kv.keys("presig/k/") == ["presig/k/2"]


def test_scan_orders_by_utf8_bytes_on_both_backends(kv):
    keys = ["p/\u00e9", "p/z", "p/\U0001f600", "p/\uffff", "p/~", "p/A"]
    kv.write({k: b"" for k in keys})
    assert [k for k, _ in kv.scan("p/")] == sorted(keys, key=str.encode)


def test_keys_with_glob_characters_are_plain_keys(kv):
    keys = ["g/*", "g/?", "g/[ab]", "g/a", "g/b", "g/\\", "g/[", "g/^"]
    kv.write({k: k.encode() for k in keys})
    kv.write({"h*": b"other prefix", "g": b"shorter"})
    assert kv.scan("g/[") == [("g/[", b"g/["), ("g/[ab]", b"g/[ab]")]
    assert kv.scan("g/*") == [("g/*", b"g/*")]
    assert [k for k, _ in kv.scan("g/")] == sorted(keys)
    assert kv.take("g/?") == b"g/?" and kv.get("g/a") == b"g/a"


def test_namespaces_do_not_see_each_other(open_kv):
    a, b = open_kv("alpha"), open_kv("beta")
    a.write({"k/1": b"a"})
    b.write({"k/1": b"b", "k/2": b"b"})
    assert a.scan("") == [("k/1", b"a")]
    assert b.get("k/1") == b"b" and a.take("k/2") is None
    b.write(deletes=["k/1"])
    assert a.get("k/1") == b"a"


def test_a_batch_is_all_or_nothing(kv):
    kv.write({"x": b"old", "y": b"old"})
    with pytest.raises(TypeError):
        kv.write({"x": b"new", "z": "not bytes"}, deletes=["y"])
    with pytest.raises(ValueError):
        kv.write({"x": b"new"}, deletes=["x"])
    with pytest.raises(ValueError):
        kv.write({"x": b"new", "": b"empty key"})
    assert kv.scan("") == [("x", b"old"), ("y", b"old")]
    kv.write({"x": b"new", "z": b"z"}, deletes=["y"])
    assert kv.scan("") == [("x", b"new"), ("z", b"z")]


def test_take_returns_once(kv):
    kv.write({"presig/1": b"one"})
    assert kv.take("presig/1") == b"one"
    assert kv.take("presig/1") is None and kv.get("presig/1") is None
    assert kv.scan("presig/") == []


def test_take_is_exactly_once_across_concurrent_store_objects(open_kv):
    keys = [f"pool/{i:03d}" for i in range(120)]
    open_kv().write({k: k.encode() for k in keys})
    stores = [open_kv() for _ in range(3)]
    got: list[list[str]] = [[] for _ in stores]
    start = threading.Barrier(len(stores))

    def taker(index: int) -> None:
        start.wait()
        for key in keys:
            value = stores[index].take(key)
            if value is not None:
                assert value == key.encode()
                got[index].append(key)

    threads = [threading.Thread(target=taker, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [k for taken in got for k in taken]
    assert sorted(everything) == keys   # every key taken, none twice


@pytest.mark.parametrize("size", [1, 3 * 1024 * 1024 + 7])
def test_values_up_to_a_few_mib(kv, size):
    value = bytes(range(256)) * (size // 256) + b"\x00" * (size % 256)
    kv.write({"big": value})
    assert kv.get("big") == value
    assert kv.scan("big") == [("big", value)]
    assert kv.take("big") == value


def test_binary_values_round_trip(kv):
    value = bytes(range(256)) + b"\x00\xff\r\n"
    kv.write({"bin": value})
    assert kv.get("bin") == value


def test_empty_batch_changes_nothing(kv):
    kv.write({"a": b"1"})
    kv.write()
    assert kv.scan("") == [("a", b"1")]


def test_bad_namespace_is_refused(tmp_path):
    for namespace in ("", "a:b", "a*", "x" * 129):
        with pytest.raises(BadRequest):
            SqliteStore(tmp_path / "n.db", namespace)


def test_open_store_picks_sqlite_in_a_private_data_dir(tmp_path):
    config = NodeConfig(data_dir=tmp_path / "fresh" / "data")
    kv = open_store(config, "node")
    try:
        kv.write({"k": b"v"})
        assert (config.data_dir.stat().st_mode & 0o777) == 0o700
        for path in config.data_dir.iterdir():
            assert path.stat().st_mode & 0o077 == 0, f"{path.name} is open to others"
        assert (config.data_dir / "node.db").exists()
    finally:
        kv.close()
    reopened, other = open_store(config, "node"), open_store(config, "other")
    try:
        assert reopened.get("k") == b"v" and other.get("k") is None
    finally:
        reopened.close()
        other.close()


def test_open_store_picks_redis_when_configured(redis_server):
    kv = open_store(NodeConfig(redis_url=redis_server), "open-store-test")
    try:
        kv.write({"k": b"v"})
        assert type(kv).__name__ == "RedisStore" and kv.get("k") == b"v"
    finally:
        kv.write(deletes=["k"])
        kv.close()
