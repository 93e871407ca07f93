"""Zero-knowledge proofs of CGGMP21 (eprint 2021/060), one module per proof.

Each module exposes frozen ``Public`` (statement), ``Private`` (witness, redacted
repr) and ``Proof`` (a wire message) classes, ``prove(t, pub, priv, rng)`` and
``verify(t, pub, proof)``; ``verify`` returns None or raises ``InvalidProof``
naming the failed check. ``t`` is the caller's transcript already forked for the
prover; both functions work on a copy, so the caller's transcript is unchanged.
"""
