"""The HTTP API over the real LocalNodeService (in-process cluster), not only the fake.

Every bad request of the table is a 400 that leaves every node's store byte for byte
as it was; the fake answers what the real service answers where the two could differ;
a keygen whose players leave out the called node still answers the new key.
"""

import pytest
import requests

from daemon.service import KeygenRequest
from tests.daemon.api.fake_service import PEERS
from tests.daemon.api.real_node import RealNode
from tests.daemon.api.support import AUTH, LiveServer
from tests.daemon.api.test_errors import BAD_REQUESTS

#: an existing key, so that requests naming it get past "no such key"
K1 = KeygenRequest(scheme="eddsa", threshold=1, key_id="k1")


@pytest.fixture(scope="module")
def real():
    with RealNode(keys=(K1,)) as node:
        yield node


@pytest.fixture(scope="module")
def fake():
    with LiveServer() as server:
        server.call(server.fake.start_keygen(K1))
        yield server


@pytest.mark.parametrize(("method", "path", "body", "why"), BAD_REQUESTS, ids=[case[3] for case in BAD_REQUESTS])
def test_bad_input_is_400_and_leaves_the_real_nodes_stores_unchanged(real, method, path, body, why):
    before = real.stores()
    response = requests.request(method, real.url + path, data=body, headers=AUTH, timeout=30)
    assert response.status_code == 400, (why, response.text)
    error = response.json()["error"]
    assert error["type"] == "bad_request" and error["message"]
    assert real.stores() == before


MEANING_ERRORS = [
    # (method, path, JSON body): well-formed, but naming validators that are not there, too few
    # players, or what the key's scheme cannot do
    ("POST", "/v1/keys", {"scheme": "ecdsa", "threshold": 1, "players": [0, 7]}),
    ("POST", "/v1/keys", {"scheme": "ecdsa", "threshold": 1, "players": [0, "12D3KooWNobody"]}),
    ("POST", "/v1/keys", {"scheme": "eddsa", "threshold": 1, "players": [0]}),
    ("POST", "/v1/keys", {"scheme": "eddsa", "threshold": 2, "players": [0, 1]}),
    ("POST", "/direct-message?id=7", {"roundId": "r1", "message": "hi"}),
    ("POST", "/direct-message?id=12D3KooWNobody", {"roundId": "r1", "message": "hi"}),
    ("POST", "/v1/keys/k1/sign", {"message": "00", "hash": "none", "players": [0, 7]}),
    ("POST", "/v1/keys/k1/sign", {"digest": "00" * 32}),
    ("POST", "/v1/keys/k1/sign", {"message": "00", "hash": "sha256"}),
    ("POST", "/v1/keys/k1/presign", {"count": 1}),
]


@pytest.mark.parametrize(("method", "path", "body"), MEANING_ERRORS)
def test_the_fake_refuses_what_the_real_service_refuses_with_the_same_answer(real, fake, method, path, body):
    before = real.stores()
    answers = [requests.request(method, server.url + path, json=body, headers=AUTH, timeout=30)
               for server in (real, fake)]
    assert [a.status_code for a in answers] == [400, 400], [a.text for a in answers]
    assert [a.json()["error"]["type"] for a in answers] == ["bad_request", "bad_request"]
    assert real.stores() == before


def test_a_key_exists_conflict_is_409_on_both():
    with RealNode(keys=(K1,)) as real, LiveServer() as fake:
        fake.call(fake.fake.start_keygen(K1))
        for server in (real, fake):
            response = requests.post(server.url + "/v1/keys", json={"scheme": "eddsa", "threshold": 1,
                                                                    "key_id": "k1"}, headers=AUTH, timeout=30)
            assert response.status_code == 409
            assert response.json()["error"]["type"] == "key_id_exists"


def test_a_keygen_that_leaves_the_called_node_out_answers_the_key_it_coordinated():
    with RealNode(serve=2) as real:
        response = requests.post(real.url + "/v1/keys", json={"scheme": "eddsa", "threshold": 1,
                                                              "players": [0, 1], "key_id": "theirs"},
                                 headers=AUTH, timeout=60)
        assert response.status_code == 201, response.text
        key = response.json()
        holder = real.call(real.cluster.services[0].key("theirs"))
        assert key["key_id"] == "theirs" and key["public_key"] == holder.public_key
        assert key["participants"] == list(holder.participants)
        assert (key["scheme"], key["curve"], key["threshold"]) == ("eddsa", "ed25519", 1)


def test_the_fake_answers_a_coordinated_key_the_same_way(fake):
    response = requests.post(fake.url + "/v1/keys", json={"scheme": "schnorr", "threshold": 1,
                                                          "players": [1, 2], "key_id": "outside"},
                             headers=AUTH, timeout=30)
    assert response.status_code == 201, response.text
    key = response.json()
    assert key["participants"] == list(PEERS[1:]) and key["holds_share"] is False
    assert (key["scheme"], key["curve"], key["threshold"]) == ("schnorr", "secp256k1", 1)
    assert "Location" not in response.headers
    assert requests.get(fake.url + "/v1/keys/outside", headers=AUTH, timeout=30).status_code == 404
