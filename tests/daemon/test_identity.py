"""The node identity: one persisted Ed25519 seed gives the peer id and the session signer.

How the seed file is written and checked is daemon.secret_file's (tests/daemon/test_secret_file.py);
here: that the identity uses it, and what it makes of the seed.
"""

import os
import pickle

import pytest
from libp2p.peer.id import ID

from daemon.errors import BadRequest
from daemon.identity import NodeIdentity, peer_id_of
from protocol.identity import Verifier

SEED = bytes(range(32))


def test_load_or_create_writes_a_0600_seed_file_and_reloads_the_same_peer_id(tmp_path):
    path = tmp_path / "node" / "identity.key"
    first = NodeIdentity.load_or_create(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert path.read_text().strip() == first.seed.hex()
    again = NodeIdentity.load_or_create(path)
    assert again == first
    assert again.peer_id == first.peer_id
    assert list(path.parent.iterdir()) == [path]


def test_two_new_identities_differ(tmp_path):
    assert NodeIdentity.load_or_create(tmp_path / "a").peer_id != NodeIdentity.load_or_create(tmp_path / "b").peer_id


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_seed_file_readable_by_others_is_refused(tmp_path, mode):
    path = tmp_path / "identity.key"
    identity = NodeIdentity.load_or_create(path)
    path.chmod(mode)
    with pytest.raises(BadRequest, match="identity file .* is open to group or others") as caught:
        NodeIdentity.load_or_create(path)
    assert "chmod 600" in caught.value.message and identity.seed.hex() not in caught.value.message


def test_a_seed_file_behind_a_symbolic_link_is_refused_and_left_alone(tmp_path):
    real = tmp_path / "real.key"
    identity = NodeIdentity.load_or_create(real)
    link = tmp_path / "identity.key"
    link.symlink_to(real)
    with pytest.raises(BadRequest, match="symbolic link"):
        NodeIdentity.load_or_create(link)
    assert link.is_symlink() and NodeIdentity.load_or_create(real) == identity


def test_a_dangling_symbolic_link_is_not_replaced_by_a_new_identity(tmp_path):
    link = tmp_path / "identity.key"
    link.symlink_to(tmp_path / "elsewhere.key")
    with pytest.raises(BadRequest):
        NodeIdentity.load_or_create(link)
    assert not (tmp_path / "elsewhere.key").exists()


@pytest.mark.parametrize("content", [b"", b"zz" * 32, SEED.hex()[:-2].encode(), (SEED + b"\x00").hex().encode(),
                                     b"\xff" * 64])
def test_a_malformed_seed_file_is_refused(tmp_path, content):
    path = tmp_path / "identity.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(BadRequest, match="exactly 64 hex characters"):
        NodeIdentity.load_or_create(path)
    assert path.read_bytes() == content   # a damaged identity is reported, never replaced


def test_repr_and_pickle_never_show_the_seed():
    identity = NodeIdentity.from_seed(SEED)
    assert SEED.hex() not in repr(identity)
    assert "redacted" in repr(identity)
    assert identity.peer_id in repr(identity)
    with pytest.raises(TypeError):
        pickle.dumps(identity)


def test_the_peer_id_is_libp2ps_id_of_the_same_key():
    identity = NodeIdentity.from_seed(SEED)
    key_pair = identity.libp2p_keypair()
    assert key_pair.public_key.to_bytes() == identity.public_key
    assert ID.from_pubkey(key_pair.public_key).to_base58() == identity.peer_id == peer_id_of(identity.public_key)
    assert ID.from_base58(identity.peer_id).extract_public_key().to_bytes() == identity.public_key


def test_the_signer_is_the_identity_key():
    identity = NodeIdentity.from_seed(SEED)
    signer = identity.signer()
    assert signer.public_key == identity.public_key
    verifier = Verifier(b"test")
    assert verifier.verify(identity.public_key, b"frame", signer.sign(b"test" + b"frame"))


def test_peer_id_of_refuses_what_is_not_an_ed25519_key():
    with pytest.raises(ValueError):
        peer_id_of(b"\x00" * 31)
    with pytest.raises(ValueError):
        peer_id_of(b"\x00" * 32)  # small order, not a valid identity key


def test_inconsistent_fields_are_refused():
    good = NodeIdentity.from_seed(SEED)
    other = NodeIdentity.from_seed(bytes(32))
    with pytest.raises(ValueError):
        NodeIdentity(seed=SEED, public_key=other.public_key, peer_id=other.peer_id)
    with pytest.raises(ValueError):
        NodeIdentity(seed=SEED, public_key=good.public_key, peer_id=other.peer_id)
    with pytest.raises(ValueError):
        NodeIdentity.from_seed(SEED[:31])
