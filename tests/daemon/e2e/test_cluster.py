"""Three validator processes on loopback, driven through the HTTP API (issue 5's tests).

Processes are the point here: keygen and signing cross libp2p between real nodes,
shares survive a restart in each node's own store, and a killed node makes a session
fail cleanly while the others keep serving. Every signature is checked with an
independent library (coincurve for ECDSA and BIP340, PyNaCl for Ed25519).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import coincurve
import pytest
from nacl.signing import VerifyKey

from daemon.prime_pool import GENERATOR_NICENESS
from daemon.sessions.workers import BACKGROUND_NICENESS, HEAVY_NICENESS
from tests.daemon.e2e.cluster import Cluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with Cluster(tmp_path_factory.mktemp("cluster"), nodes=3) as c:
        yield c


def ecdsa_verifies(result: dict, message: bytes, hasher) -> None:
    public = coincurve.PublicKey(bytes.fromhex(result["public_key"]))
    assert public.verify(bytes.fromhex(result["der"]), message, hasher=hasher)
    compact = bytes.fromhex(result["signature"])
    recovered = coincurve.PublicKey.from_signature_and_message(
        compact + bytes([result["recovery_id"]]), message, hasher=hasher)
    assert recovered.format() == public.format()
    assert hasher(message) == bytes.fromhex(result["digest"])


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@pytest.mark.parametrize("threshold", [1, 2])
def test_ecdsa_keygen_and_sign_through_http(cluster, threshold):
    key = cluster.client(1).keygen(scheme="ecdsa", curve="secp256k1", threshold=threshold)
    assert key["threshold"] == threshold and len(key["participants"]) == 3
    for node in (1, 2, 3):   # every node knows the key and the same public key
        assert cluster.client(node).key(key["key_id"])["public_key"] == key["public_key"]
    message = f"pay 1 BTC, t={threshold}".encode()
    signed = cluster.client(2).sign(key["key_id"], message=message, hash="sha256")
    assert signed["public_key"] == key["public_key"]
    ecdsa_verifies(signed, message, sha256)
    players = [0, 2] if threshold == 1 else [0, 1, 2]
    child = cluster.client(3).sign(key["key_id"], digest=sha256(b"raw"), path="m/0/7", players=players)
    assert child["public_key"] == cluster.client(1).public_key(key["key_id"], path="m/0/7")["public_key"]
    assert coincurve.PublicKey(bytes.fromhex(child["public_key"])).verify(
        bytes.fromhex(child["der"]), sha256(b"raw"), hasher=None)


def test_ed25519_and_bip340_keys_sign_through_http(cluster):
    ed = cluster.client(1).keygen(scheme="eddsa", curve="ed25519", threshold=1)
    signed = cluster.client(3).sign(ed["key_id"], message=b"hello ed25519", hash="none")
    VerifyKey(bytes.fromhex(signed["public_key"])).verify(b"hello ed25519", bytes.fromhex(signed["signature"]))
    bip = cluster.client(2).keygen(scheme="schnorr", curve="secp256k1", threshold=1)
    digest = sha256(b"taproot spend")
    signed = cluster.client(1).sign(bip["key_id"], digest=digest)
    xonly = coincurve.PublicKeyXOnly(bytes.fromhex(signed["public_key"]))
    assert xonly.verify(bytes.fromhex(signed["signature"]), digest)


def test_seed_endpoints_start_and_validators(cluster):
    client = cluster.client(1)
    validators = client.validators()
    assert sorted(v["index"] for v in validators) == [0, 1, 2]
    assert {v["peer_id"] for v in validators} == {n.peer_id for n in cluster.nodes}
    session = client.wait_session(client.start_keygen(), timeout=60)
    assert session["state"] == "done" and session["public_key"]
    assert cluster.client(2).key(session["key_id"])["public_key"] == session["public_key"]


def test_a_restarted_node_signs_with_its_stored_share(cluster):
    key = cluster.client(1).keygen(scheme="ecdsa", curve="secp256k1", threshold=2)
    cluster.stop(2)
    cluster.start(2)
    signed = cluster.client(2).sign(key["key_id"], message=b"after restart", hash="sha256d")
    ecdsa_verifies(signed, b"after restart", lambda m: sha256(sha256(m)))


def test_a_killed_node_fails_its_session_and_the_others_keep_serving(tmp_path):
    with Cluster(tmp_path, nodes=3, keygen_timeout=15.0, session_timeout=10.0) as c:
        survivors_key = c.client(1).keygen(scheme="ecdsa", curve="secp256k1", threshold=1)
        session_id = c.client(1).start_keygen(threshold=1)
        workers = c.children(3)
        assert workers, "a node runs its protocol rounds and prime search in worker processes"
        # The prime search takes only CPU nothing else wants, presigning yields to a keygen,
        # and heavy rounds yield to signing.
        niceness = {_niceness(pid) for pid in workers}
        assert {GENERATOR_NICENESS, BACKGROUND_NICENESS, HEAVY_NICENESS, 0} <= niceness, niceness
        c.kill(3)
        view = c.client(1).wait_session(session_id, timeout=40)
        # Within the keygen timeout (15 s), with a reason a user can act on.
        assert view["state"] == "failed", view
        assert view["error"]["type"] in ("session_timeout", "peer_unreachable"), view
        assert view["error"]["message"]
        # A SIGKILLed node leaves no worker processes behind.
        assert all(_exits(pid, within=10) for pid in workers)
        assert c.client(2).health()["status"] == "ok"
        survivors = [c.nodes[0].peer_id, c.nodes[1].peer_id]
        signed = c.client(2).sign(survivors_key["key_id"], message=b"still up", hash="sha256", players=survivors)
        ecdsa_verifies(signed, b"still up", sha256)


def _niceness(pid: int) -> int:
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[16])


def _exits(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
        if state == "Z":   # exited, waiting for init to reap it
            return True
        time.sleep(0.2)
    return False
