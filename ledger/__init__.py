"""PBFT consensus for the tssnet ledger, as a state machine with no I/O.

``replica.Replica`` is the entry point; the daemon feeds it transactions, peer
messages and timer expiries and moves what it returns. The other modules each
hold one part: blocks and their hashes (``block``), transactions (``txs``) and
the state they build (``state``), messages (``messages``), signatures
(``crypto``, ``certs``), the normal case (``agreement``), view changes
(``viewchange``, ``views``), checkpoints (``checkpoint``), state transfer
(``transfer``) and what must be persisted (``store``, ``votes``).
"""
