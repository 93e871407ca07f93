"""Real committed blocks for tests of the ledger's HTTP views: four replicas of the
in-process simulation commit a keygen, a bridge signature and a validator change."""

from __future__ import annotations

from functools import cache

from daemon.ledger_wire import block_view
from ledger.block import Block
from ledger.messages import CommitCertificate, CommittedBlock
from protocol import wire
from tests.ledger.helpers import ecdsa_tx, keygen_tx, make_config, validator_tx
from tests.ledger.sim import Simulation


@cache
def committed_blocks() -> tuple[CommittedBlock, ...]:
    config = make_config(5)
    sim = Simulation(config, seed=7)
    keygen, secret = keygen_tx("view-key")
    for txs in ([keygen], [ecdsa_tx("view-key", secret, 1)], [validator_tx(remove=("v4",), config=config)]):
        count = len(sim.replicas["v0"].state.tx_hashes) + 1
        assert not sim.submit("v0", txs)
        assert sim.run(lambda count=count: sim.committed_everywhere(count), max_time=60.0)
    store = sim.stores["v0"]
    return tuple(CommittedBlock(wire.decode(store.get_block(h)[0], Block),
                                wire.decode(store.get_block(h)[1], CommitCertificate))
                 for h in range(1, sim.replicas["v0"].height + 1))


def block_views() -> list[dict]:
    return [block_view(c) for c in committed_blocks()]
