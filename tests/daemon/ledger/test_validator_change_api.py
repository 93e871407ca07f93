"""``/v1/validators/changes``, the candidates in ``GET /validators``, the SDK and the CLI.

Against the fake service (``tests.daemon.api.fake_service``): a good proposal answers
202 with the proposal; every malformed body is a 400 in the error shape that never
reaches the service; a node without a ledger answers 409 ``ledger_disabled``.
"""

from __future__ import annotations

import json

import pytest

from daemon.cli_client import main
from daemon.client import ApiError, Client
from tests.daemon.api.fake_service import CANDIDATES, PEERS, FakeService
from tests.daemon.api.support import API_KEY, AUTH, LiveServer, run_with_client

NEW = CANDIDATES[0]


def test_a_proposal_is_accepted_with_202_and_listed():
    async def test(client, fake):
        answer = await client.post("/v1/validators/changes", json={"add": [NEW]}, headers=AUTH)
        assert answer.status == 202
        proposal = await answer.json()
        assert proposal["add"] == [NEW] and proposal["approvers"] == [PEERS[0]]
        again = await client.post("/v1/validators/changes", headers=AUTH,
                                  json={"add": [NEW], "nonce": proposal["nonce"]})
        assert (await again.json())["id"] == proposal["id"]
        listed = await (await client.get("/v1/validators/changes", headers=AUTH)).json()
        assert listed == {"changes": [proposal]}
        request = fake.calls[0][1][0]
        assert (request.add, request.remove, request.nonce) == ((NEW,), (), None)
        assert fake.calls[1][1][0].nonce == bytes.fromhex(proposal["nonce"])
    run_with_client(test)


@pytest.mark.parametrize("body", [
    None, [], {}, {"add": []}, {"add": [], "remove": []}, {"add": NEW}, {"add": [NEW, NEW]},
    {"add": [NEW], "remove": [NEW]}, {"add": ["has space"]}, {"add": [7]}, {"add": ["x" * 129]},
    {"add": [NEW], "nonce": ""}, {"add": [NEW], "nonce": "zz"}, {"add": [NEW], "nonce": "0"},
    {"add": [NEW], "nonce": "00" * 33}, {"add": [NEW], "nonce": 5}, {"add": [NEW], "extra": 1},
    {"add": [f"p{i}" for i in range(65)]},
])
def test_malformed_bodies_are_refused_before_the_service(body):
    async def test(client, fake):
        options = {} if body is None else {"json": body}
        answer = await client.post("/v1/validators/changes", headers=AUTH, **options)
        assert answer.status == 400
        error = (await answer.json())["error"]
        assert error["type"] == "bad_request" and error["message"]
        assert fake.calls == [] and fake.mutations == 0
    run_with_client(test)


def test_meaning_is_checked_by_the_service_and_refusals_change_nothing():
    async def test(client, fake):
        for body in ({"add": ["12D3KooWStranger"]}, {"remove": [NEW]}, {"remove": list(PEERS[:2])}):
            answer = await client.post("/v1/validators/changes", json=body, headers=AUTH)
            assert answer.status == 400, body
        assert fake.mutations == 0 and fake.proposals == {}
    run_with_client(test)


def test_a_proposal_is_withdrawn_with_delete_and_unknown_ids_are_404():
    async def test(client, fake):
        proposal = await (await client.post("/v1/validators/changes", json={"add": [NEW]},
                                            headers=AUTH)).json()
        answer = await client.delete(f"/v1/validators/changes/{proposal['id']}", headers=AUTH)
        assert answer.status == 200 and (await answer.json())["id"] == proposal["id"]
        listed = await (await client.get("/v1/validators/changes", headers=AUTH)).json()
        assert listed == {"changes": []}
        for bad in (proposal["id"], "zz" * 32, "AB" * 32, "ab" * 31, "x"):
            again = await client.delete(f"/v1/validators/changes/{bad}", headers=AUTH)
            assert again.status == 404, bad
            assert (await again.json())["error"]["type"] == "not_found"
        unauthenticated = await client.delete(f"/v1/validators/changes/{proposal['id']}")
        assert unauthenticated.status == 401
        assert [c[0] for c in fake.calls].count("withdraw_validator_change") == 2   # bad ids stop early
    run_with_client(test)


def test_a_node_without_a_ledger_says_so():
    fake = FakeService()
    fake.ledger_enabled = False

    async def test(client, fake):
        for method, options in (("post", {"json": {"add": [NEW]}}), ("get", {})):
            answer = await getattr(client, method)("/v1/validators/changes", headers=AUTH, **options)
            assert answer.status == 409
            assert (await answer.json())["error"]["type"] == "ledger_disabled"
        assert fake.mutations == 0
    run_with_client(test, fake)


def test_validators_lists_the_candidates_apart():
    async def test(client, fake):
        answer = await (await client.get("/validators", headers=AUTH)).json()
        assert [v["peer_id"] for v in answer["validators"]] == list(PEERS)
        assert [c["peer_id"] for c in answer["candidates"]] == [NEW]
        assert "index" not in answer["candidates"][0]
    run_with_client(test)


def test_the_sdk_and_the_cli(capsys):
    with LiveServer() as server:
        node = Client(server.url, API_KEY)
        assert [c["peer_id"] for c in node.candidates()] == [NEW]
        proposal = node.propose_validator_change(add=[NEW])
        assert proposal["add"] == [NEW]
        same = node.propose_validator_change(add=[NEW], nonce=bytes.fromhex(proposal["nonce"]))
        assert same["id"] == proposal["id"]
        assert node.validator_changes() == [same]
        assert node.withdraw_validator_change(same["id"])["id"] == same["id"]
        assert node.validator_changes() == []
        with pytest.raises(ApiError) as missing:
            node.withdraw_validator_change(same["id"])
        assert missing.value.status == 404
        proposal = node.propose_validator_change(add=[NEW])
        with pytest.raises(ApiError) as refused:
            node.propose_validator_change(add=[NEW], remove=[NEW])
        assert refused.value.status == 400

        def cli(*argv):
            code = main(["validators", *argv, "--node", server.url, "--api-key", API_KEY])
            out, err = capsys.readouterr()
            return code, out, err

        code, out, _ = cli("change", "--add", NEW, "--nonce", "ab" * 4, "--json")
        assert code == 0 and json.loads(out)["nonce"] == "ab" * 4
        assert server.fake.calls[-1][1][0].nonce == bytes.fromhex("ab" * 4)
        code, out, _ = cli("change", "--add", NEW)
        assert code == 0 and "1 of 3 needed (collecting)" in out and NEW in out
        code, out, _ = cli("changes")
        assert code == 0 and out.count("approvals") == 3
        code, out, _ = cli()
        assert code == 0 and PEERS[0] in out
        code, _, err = cli("change")
        assert code == 2 and "--add or --remove" in err
        code, _, err = cli("change", "--remove", NEW)
        assert code == 1 and "not a validator" in err
        code, _, err = cli("--add", NEW)
        assert code == 2 and "validators change" in err
