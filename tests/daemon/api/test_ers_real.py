"""Emergency recovery through the real nodes' HTTP APIs (in-process cluster, real stores and sessions).

Five validators with enable_ers_export (and the test recovery key in ers_allowed_keys) make
3-of-5 keys (ECDSA by CGGMP21, Ed25519 by FROST); each node's API gives its partial through the SDK; the partials combine, validate against the
public key the node shows, and recover offline to a key that signs outside tssnet. A node
without the option, or asked for a recovery key it does not list, answers 403 and, like
every refused request, leaves every store unchanged. Every export is logged at WARNING.
"""

from __future__ import annotations

import logging

import coincurve
import pytest
import requests

from daemon import client as sdk
from daemon.api import create_app
from daemon.service import KeygenRequest
from tests.daemon.api.real_node import RealNode
from tests.daemon.api.support import API_KEY, AUTH, MAX_BODY, LiveServer
from tests.daemon.sessions.harness import Cluster
from tests.protocol.ers.helpers import LABEL, ed25519_sign_raw, ers_private, ers_public
from tests.protocol.frost.helpers import ed25519_verifies

KEYS = (KeygenRequest(scheme="ecdsa", threshold=2, key_id="cmp-3of5"),
        KeygenRequest(scheme="eddsa", threshold=2, key_id="ed-3of5"))


class EveryNodeServed(LiveServer):
    """Every node of an in-process cluster behind its own API (``urls[i]``)."""

    def __init__(self, n: int, keys, **config) -> None:
        super().__init__()
        self.cluster = Cluster(n, **config)
        self._keys = keys
        self.urls: list[str] = []
        self._runners = []

    async def _start(self) -> None:
        await self.cluster.__aenter__()
        first = self.cluster.services[0]
        for request in self._keys:
            view = await first.wait_session(await first.start_keygen(request), 120)
            assert view.state == "done", view
        for service in self.cluster.services:
            await self._serve(create_app(service, api_keys=(API_KEY,), max_body_bytes=MAX_BODY))
            self._runners.append(self._runner)
            self.urls.append(self.url)

    async def _stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        await self.cluster.__aexit__(None, None, None)


@pytest.fixture(scope="module")
def nodes():
    with EveryNodeServed(5, KEYS, enable_ers_export=True, ers_allowed_keys=(ers_public().fingerprint.hex(),)) \
            as served:
        yield served


def _partials(nodes, key_id: str, which) -> list[dict]:
    public = ers_public().to_json()
    return [sdk.Client(nodes.urls[i], API_KEY).ers_partial(key_id, public, LABEL) for i in which]


@pytest.mark.parametrize("which", [(0, 1, 2), (4, 2, 3), (0, 1, 2, 3, 4)])
def test_ecdsa_3_of_5_recovers_from_partials_over_http(nodes, which):
    key = sdk.Client(nodes.urls[0], API_KEY).key("cmp-3of5")
    partials = _partials(nodes, "cmp-3of5", which)
    assert sorted(p["holder"] for p in partials) == sorted(key["participants"][p["index"] - 1]
                                                           for p in partials)
    data = sdk.recovery_info_combine([{"partial": p} for p in partials], ers_public().to_json(), LABEL)
    assert sdk.recovery_info_validate(data, ers_public().to_json(), LABEL, key["public_key"]) is True
    answer = sdk.recover_key(data, ers_private().to_json(), LABEL)
    assert answer["chain_code"] == key["chain_code"]
    private = coincurve.PrivateKey(bytes.fromhex(answer["private_key"]))
    assert private.public_key.format().hex() == key["public_key"]
    assert coincurve.PublicKey(bytes.fromhex(key["public_key"])).verify(private.sign(b"m"), b"m")
    child = sdk.Client(nodes.urls[1], API_KEY).public_key("cmp-3of5", path="m/1/2")
    assert sdk.recovered_public_key(answer, scheme="ecdsa", path="m/1/2") == child["public_key"]
    child_private = coincurve.PrivateKey(bytes.fromhex(
        sdk.recovered_private_key(answer, scheme="ecdsa", path="m/1/2")))
    assert child_private.public_key.format().hex() == child["public_key"]


def test_ed25519_3_of_5_recovers_and_signs_for_pynacl(nodes, caplog):
    key = sdk.Client(nodes.urls[0], API_KEY).key("ed-3of5")
    with caplog.at_level(logging.WARNING, logger="tssnet.ers"):
        data = sdk.recovery_info_combine(_partials(nodes, "ed-3of5", (1, 3, 4)), ers_public(), LABEL)
    exports = [r.getMessage() for r in caplog.records if "emergency-recovery export" in r.getMessage()]
    assert len(exports) == 3
    assert all("ed-3of5" in m and ers_public().fingerprint.hex() in m and repr(LABEL) in m for m in exports)
    sdk.recovery_info_validate(data, ers_public(), LABEL, key["public_key"], chain_code=key["chain_code"])
    answer = sdk.recover_key(data, ers_private(), LABEL, key["public_key"])
    assert (answer["key_id"], answer["scheme"], answer["public_key"]) == ("ed-3of5", "eddsa", key["public_key"])
    public, signature = ed25519_sign_raw(bytes.fromhex(answer["private_key"]), b"after the disaster")
    assert public.hex() == key["public_key"]
    assert ed25519_verifies(public, b"after the disaster", signature)
    ours = sdk.sign_with_recovered_key(answer, b"signed by the sdk")
    assert ed25519_verifies(public, b"signed by the sdk", ours)
    child = sdk.Client(nodes.urls[2], API_KEY).public_key("ed-3of5", path="m/9")["public_key"]
    assert ed25519_verifies(bytes.fromhex(child), b"child", sdk.sign_with_recovered_key(answer, b"child",
                                                                                          path="m/9"))


def test_a_validator_with_a_bad_proof_is_named_by_its_peer_id(nodes):
    partials = _partials(nodes, "ed-3of5", (0, 1, 2))
    partials[1]["proof"] = partials[2]["proof"]
    with pytest.raises(sdk.ErsError) as caught:
        sdk.recovery_info_combine(partials, ers_public(), LABEL)
    assert caught.value.kind == "bad_proof" and caught.value.holder == partials[1]["holder"]
    assert partials[1]["holder"] in str(caught.value)


def test_bad_requests_leave_every_store_unchanged(nodes):
    async def dump():
        return [await node.dump() for node in nodes.cluster.nodes]
    before = nodes.call(dump())
    # The allowed key's numbers with another key's proof: allowed by fingerprint, refused by its proof.
    tampered = dict(ers_public().to_json(), mod_proof=ers_public(1).to_json()["mod_proof"])
    for body, status in (({"ers_public_key": tampered, "label": LABEL}, 400),
                         ({"ers_public_key": ers_public().to_json(), "label": ""}, 400)):
        response = requests.post(nodes.urls[0] + "/v1/keys/cmp-3of5/ers/partial", json=body, headers=AUTH,
                                 timeout=60)
        assert response.status_code == status, response.text
    response = requests.post(nodes.urls[0] + "/v1/keys/nope/ers/partial",
                             json={"ers_public_key": ers_public().to_json(), "label": LABEL}, headers=AUTH,
                             timeout=60)
    assert response.status_code == 404 and response.json()["error"]["type"] == "key_id_not_exists"
    # A recovery key of the client's own (well formed, proofs and all) but not in ers_allowed_keys.
    response = requests.post(nodes.urls[0] + "/v1/keys/cmp-3of5/ers/partial",
                             json={"ers_public_key": ers_public(1).to_json(), "label": LABEL}, headers=AUTH,
                             timeout=60)
    assert response.status_code == 403 and response.json()["error"]["type"] == "ers_key_not_allowed"
    assert nodes.call(dump()) == before


def test_a_node_without_ers_export_answers_403_and_changes_nothing():
    with RealNode(keys=(KeygenRequest(scheme="eddsa", threshold=1, key_id="k1"),)) as node:
        before = node.stores()
        response = requests.post(node.url + "/v1/keys/k1/ers/partial",
                                 json={"ers_public_key": ers_public().to_json(), "label": LABEL},
                                 headers=AUTH, timeout=60)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["type"] == "ers_export_disabled"
        assert node.stores() == before
