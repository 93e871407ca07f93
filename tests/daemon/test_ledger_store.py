"""KVLedgerStore: the ledger's own store tests, run over SQLite, and real restarts."""

from __future__ import annotations

import itertools

import pytest

from daemon.ledger_store import KVLedgerStore
from daemon.store.sqlite import SqliteStore
from ledger.replica import Replica
from protocol.errors import EncodingError
from tests.ledger import sim as sim_module
from tests.ledger import test_store as ledger_cases
from tests.ledger.helpers import make_config
from tests.ledger.scenario import register_key
from tests.ledger.sim import Simulation


class Files:
    """KVLedgerStores over SQLite files in ``tmp_path``, reopened from disk on demand."""

    def __init__(self, tmp_path) -> None:
        self._dir = tmp_path
        self._count = itertools.count()
        self._path_of: dict[int, object] = {}
        self._kvs: list[SqliteStore] = []

    def new(self) -> KVLedgerStore:
        return self.open(self._dir / f"replica-{next(self._count)}.db")

    def open(self, path) -> KVLedgerStore:
        kv = SqliteStore(path)
        self._kvs.append(kv)
        store = KVLedgerStore(kv)
        self._path_of[id(store)] = path
        return store

    def reopen(self, store: KVLedgerStore) -> KVLedgerStore:
        return self.open(self._path_of[id(store)])

    def close(self) -> None:
        for kv in self._kvs:
            kv.close()


@pytest.fixture
def files(tmp_path):
    files = Files(tmp_path)
    yield files
    files.close()


@pytest.fixture
def sqlite_ledgers(files, monkeypatch):
    """Every ledger test store is a KVLedgerStore over SQLite; a crash reopens it from disk."""
    monkeypatch.setattr(sim_module, "MemoryLedgerStore", files.new)
    monkeypatch.setattr(ledger_cases, "MemoryLedgerStore", files.new)
    crash = Simulation.crash

    def crash_and_reopen(self, name):
        crash(self, name)
        self.stores[name] = files.reopen(self.stores[name])

    monkeypatch.setattr(Simulation, "crash", crash_and_reopen)


@pytest.mark.parametrize("case", [
    ledger_cases.test_restarted_backup_never_prepares_a_second_block,
    ledger_cases.test_restarted_backup_never_commits_a_second_block,
    ledger_cases.test_restarted_primary_does_not_propose_again,
    ledger_cases.test_state_rebuilt_from_the_store,
], ids=lambda case: case.__name__)
def test_ledger_persistence_cases_over_sqlite(sqlite_ledgers, case):
    sim = Simulation(make_config(4), seed=3)   # as tests/ledger/test_store.py's fixture
    register_key(sim, "v1")
    assert all(isinstance(store, KVLedgerStore) for store in sim.stores.values())
    case(sim)


def test_ledger_store_contract_over_sqlite(sqlite_ledgers):
    ledger_cases.test_memory_store_contract()


def test_a_new_store_over_the_same_file_keeps_everything(files):
    store = files.new()
    for height in (1, 2, 3):
        store.put_block(height, b"block%d" % height, b"cert%d" % height)
    store.put_vote(10, 2, 1, b"v10")
    store.put_vote(9, 2, 3, b"v9")
    store.put_prepared(10, 2, b"p10")
    store.put_view(4, True)
    store.put_checkpoint(8, b"checkpoint proof")

    again = files.reopen(store)
    assert again.last_height() == 3
    assert [again.get_block(h) for h in (1, 2, 3, 4)] == [
        (b"block1", b"cert1"), (b"block2", b"cert2"), (b"block3", b"cert3"), None]
    assert again.votes() == [b"v9", b"v10"]          # in numeric order of seq, not text order
    assert again.prepared() == [(10, 2, b"p10")]
    assert again.get_view() == (4, True)
    assert again.get_checkpoint() == (8, b"checkpoint proof")
    with pytest.raises(ValueError):
        again.put_block(3, b"again", b"c")
    again.put_block(4, b"block4", b"cert4")
    assert again.last_height() == 4


def test_keys_sort_numerically(files):
    store = files.new()
    for seq in (100, 9, 10, 2, 1000):
        store.put_vote(seq, 1, 1, b"%d" % seq)
        store.put_prepared(seq, 1, b"%d" % seq)
    assert store.votes() == [b"2", b"9", b"10", b"100", b"1000"]
    assert [seq for seq, _, _ in store.prepared()] == [2, 9, 10, 100, 1000]


def test_prune_is_one_atomic_write(files):
    store = files.new()
    for seq in range(1, 13):
        store.put_vote(seq, 0, 1, b"v%d" % seq)
        store.put_vote(seq, 0, 2, b"w%d" % seq)
        store.put_prepared(seq, 0, b"p%d" % seq)
    batches = []
    real_write = store._kv.write
    store._kv.write = lambda puts={}, deletes=(): (batches.append(list(deletes)), real_write(puts, deletes))
    store.prune(10)
    assert len(batches) == 1 and len(batches[0]) == 30
    assert store.votes() == [b"v11", b"w11", b"v12", b"w12"]
    assert [seq for seq, _, _ in store.prepared()] == [11, 12]
    store.prune(10)
    assert len(batches) == 1     # nothing left to prune: no write at all


def test_a_lower_view_never_replaces_a_prepared_proof(files):
    store = files.new()
    store.put_prepared(5, 3, b"view 3")
    store.put_prepared(5, 2, b"view 2")
    assert store.prepared() == [(5, 3, b"view 3")]
    store.put_prepared(5, 4, b"view 4")
    assert files.reopen(store).prepared() == [(5, 4, b"view 4")]


def test_a_vote_for_the_same_slot_is_replaced_not_doubled(files):
    store = files.new()
    store.put_vote(3, 1, 2, b"first")
    store.put_vote(3, 1, 2, b"second")
    assert store.votes() == [b"second"]


def test_prefixes_keep_two_ledgers_apart(tmp_path):
    kv = SqliteStore(tmp_path / "node.db")
    a, b = KVLedgerStore(kv, "ledger/a/"), KVLedgerStore(kv, "ledger/b/")
    a.put_block(1, b"a1", b"c")
    b.put_vote(1, 0, 1, b"b-vote")
    assert b.last_height() == 0 and a.votes() == [] and b.votes() == [b"b-vote"]
    b.prune(5)
    a.put_vote(1, 0, 1, b"a-vote")
    assert a.votes() == [b"a-vote"] and b.votes() == []
    kv.close()


def test_out_of_range_numbers_are_refused(files):
    store = files.new()
    for bad in (-1, 2**63, True, 1.0):
        with pytest.raises(ValueError):
            store.put_vote(bad, 0, 1, b"v")
    with pytest.raises(ValueError):
        store.put_vote(1, 0, 256, b"v")
    assert store.get_block(0) is None and store.get_block(-1) is None and store.get_block(2**64) is None
    with pytest.raises(ValueError):
        store.put_block(0, b"b", b"c")


def test_a_damaged_record_is_an_encoding_error(files):
    store = files.new()
    store.put_view(2, False)
    store._kv.write({"ledger/view": b"\x93\x01\xcd\x05\x54\x00"})
    with pytest.raises(EncodingError):
        store.get_view()


def test_replicas_restart_from_reopened_files(sqlite_ledgers):
    sim = Simulation(make_config(4), seed=5)
    register_key(sim, "v0")
    before, height = sim.stores["v3"], sim.replicas["v3"].height
    assert height >= 1
    sim.crash("v3")
    sim.restart("v3")
    assert sim.stores["v3"] is not before     # a new store object, read back from the file
    assert isinstance(sim.replicas["v3"], Replica) and sim.replicas["v3"].height == height
