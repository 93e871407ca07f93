"""``tssnet ers``: keygen, partial, combine, validate and recover with files, end to end.

The key pair comes from ``tssnet ers keygen`` itself (its safe-prime search fed from the
committed test pool); partials are made by validators' key shares (and one through a node's
API); the recovered keys sign outside tssnet (coincurve, and libsodium for Ed25519).
"""

from __future__ import annotations

import functools
import json
import os
import stat

import coincurve
import pytest

from daemon.cli import main
from protocol import ers
from protocol.ers import keys
from protocol.primes import PrimePool
from protocol.rng import SeededRng
from tests.daemon.api.support import API_KEY, LiveServer
from tests.primepool import primes
from tests.protocol.ers.helpers import ERS_PAIRS, ed25519_sign_raw, public_key_hex, shares
from tests.protocol.frost.helpers import ed25519_verifies

LABEL = "cold-storage/2026"


@pytest.fixture(scope="module")
def ers_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ers") / "key"
    with pytest.MonkeyPatch.context() as patch:
        fast = functools.partial(keys.generate_keypair, prime_source=PrimePool(primes(ERS_PAIRS[0])))
        patch.setattr(ers, "generate_keypair", fast)
        assert main(["ers", "keygen", "--out", str(directory)]) == 0
    return directory


def _write(path, document) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def _partial_files(tmp_path, ers_dir, scheme: str, n: int, t: int, parties, *, wrap=False) -> list[str]:
    public = ers.load_public_key(json.loads((ers_dir / "ers_public.json").read_text()))
    files = []
    for p in parties:
        doc = ers.make_partial(shares(scheme, n, t)[p], public, LABEL, SeededRng(p)).to_json()
        files.append(_write(tmp_path / f"{scheme}-{p}.json", {"partial": doc} if wrap and p % 2 else doc))
    return files


def _combine(tmp_path, ers_dir, files, out="recovery.json", label=LABEL) -> tuple[int, str]:
    target = tmp_path / out
    code = main(["ers", "combine", "--ers-public", str(ers_dir / "ers_public.json"), "--label", label,
                 "--out", str(target), *files])
    return code, str(target)


def test_keygen_writes_a_public_file_and_a_private_file_for_the_owner_only(ers_dir, capsys):
    private = ers_dir / "ers_private.json"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    public = ers.load_public_key(json.loads((ers_dir / "ers_public.json").read_text()))
    assert ers.load_private_key(json.loads(private.read_text())).fingerprint == public.fingerprint
    assert main(["ers", "keygen", "--out", str(ers_dir)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    fingerprint = public.fingerprint.hex()
    assert (ers_dir / "ers_fingerprint.txt").read_text() == fingerprint + "\n"
    assert main(["ers", "fingerprint", str(ers_dir / "ers_public.json")]) == 0
    assert capsys.readouterr().out == fingerprint + "\n"
    tampered = json.loads((ers_dir / "ers_public.json").read_text())
    tampered["s"], tampered["t"] = tampered["t"], tampered["s"]
    assert main(["ers", "fingerprint", _write(ers_dir.parent / "tampered.json", tampered)]) == 1
    assert "invalid_ers_key" in capsys.readouterr().err


@pytest.mark.parametrize(("scheme", "n", "t", "parties"), [
    ("ecdsa", 3, 1, (1, 3)), ("ecdsa", 5, 2, (5, 1, 3)), ("eddsa", 3, 1, (3, 2)), ("eddsa", 5, 2, (5, 2, 4)),
    ("schnorr", 3, 1, (1, 2, 3)),
])
def test_combine_validate_recover_flow(tmp_path, ers_dir, capsys, scheme, n, t, parties):
    files = _partial_files(tmp_path, ers_dir, scheme, n, t, parties, wrap=True)
    code, data = _combine(tmp_path, ers_dir, files)
    assert code == 0, capsys.readouterr().err
    key = shares(scheme, n, t)[1]
    validate = ["ers", "validate", "--ers-public", str(ers_dir / "ers_public.json"), "--label", LABEL,
                "--public-key", public_key_hex(key), data]
    capsys.readouterr()
    assert main(validate) == 0
    assert "valid" in capsys.readouterr().out
    assert main([*validate, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"valid": True}
    assert main(["ers", "recover", "--ers-private", str(ers_dir / "ers_private.json"), "--label", LABEL,
                 "--public-key", public_key_hex(key), data, "--json"]) == 0
    captured = capsys.readouterr()
    answer = json.loads(captured.out)
    assert "whole private key" in captured.err and "warning" not in captured.err
    assert {"curve", "private_key", "chain_code"} <= set(answer) and answer["chain_code"] == key.chain_code.hex()
    assert (answer["key_id"], answer["scheme"], answer["public_key"]) == (key.key_id, scheme, public_key_hex(key))
    secret = bytes.fromhex(answer["private_key"])
    if scheme == "eddsa":
        public, signature = ed25519_sign_raw(secret, b"cli")
        assert public == key.verifying_key and ed25519_verifies(public, b"cli", signature)
    else:
        private = coincurve.PrivateKey(secret)
        assert private.public_key.format() == key.public_key.encode()
        assert coincurve.PublicKey(key.public_key.encode()).verify(private.sign(b"cli"), b"cli")


def test_validate_fails_with_exit_1_naming_the_check(tmp_path, ers_dir, capsys):
    files = _partial_files(tmp_path, ers_dir, "ecdsa", 3, 1, (1, 2))
    code, data = _combine(tmp_path, ers_dir, files)
    assert code == 0
    key = public_key_hex(shares("ecdsa", 3, 1)[1])
    base = ["ers", "validate", "--ers-public", str(ers_dir / "ers_public.json"), "--public-key", key]
    capsys.readouterr()
    assert main([*base, "--label", "wrong", data]) == 1
    assert "bad_proof" in capsys.readouterr().err
    assert main([*base, "--label", LABEL, "--json", data.replace("recovery", "nowhere")]) == 2
    doc = json.loads((tmp_path / "recovery.json").read_text())
    doc["partials"][1]["holder"] = "mallory"
    tampered = _write(tmp_path / "tampered.json", doc)
    capsys.readouterr()
    assert main([*base, "--label", LABEL, "--json", tampered]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False and out["error"]["type"] == "bad_proof"
    other_key = public_key_hex(shares("ecdsa", 3, 1, "other")[1])
    assert main(["ers", "validate", "--ers-public", str(ers_dir / "ers_public.json"), "--label", LABEL,
                 "--public-key", other_key, data]) == 1
    assert "key_mismatch" in capsys.readouterr().err


def test_combine_names_the_validator_with_a_bad_proof(tmp_path, ers_dir, capsys):
    files = _partial_files(tmp_path, ers_dir, "eddsa", 3, 1, (1, 2, 3))
    doc = json.loads((tmp_path / "eddsa-2.json").read_text())
    doc["proof"] = json.loads((tmp_path / "eddsa-3.json").read_text())["proof"]
    _write(tmp_path / "eddsa-2.json", doc)
    code, target = _combine(tmp_path, ers_dir, files)
    assert code == 1 and not os.path.exists(target)
    err = capsys.readouterr().err
    assert "bad_proof: the proof of partial 2 (claims validator 2)" in err
    assert f"[file {tmp_path / 'eddsa-2.json'}]" in err
    assert _combine(tmp_path, ers_dir, files[:1])[0] == 1
    assert "not_enough_partials" in capsys.readouterr().err


def test_combine_with_the_expected_key_names_the_foreign_partial_even_first(tmp_path, ers_dir, capsys):
    public = ers.load_public_key(json.loads((ers_dir / "ers_public.json").read_text()))
    foreign = ers.make_partial(shares("ecdsa", 3, 1, "other")[2], public, LABEL, SeededRng(7)).to_json()
    files = [_write(tmp_path / "foreign.json", foreign), *_partial_files(tmp_path, ers_dir, "ecdsa", 3, 1, (1,))]
    key = shares("ecdsa", 3, 1)[1]
    capsys.readouterr()
    code, target = _combine(tmp_path, ers_dir, files)
    err = capsys.readouterr().err
    assert code == 1 and "key_mismatch" in err and "neither is known to be the wrong one" in err
    assert "[file" not in err
    for flag, value in (("--public-key", public_key_hex(key)), ("--chain-code", key.chain_code.hex())):
        assert main(["ers", "combine", "--ers-public", str(ers_dir / "ers_public.json"), "--label", LABEL,
                     flag, value, "--out", target, *files]) == 1
        err = capsys.readouterr().err
        assert "key_mismatch" in err and f"[file {tmp_path / 'foreign.json'}]" in err
    assert not os.path.exists(target)


def test_recover_refuses_a_private_key_readable_by_others(tmp_path, ers_dir, capsys):
    files = _partial_files(tmp_path, ers_dir, "ecdsa", 3, 1, (2, 3))
    _, data = _combine(tmp_path, ers_dir, files)
    loose = tmp_path / "loose.json"
    loose.write_text((ers_dir / "ers_private.json").read_text())
    loose.chmod(0o644)
    capsys.readouterr()
    assert main(["ers", "recover", "--ers-private", str(loose), "--label", LABEL, data]) == 2
    assert "chmod 600" in capsys.readouterr().err
    loose.chmod(0o600)
    assert main(["ers", "recover", "--ers-private", str(loose), "--label", LABEL, data]) == 0
    captured = capsys.readouterr()
    assert "private_key" in captured.out
    # Without --public-key the recovered key was checked against nothing the caller gave: say so.
    key = public_key_hex(shares("ecdsa", 3, 1)[1])
    assert f"warning: the recovered key {key} was not checked against an expected public key" in captured.err
    assert main(["ers", "recover", "--ers-private", str(loose), "--label", LABEL, "--public-key", key, data]) == 0
    assert "not checked" not in capsys.readouterr().err
    assert main(["ers", "recover", "--ers-private", str(loose), "--label", "other", data]) == 1
    other = public_key_hex(shares("ecdsa", 3, 1, "other")[1])
    capsys.readouterr()
    assert main(["ers", "recover", "--ers-private", str(loose), "--label", LABEL, "--public-key", other, data]) == 1
    captured = capsys.readouterr()
    assert "key_mismatch" in captured.err and captured.out == ""


def test_partial_asks_a_node_and_saves_its_answer(tmp_path, ers_dir, capsys):
    from daemon.service import KeygenRequest
    public = ers.load_public_key(json.loads((ers_dir / "ers_public.json").read_text()))
    with LiveServer() as server:
        server.call(server.fake.start_keygen(KeygenRequest(scheme="eddsa", threshold=1, key_id="k1")))
        server.fake.ers_allowed_keys = ("ab" * 32,)
        capsys.readouterr()
        assert main(["ers", "partial", "--node", server.url, "--api-key", API_KEY, "--key", "k1",
                     "--ers-public", str(ers_dir / "ers_public.json"), "--label", LABEL,
                     "--out", str(tmp_path / "n.json")]) == 1
        assert "ers_key_not_allowed" in capsys.readouterr().err and not (tmp_path / "n.json").exists()
        server.fake.ers_allowed_keys = (public.fingerprint.hex(),)
        out = tmp_path / "p.json"
        assert main(["ers", "partial", "--node", server.url, "--api-key", API_KEY, "--key", "k1",
                     "--ers-public", str(ers_dir / "ers_public.json"), "--label", LABEL, "--out", str(out)]) == 0
        assert json.loads(out.read_text())["key_id"] == "k1"
        server.fake.ers_export_enabled = False
        capsys.readouterr()
        assert main(["ers", "partial", "--node", server.url, "--api-key", API_KEY, "--key", "k1",
                     "--ers-public", str(ers_dir / "ers_public.json"), "--label", LABEL,
                     "--out", str(tmp_path / "q.json")]) == 1
        assert "ers_export_disabled" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["keygen", "fingerprint", "partial", "combine", "validate", "recover"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["ers", command, "--help"])
    assert exc.value.code == 0
    assert "--label" in capsys.readouterr().out or command in ("keygen", "fingerprint")
