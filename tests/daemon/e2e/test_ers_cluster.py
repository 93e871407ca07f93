"""Emergency recovery across three validator processes (2-of-3), through HTTP and the CLI.

Each node's own process encrypts its share (read from its sealed store) to the recovery key;
``tssnet ers partial`` fetches two of them, ``combine``, ``validate`` and ``recover`` run on
files, and the recovered keys sign outside tssnet: coincurve for the ECDSA key, an RFC 8032
raw-scalar signer on libsodium for the Ed25519 key, verified by PyNaCl and cryptography.
"""

from __future__ import annotations

import json

import coincurve
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.signing import VerifyKey

from daemon.cli import main
from protocol.ers.keys import PUBLIC_TYPE
from tests.daemon.e2e.cluster import Cluster
from tests.protocol.ers.helpers import ed25519_sign_raw, ers_private, ers_public
from tests.protocol.frost.helpers import ed25519_verifies

pytestmark = pytest.mark.slow
LABEL = "e2e/2026"


def test_two_of_three_keys_recover_from_partials_of_real_nodes(tmp_path, capsys):
    (tmp_path / "ers_public.json").write_text(json.dumps(ers_public().to_json()))
    private = tmp_path / "ers_private.json"
    private.write_text(json.dumps(ers_private().to_json()))
    private.chmod(0o600)
    assert json.loads((tmp_path / "ers_public.json").read_text())["type"] == PUBLIC_TYPE
    with Cluster(tmp_path / "cluster", nodes=3, enable_ers_export=True,
                 ers_allowed_keys=[ers_public().fingerprint.hex()]) as cluster:
        ecdsa = cluster.client(1).keygen(scheme="ecdsa", curve="secp256k1", threshold=1)
        ed = cluster.client(2).keygen(scheme="eddsa", curve="ed25519", threshold=1)
        files = []
        for node in (3, 1):
            out = tmp_path / f"partial-{node}.json"
            assert main(["ers", "partial", "--node", cluster.nodes[node - 1].url, "--api-key", cluster.api_key,
                         "--key", ecdsa["key_id"], "--ers-public", str(tmp_path / "ers_public.json"),
                         "--label", LABEL, "--out", str(out)]) == 0, capsys.readouterr().err
            files.append(str(out))
        ed_partials = [cluster.client(node).ers_partial(ed["key_id"], ers_public().to_json(), LABEL)
                       for node in (1, 2)]
    # The cluster is gone: everything below uses files and the offline key only.
    recovery = tmp_path / "recovery.json"
    assert main(["ers", "combine", "--ers-public", str(tmp_path / "ers_public.json"), "--label", LABEL,
                 "--out", str(recovery), *files]) == 0
    assert main(["ers", "validate", "--ers-public", str(tmp_path / "ers_public.json"), "--label", LABEL,
                 "--public-key", ecdsa["public_key"], str(recovery)]) == 0
    capsys.readouterr()
    assert main(["ers", "recover", "--ers-private", str(private), "--label", LABEL, "--public-key",
                 ecdsa["public_key"], str(recovery), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["curve"] == "secp256k1" and answer["chain_code"] == ecdsa["chain_code"]
    signer = coincurve.PrivateKey(bytes.fromhex(answer["private_key"]))
    assert coincurve.PublicKey(bytes.fromhex(ecdsa["public_key"])).verify(signer.sign(b"e2e"), b"e2e")

    from daemon.client import (
        recover_key,
        recovery_info_combine,
        recovery_info_validate,
        sign_with_recovered_key,
    )
    data = recovery_info_combine(ed_partials, ers_public().to_json(), LABEL)
    assert recovery_info_validate(data, ers_public().to_json(), LABEL, ed["public_key"])
    ed_key = recover_key(data, ers_private().to_json(), LABEL, ed["public_key"])
    public, signature = ed25519_sign_raw(bytes.fromhex(ed_key["private_key"]), b"e2e ed25519")
    assert public.hex() == ed["public_key"] and ed25519_verifies(public, b"e2e ed25519", signature)
    VerifyKey(bytes.fromhex(ed["public_key"])).verify(b"e2e ed25519", signature)                 # PyNaCl
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(ed["public_key"])).verify(signature, b"e2e ed25519")
    ours = sign_with_recovered_key(ed_key, b"e2e sdk")
    VerifyKey(bytes.fromhex(ed["public_key"])).verify(b"e2e sdk", ours)
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(ed["public_key"])).verify(ours, b"e2e sdk")
