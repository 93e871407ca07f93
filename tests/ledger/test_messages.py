"""Ledger messages on the wire, and the signatures over them."""

from __future__ import annotations

import ast
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ledger
from ledger.block import make_block
from ledger.certs import open_signed, sign_body
from ledger.codec import OneOf, peek_type_id
from ledger.crypto import Ed25519Signer, Verifier, signing_prefix
from ledger.messages import (
    BODIES,
    Checkpoint,
    Commit,
    CommitCertificate,
    FetchBlocks,
    Prepare,
    PrePrepare,
    Signed,
    Status,
    TxBatch,
    ViewChange,
)
from protocol import wire
from protocol.errors import EncodingError, InvalidProof
from tests.ledger.helpers import signer

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
digests = st.binary(min_size=32, max_size=32)
counters = st.integers(0, 2**40)

bodies = st.one_of(
    st.builds(Prepare, counters, counters, digests, names),
    st.builds(Commit, counters, counters, digests, names),
    st.builds(Checkpoint, counters, digests, names),
    st.builds(Status, counters, counters, names),
    st.builds(FetchBlocks, counters, names),
    st.builds(TxBatch, st.lists(st.binary(max_size=64), min_size=1, max_size=5).map(tuple), names),
    st.builds(lambda h, txs, who: PrePrepare(0, h, make_block(h, bytes(32), 7, who, txs), who),
              st.integers(1, 2**40), st.lists(st.binary(max_size=40), min_size=1, max_size=4), names),
    st.builds(lambda v, h, who: ViewChange(v, h, CommitCertificate(0, h, bytes(32), (b"x",)), (), who),
              counters, st.integers(1, 2**40), names),
)


@settings(max_examples=150)
@given(bodies)
def test_messages_round_trip(body):
    data = wire.encode(body)
    assert BODIES.decode(data) == body
    assert peek_type_id(data) == type(body).__wire_type_id__


@settings(max_examples=100)
@given(body=bodies, chain=names)
def test_signature_binds_chain_and_content(body, chain):
    me = signer("v1")
    data = sign_body(body, me.sign, signing_prefix(chain))
    keys = {body.replica: me.public_key}
    assert open_signed(data, Verifier(chain), keys) == body
    with pytest.raises(InvalidProof):
        open_signed(data, Verifier(chain + "-other"), keys)
    with pytest.raises(InvalidProof):
        open_signed(data, Verifier(chain), {body.replica: signer("v2").public_key})


def test_signed_envelope_is_strict():
    me = signer("v1")
    data = sign_body(Status(1, 2, "v1"), me.sign, signing_prefix("c"))
    signed = wire.decode(data, Signed)
    with pytest.raises(EncodingError):
        wire.decode(data + b"\x00", Signed)
    with pytest.raises(EncodingError):
        open_signed(wire.encode(Signed(b"\x93\x01\x02", signed.signature)), Verifier("c"), {})
    with pytest.raises(EncodingError):
        OneOf([Status]).decode(wire.encode(FetchBlocks(1, "v1")))
    with pytest.raises(EncodingError):
        peek_type_id(b"\x91\x01")


def test_signer_and_verifier():
    a = Ed25519Signer("a", b"\x01" * 32)
    assert "01" not in repr(a)
    v = Verifier("c")
    sig = a.sign(v.prefix + b"m")
    assert v.verify(a.public_key, b"m", sig)
    assert not v.verify(a.public_key, b"n", sig)
    assert not v.verify(bytes(32), b"m", sig)  # not a usable key
    assert not v.verify(a.public_key, b"m", sig[:-1])


FORBIDDEN = {"asyncio", "trio", "sqlite3", "redis", "libp2p", "aiohttp", "socket", "threading",
             "time", "datetime", "random", "os", "subprocess", "select", "selectors"}


def test_ledger_imports_no_io_or_clock():
    """The ledger is a pure state machine: no event loop, storage engine, network or clock."""
    for path in pathlib.Path(ledger.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & FORBIDDEN, f"{path.name} imports {roots & FORBIDDEN}"
