import pytest

from tests.daemon.sessions.fixtures import make_ecdsa_key


@pytest.fixture(scope="session")
def ecdsa_key(tmp_path_factory):
    """(directory of 3 node stores holding the 1-of-3 ECDSA key "k1", its keygen SessionView)."""
    return make_ecdsa_key(tmp_path_factory)
