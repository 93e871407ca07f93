"""CGGMP21 three-round presigning (eprint 2021/060, Fig. 7) for any t+1 signers of a t-of-n key.

    from protocol.cmp.presign import Presign, Presignature
    machine = Presign(key, signers, session_id, rng)     # key: CmpKey (dealer, or keygen + aux)
    # ... run among the signers (every machine behind a protocol.channel.Channel) ...
    presignature = machine.result                        # this party's single-use Presignature

Rounds (one module each): ``presign_round1`` (K_i, G_i, Π^enc), ``presign_round2``
(Γ_i and the MtA's with Π^aff-g and Π^log*), ``presign_round3`` (δ_i, Δ_i, S_i with
Π^log*, then the aggregate checks and the output). ``presign_identify`` is a fourth
round that runs only when an aggregate check fails and names the party that lied.
The key is shared additively among the signers with Lagrange coefficients
(w_i = λ_i·x_i, W_j = λ_j·X_j). ``material`` (a ``KeyMaterial``) lets a node keep
the key's Paillier and ring-Pedersen objects, and their tables, across sessions.

Every proof is checked, ciphertexts are validated as units, ranges are enforced by
the proofs; a failed check raises EncodingError or InvalidProof, which the round
machine turns into blame of the sender, and the channel into blame by every honest
party (``Round.verify`` re-runs any check from public data). The presignature is
single use: see ``protocol.cmp.presign_context``. Once the presignature is built, or
the session aborted (a blame, ``abandon()``), the machine keeps no ephemeral
secret: k_i, γ_i, their nonces, the MtA masks and witnesses, χ_i and w_i are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol.cmp import presign_round1
from protocol.cmp.presign_context import Context, KeyMaterial, Presignature
from protocol.cmp.shares import CmpKey
from protocol.machine import Machine, Transition
from protocol.params import DEFAULT_LEVEL, SecurityLevel
from protocol.rng import Rng


class Presign(Machine):
    """One party's presigning among ``signers``; ``result`` is its ``Presignature``.

    ``FullSign`` (``protocol.cmp.sign``) runs the same rounds and overrides ``_output``
    to sign with the presignature instead of returning it.
    """

    ROUNDS = 4  # three, plus the identification round after a failed aggregate check

    def __init__(self, key: CmpKey, signers: Sequence[int], session_id: bytes, rng: Rng,
                 level: SecurityLevel = DEFAULT_LEVEL, *, material: KeyMaterial | None = None) -> None:
        self._ctx: Context | None = Context(key, signers, session_id, rng, level, self._output,
                                            material)
        super().__init__(key.share.party, self._ctx.signers, self._ctx.group)
        self.context = self._ctx.context

    def _output(self, presignature: Presignature) -> Transition:
        """What the presignature leads to, once round 3 has built it: here, the result."""
        return Transition(result=presignature)

    def _begin(self) -> Transition:
        return presign_round1.begin(self._ctx)

    def _erase_secrets(self) -> None:
        # The rounds (which share the context) are already dropped; the context goes too,
        # with this party's key material.
        if self._ctx is not None:
            self._ctx.erase_secrets()
            self._ctx = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(party={self.party}, signers={list(self.parties)})"


__all__ = ["KeyMaterial", "Presign", "Presignature"]
