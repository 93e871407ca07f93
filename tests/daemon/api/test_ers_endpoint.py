"""POST /v1/keys/{id}/ers/partial over the fake service: 403 unless enabled and the ERS key is
allowed, 4xx for bad input, the answer's shape, and the SDK's call; the node's ``Exporter``
(allow-list first, one export at a time, verified keys cached by fingerprint, work in the
worker slots) with a stand-in engine; and the config options that guard it. That a refused
request changes no store is tested on real nodes (``test_ers_real``)."""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
from types import SimpleNamespace

import pytest

from daemon import config, ers_export
from daemon.client import ApiError, Client
from daemon.config import NodeConfig
from daemon.errors import BadRequest, Forbidden
from daemon.service import KeygenRequest
from protocol import ers, wire
from protocol.ers.keys import unverified_fingerprint
from tests.daemon.api.support import API_KEY, AUTH, LiveServer, run_with_client
from tests.protocol.ers.helpers import ers_public
from tests.protocol.frost.helpers import shares as frost_shares

PATH = "/v1/keys/k1/ers/partial"


def _key() -> dict:
    return ers_public().to_json()


def _fingerprint() -> str:
    return ers_public().fingerprint.hex()


async def _with_key(fake) -> None:
    await fake.start_keygen(KeygenRequest(scheme="eddsa", threshold=1, key_id="k1"))
    fake.ers_allowed_keys = (_fingerprint(),)


def _post(body, *, enabled: bool = True, path: str = PATH, raw: bytes | None = None, allowed=None):
    """(status, answer, service calls to ers_partial) of one request."""
    found = {}

    async def test(client, fake):
        await _with_key(fake)
        fake.ers_export_enabled = enabled
        if allowed is not None:
            fake.ers_allowed_keys = allowed
        data = raw if raw is not None else json.dumps(body).encode()
        response = await client.post(path, data=data, headers=AUTH)
        found.update(status=response.status, answer=await response.json(),
                     calls=[c for c in fake.calls if c[0] == "ers_partial"])
    run_with_client(test)
    return found


def test_a_good_request_answers_the_partial_and_passes_the_key_and_label():
    found = _post({"ers_public_key": _key(), "label": "L1"})
    assert found["status"] == 200, found["answer"]
    assert found["answer"]["partial"]["type"] == "tssnet-ers-partial"
    assert found["answer"]["partial"]["ers_key"] == _fingerprint()
    assert found["calls"] == [("ers_partial", ("k1", _key(), "L1"))]


def test_an_ers_key_not_in_the_allow_list_answers_403_naming_its_fingerprint():
    found = _post({"ers_public_key": _key(), "label": "L1"}, allowed=("ab" * 32,))
    assert found["status"] == 403
    assert found["answer"]["error"]["type"] == "ers_key_not_allowed"
    assert _fingerprint() in found["answer"]["error"]["message"]
    other = ers_public(1).to_json()
    found = _post({"ers_public_key": other, "label": "L1"})
    assert (found["status"], found["answer"]["error"]["type"]) == (403, "ers_key_not_allowed")


def test_a_node_without_ers_export_answers_403():
    found = _post({"ers_public_key": _key(), "label": "L1"}, enabled=False)
    assert found["status"] == 403
    assert found["answer"]["error"]["type"] == "ers_export_disabled"
    assert "enable_ers_export" in found["answer"]["error"]["message"]


def test_an_unknown_key_answers_404():
    found = _post({"ers_public_key": _key(), "label": "L1"}, path="/v1/keys/nope/ers/partial")
    assert found["status"] == 404 and found["answer"]["error"]["type"] == "key_id_not_exists"


def _tampered_key() -> dict:
    key = _key()
    key["s"], key["t"] = key["t"], key["s"]
    return key


BAD = [
    ({"label": "L1"}, "missing ers_public_key"),
    ({"ers_public_key": _key()}, "missing label"),
    ({"ers_public_key": _key(), "label": "L1", "extra": 1}, "unknown field"),
    ({"ers_public_key": "text", "label": "L1"}, "key not an object"),
    ({"ers_public_key": _key(), "label": ""}, "empty label"),
    ({"ers_public_key": _key(), "label": "é" * 129}, "label over 256 bytes"),
    ({"ers_public_key": _key(), "label": 7}, "label not a string"),
    ({"ers_public_key": {}, "label": "L1"}, "empty key"),
    ({"ers_public_key": {**_key(), "n": "zz"}, "label": "L1"}, "key with bad hex"),
    ({"ers_public_key": {**_key(), "version": 9}, "label": "L1"}, "key of another version"),
    ({"ers_public_key": {**_key(), "version": 1.0}, "label": "L1"}, "key of version 1.0"),
]


@pytest.mark.parametrize(("body", "why"), BAD, ids=[b[1] for b in BAD])
def test_bad_input_answers_400(body, why):
    found = _post(body)
    assert found["status"] == 400, (why, found["answer"])
    assert found["answer"]["error"]["type"] == "bad_request" and found["answer"]["error"]["message"]


def test_an_allowed_key_whose_proof_fails_answers_400_naming_the_proof():
    tampered = _tampered_key()
    found = _post({"ers_public_key": tampered, "label": "L1"},
                  allowed=(unverified_fingerprint(tampered).hex(),))
    assert found["status"] == 400
    assert "ers_public_key" in found["answer"]["error"]["message"]
    assert "prm" in found["answer"]["error"]["message"]


def test_no_body_or_a_query_is_400():
    assert _post(None, raw=b"")["status"] == 400
    assert _post({"ers_public_key": _key(), "label": "L1"}, path=PATH + "?x=1")["status"] == 400


def test_the_sdk_posts_the_key_object_and_returns_the_partial():
    with LiveServer() as server:
        server.call(_with_key(server.fake))
        client = Client(server.url, API_KEY)
        partial = client.ers_partial("k1", _key(), "L1")
        assert partial["index"] == 1 and partial["key_id"] == "k1"
        assert client.ers_partial("k1", json.dumps(_key()), "L1") == partial
        assert client.ers_partial("k1", ers_public(), "L1") == partial
        server.fake.ers_export_enabled = False
        with pytest.raises(ApiError) as caught:
            client.ers_partial("k1", _key(), "L1")
        assert (caught.value.status, caught.value.type) == (403, "ers_export_disabled")


# -- the node's exporter, with a stand-in engine ------------------------------------------------

class _Slots:
    """Runs each job inline as a worker slot would (``fn(owner, *args)``), noting what ran."""

    def __init__(self) -> None:
        self.jobs: list[str] = []
        self.running = 0
        self.most = 0

    async def call(self, route, fn, *args):
        assert route == ers_export.ROUTE
        self.jobs.append(fn.__name__)
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(0.01)      # let other exports try to run meanwhile
            return fn("owner", *args)
        finally:
            self.running -= 1


class _Keys:
    def __init__(self, shares: dict) -> None:
        self._shares = shares

    async def share(self, key_id):
        return self._shares.get(key_id)


def _exporter(allowed=None):
    share = frost_shares("ed25519", 3, 1)[2]
    config = NodeConfig(enable_ers_export=True, ers_allowed_keys=allowed or (_fingerprint(),))
    engine = SimpleNamespace(config=config, slots=_Slots(), keys=_Keys({"k1": wire.encode(share, share.group)}))
    record = SimpleNamespace(key_id="k1", scheme="eddsa")
    return ers_export.Exporter(engine, cache_size=1), engine, record, share


def test_the_exporter_verifies_an_ers_key_once_and_runs_one_export_at_a_time(caplog):
    exporter, engine, record, share = _exporter(allowed=(_fingerprint(), ers_public(1).fingerprint.hex()))

    async def three():
        fingerprint = exporter.check_request(_key())
        return await asyncio.gather(*(exporter.partial(record, _key(), fingerprint, f"L{i}", "peer")
                                      for i in range(3)))
    with caplog.at_level(logging.WARNING, logger="tssnet.ers"):
        answers = asyncio.run(three())
    assert engine.slots.jobs == ["verify_job", "partial_job", "partial_job", "partial_job"]
    assert engine.slots.most == 1
    for i, answer in enumerate(answers):
        assert ers.verify_partial(answer, ers_public(), f"L{i}").entry.index == share.party
    exports = [r for r in caplog.records if "emergency-recovery export" in r.getMessage()]
    assert len(exports) == 3 and all(r.levelno == logging.WARNING for r in exports)
    assert "k1" in exports[0].getMessage() and _fingerprint() in exports[0].getMessage()
    assert "'L0'" in exports[0].getMessage() and format(int(share.secret), "x") not in caplog.text
    # The same fingerprint with other (failing) proofs is verified again, and refused.
    bad = dict(_key(), mod_proof=ers_public(1).to_json()["mod_proof"])
    with pytest.raises(BadRequest, match="mod"):
        asyncio.run(exporter.partial(record, bad, _fingerprint(), "L", "peer"))
    # A second key pushes the first out of a cache of one: the first is verified again.
    engine.slots.jobs.clear()
    asyncio.run(exporter.partial(record, ers_public(1).to_json(), ers_public(1).fingerprint.hex(), "L", "peer"))
    asyncio.run(exporter.partial(record, _key(), _fingerprint(), "L", "peer"))
    assert engine.slots.jobs == ["verify_job", "partial_job", "verify_job", "partial_job"]


def test_what_crosses_into_a_worker_process_pickles():
    # Production slots are processes: the jobs go by name, the verified key by value.
    assert pickle.loads(pickle.dumps(ers_public())) == ers_public()
    assert pickle.loads(pickle.dumps(ers_export.partial_job)) is ers_export.partial_job
    assert pickle.loads(pickle.dumps(ers_export.verify_job)) is ers_export.verify_job


def test_the_exporter_refuses_before_any_work():
    exporter, engine, _, _ = _exporter(allowed=("ab" * 32,))
    with pytest.raises(Forbidden) as caught:
        exporter.check_request(_key())
    assert caught.value.type == "ers_key_not_allowed" and engine.slots.jobs == []
    with pytest.raises(BadRequest, match="ers_public_key"):
        exporter.check_request({"n": "1"})


def test_enable_ers_export_without_allowed_keys_is_refused_at_config_load():
    with pytest.raises(BadRequest, match="enable_ers_export needs ers_allowed_keys"):
        config.load(environ={"TSSNET_ENABLE_ERS_EXPORT": "true"})
    with pytest.raises(BadRequest, match="not an ERS key fingerprint"):
        config.load(environ={"TSSNET_ERS_ALLOWED_KEYS": "abc"})
    loaded = config.load(environ={"TSSNET_ENABLE_ERS_EXPORT": "true",
                                  "TSSNET_ERS_ALLOWED_KEYS": f"{_fingerprint()},{'AB' * 32}"})
    assert loaded.ers_allowed_keys == (_fingerprint(), "AB" * 32)
    ers_export.check_allowed(loaded, "ab" * 32)      # fingerprints compare in either case
    assert config.load(environ={}).enable_ers_export is False


def test_the_allow_list_is_decided_from_n_s_t_before_any_proof_is_decoded(monkeypatch):
    def no_decoding(*_args, **_kwargs):
        raise AssertionError("a proof was decoded before the allow-list was checked")
    monkeypatch.setattr(ers.fields.wire, "decode", no_decoding)
    exporter, engine, _, _ = _exporter(allowed=("ab" * 32,))
    # Proofs that are not even base64 (up to megabytes in a real request): still a 403, not a 400.
    for junk in ("!" * 4096, "AAAA"):
        with pytest.raises(Forbidden) as caught:
            exporter.check_request(dict(_key(), mod_proof=junk, prm_proof=junk))
        assert caught.value.type == "ers_key_not_allowed" and engine.slots.jobs == []
