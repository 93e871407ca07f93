"""FROST (RFC 9591): distributed keygen, two-round threshold Schnorr signing, refresh.

Layout, as in ZcashFoundation/frost:

* ``ciphersuite`` (the interface), ``ed25519``, ``secp256k1`` (RFC suites) and
  ``bip340`` (Taproot: x-only keys, even-y hooks, BIP341 key-path tweak); ``suites``
  looks them up by name.
* ``nonces`` (secret, single-use signing nonces) and ``core`` (the RFC's pure
  functions: binding factors, group commitment, challenge, signature shares,
  aggregation), used by the state machines and by the RFC test vectors alike.
* ``tweak``: the key a signature verifies under (HD child, even-y, Taproot).
* ``shares``: the records a party keeps and the protocols output.
* ``keygen`` (Pedersen DKG), ``sign``, ``refresh``: round state machines, one round
  per ``*_roundN`` module; ``common`` holds their session tags and Feldman checks.
* ``single_key``: signing with a whole (recovered) raw scalar.
"""
