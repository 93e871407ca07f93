"""The worker side on its own: sessions driven by plain bytes, strangers ignored, abandon reports."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace

from daemon.sessions import messages as m
from daemon.sessions import worker
from daemon.sessions.machines import Job
from protocol import wire
from protocol.frost.shares import FrostKeyShare
from protocol.identity import Ed25519Signer

PARTIES = (1, 2, 3)
SEEDS = {p: hashlib.sha256(b"worker test %d" % p).digest() for p in PARTIES}
KEYS = tuple(Ed25519Signer(SEEDS[p]).public_key for p in PARTIES)


def _owners(tag: str) -> dict[int, str]:
    owners = {p: f"{tag}-{p}" for p in PARTIES}
    for p, owner in owners.items():
        worker.init(owner, SEEDS[p])
    return owners


def _job(party: int, session_id: str) -> Job:
    return Job(session_id=session_id, protocol=m.FROST_KEYGEN, party=party, parties=PARTIES,
               identity_keys=KEYS, key_id="wk", threshold=1, suite="ed25519")


def _route(steps: dict[int, worker.Step]) -> dict[int, list]:
    inbox: dict[int, list] = {p: [] for p in PARTIES}
    for sender, step in steps.items():
        for phase, recipient, body in step.sends:
            for r in (PARTIES if recipient is None else (recipient,)):
                if r != sender:
                    inbox[r].append((sender, phase, body))
    return inbox


def test_a_keygen_runs_to_the_end_through_bytes_only():
    owners = _owners("run")
    sid = "ab" * 16
    steps = {p: worker.open_session(owners[p], _job(p, sid)) for p in PARTIES}
    done = {}
    while len(done) < len(PARTIES):
        inbox = _route(steps)
        assert any(inbox.values()), "the session stalled"
        steps = {p: worker.deliver(owners[p], sid, inbox[p]) for p in PARTIES if p not in done}
        done.update({p: s for p, s in steps.items() if s.state == "done"})
        assert all(s.state != "failed" for s in steps.values())
    shares = {p: wire.decode(s.output.secret, FrostKeyShare) for p, s in done.items()}
    assert {s.public_key.encode() for s in shares.values()} == {done[1].output.public}
    assert "secret" not in repr(done[1].output) and "secret" not in repr(_job(1, sid))
    for owner in owners.values():
        worker.drop_owner(owner)


def test_strangers_and_unknown_phases_are_ignored_and_abandon_names_the_silent():
    owners = _owners("abandon")
    sid = "cd" * 16
    steps = {p: worker.open_session(owners[p], _job(p, sid)) for p in (1, 2)}
    frames = _route(steps)[1]
    from_two = [f for f in frames if f[0] == 2]
    step = worker.deliver(owners[1], sid, [(9, 0, b"x"), (2, 3, b"y")] + from_two)
    assert step.state == "running" and step.missing == (3,)
    abandoned = worker.abandon(owners[1], sid, "timeout")
    assert (abandoned.state, abandoned.round, abandoned.missing) == ("failed", 1, (3,))
    assert worker.deliver(owners[1], sid, from_two).state == "failed"   # gone after abandon
    for owner in owners.values():
        worker.drop_owner(owner)


def test_a_run_left_past_its_deadline_is_dropped_at_the_next_call():
    owners = _owners("deadline")
    late, fresh = "ef" * 16, "12" * 16
    worker.open_session(owners[1], replace(_job(1, late), deadline=time.time() - worker.DEADLINE_GRACE - 1))
    assert late in worker._OWNERS[owners[1]].runs
    worker.open_session(owners[1], replace(_job(1, fresh), deadline=time.time() + 60))
    assert list(worker._OWNERS[owners[1]].runs) == [fresh]
    for owner in owners.values():
        worker.drop_owner(owner)
