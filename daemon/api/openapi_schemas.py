"""JSON schemas of the OpenAPI document: every request body with its bounds, every answer.

The bounds come from ``daemon.api.validation``, the code that enforces them, so the
document and the checks cannot drift apart.
"""

from __future__ import annotations

from daemon.api import routes_validators
from daemon.api import validation as v
from daemon.service import HASHES, SCHEMES
from protocol.ers.statement import LABEL_MAX_BYTES as ERS_LABEL_MAX_BYTES

HEX_PATTERN = "^([0-9a-fA-F]{2})*$"
#: emergency recovery: integers as lowercase hex, proofs as base64 (``protocol.ers.fields``)
_HEX_INT = {"type": "string", "pattern": "^(0|[1-9a-f][0-9a-f]*)$"}
_BASE64 = {"type": "string", "pattern": "^[A-Za-z0-9+/]*={0,2}$"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict, required: tuple[str, ...] = (), *, closed: bool = True, **extra) -> dict:
    schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def _str(description: str, **bounds) -> dict:
    return {"type": "string", "description": description, **bounds}


_SCHEME = {"type": "string", "enum": list(SCHEMES),
           "description": "ecdsa: CGGMP21 on secp256k1; eddsa: FROST Ed25519; schnorr: FROST BIP340 on secp256k1"}
_CURVE = {"type": "string", "enum": list(v.CURVES), "description": "must be a curve of the scheme; default: the scheme's curve"}
_THRESHOLD = {"type": "integer", "minimum": v.THRESHOLD_MIN, "maximum": v.THRESHOLD_MAX,
              "description": "security threshold t: any t+1 holders sign, t or fewer learn nothing"}
_PLAYER = {"oneOf": [
    {"type": "integer", "minimum": 0, "maximum": v.PLAYER_INDEX_MAX,
     "description": "a validator index as GET /validators lists them (0-based)"},
    {"type": "string", "pattern": v.PEER_ID_PATTERN, "description": "a validator's peer id"},
]}
_PLAYERS = {"type": "array", "items": _PLAYER, "minItems": 1, "maxItems": v.PLAYERS_MAX, "uniqueItems": True,
            "description": f"the validators taking part (at most {v.PLAYERS_MAX}); default: every "
                           "validator, which a larger network cannot use"}
_HEX = {"type": "string", "pattern": HEX_PATTERN}
_PATH = _str("non-hardened BIP32 derivation path, indices below 2^31",
             pattern=v.PATH_PATTERN, maxLength=v.PATH_MAX_LEN, example="m/0/1")
_ERROR_DETAIL = _obj({"type": _str("stable machine-readable error type, e.g. key_id_not_exists"),
                      "message": _str("what went wrong, for people")}, ("type", "message"))

REQUESTS = {
    "StartRequest": _obj({"scheme": _SCHEME, "curve": _CURVE, "threshold": _THRESHOLD},
                         description="every field optional: default ecdsa, floor((n-1)/2)"),
    "KeygenRequest": _obj({
        "scheme": _SCHEME, "curve": _CURVE, "threshold": _THRESHOLD, "players": _PLAYERS,
        "key_id": _str("the new key's id; default: a fresh random id", pattern=v.KEY_ID_PATTERN),
        "timeout": {"type": "number", "minimum": v.TIMEOUT_MIN, "maximum": v.TIMEOUT_MAX,
                    "description": "seconds to wait for the keygen; default: the node's keygen timeout"},
    }, ("scheme", "threshold")),
    "SignRequest": _obj({
        "message": {**_HEX, "maxLength": 2 * v.MESSAGE_MAX_BYTES,
                    "description": f"hex bytes to hash and sign (at most {v.MESSAGE_MAX_BYTES} bytes)"},
        "hash": {"type": "string", "enum": list(HASHES),
                 "description": "how message is hashed; none signs it as it is (Ed25519)"},
        "digest": {**_HEX, "minLength": 2 * v.DIGEST_BYTES, "maxLength": 2 * v.DIGEST_BYTES,
                   "description": "a 32-byte digest in hex, signed as it is (ECDSA and BIP340)"},
        "path": _PATH,
        "players": _PLAYERS,
    }, example={"message": "68656c6c6f", "hash": "sha256", "path": "m/0/1"},
        oneOf=[{"required": ["message", "hash"], "not": {"required": ["digest"]}},
              {"required": ["digest"], "not": {"anyOf": [{"required": ["message"]}, {"required": ["hash"]}]}}],
        description="message with hash, or digest"),
    "PresignRequest": _obj({
        "count": {"type": "integer", "minimum": v.PRESIGN_COUNT_MIN, "maximum": v.PRESIGN_COUNT_MAX,
                  "default": 1, "description": "presignatures to generate"},
        "players": _PLAYERS,
    }),
    "ErsPartialRequest": _obj({
        "ers_public_key": ref("ErsPublicKey"),
        "label": _str("what the recovery data is bound to; the same label validates and recovers it",
                      minLength=1, maxLength=ERS_LABEL_MAX_BYTES),
    }, ("ers_public_key", "label")),
    "ValidatorChangeRequest": _obj({
        "add": {"type": "array", "items": _str("a candidate's peer id", pattern=v.PEER_ID_PATTERN),
                "maxItems": routes_validators.MAX_CHANGE_ITEMS, "uniqueItems": True,
                "description": "candidates to make validators (they joined by hello)"},
        "remove": {"type": "array", "items": _str("a validator's peer id", pattern=v.PEER_ID_PATTERN),
                   "maxItems": routes_validators.MAX_CHANGE_ITEMS, "uniqueItems": True,
                   "description": "validators to remove"},
        "nonce": _str("hex; the proposal's nonce, to approve a proposal another node made "
                      "(default: a fresh one, i.e. a new proposal)", pattern=routes_validators.NONCE_PATTERN),
    }, anyOf=[{"required": ["add"], "properties": {"add": {"minItems": 1}}},
              {"required": ["remove"], "properties": {"remove": {"minItems": 1}}}],
        example={"add": ["12D3KooWCandidate"]},
        description="a peer id may not be both added and removed"),
    "MailboxPost": _obj({
        "roundId": _str("the round", pattern=v.ROUND_ID_PATTERN),
        "message": _str(f"any text, at most {v.MAILBOX_MESSAGE_MAX_BYTES} bytes in UTF-8",
                        maxLength=v.MAILBOX_MESSAGE_MAX_BYTES),
    }, ("roundId", "message")),
}

#: what GET /validators says of a validator or a candidate
_PEER = {
    "peer_id": _str("libp2p peer id"),
    "identity_key": {**_HEX, "description": "Ed25519 identity public key"},
    "addrs": {"type": "array", "items": _str("multiaddr")},
    "http_url": {"type": "string", "nullable": True},
    "online": {"type": "boolean"},
    "is_self": {"type": "boolean"},
}

RESPONSES = {
    "Error": _obj({"error": _ERROR_DETAIL}, ("error",)),
    "SessionStarted": _obj({"session_id": _str("follow it at /v1/sessions/{session_id}")}, ("session_id",)),
    "SessionView": _obj({
        "session_id": _str("the session"),
        "protocol": {"type": "string", "enum": ["keygen", "sign", "presign"]},
        "state": {"type": "string", "enum": ["pending", "running", "done", "failed"]},
        "created_at": {"type": "number", "description": "unix time"},
        "participants": {"type": "array", "items": _str("peer id")},
        "key_id": _str("the key, once known"),
        "public_key": {**_HEX, "description": "the new public key, once a keygen is done"},
        "error": _ERROR_DETAIL,
        "blame": _obj({"culprits": {"type": "array", "items": _str("peer id")},
                       "round": {"type": "integer"}, "check": _str("the check that failed")},
                      ("culprits", "round", "check")),
    }, ("session_id", "protocol", "state", "created_at", "participants"), closed=False),
    "ValidatorView": _obj({"index": {"type": "integer", "minimum": 0}, **_PEER},
                          ("index", *_PEER), closed=False),
    "CandidateView": _obj(_PEER, tuple(_PEER), closed=False,
                          description="joined by hello; a validator only once an approved change adds it"),
    "ValidatorChangeProposal": _obj({
        "id": {**_HEX, "description": "the change's id (over additions, removals and nonce)"},
        "add": {"type": "array", "items": _str("peer id")},
        "remove": {"type": "array", "items": _str("peer id")},
        "nonce": _HEX,
        "base": {"type": "integer", "minimum": 0,
                 "description": "validator changes the ledger had committed when it was proposed; "
                                "it commits only at that base"},
        "dead": {"type": "boolean", "description": "the ledger can never take it (stale or refused)"},
        "approvers": {"type": "array", "items": _str("peer id of a validator that approved")},
        "quorum": {"type": "integer", "minimum": 0, "description": "approvals the ledger needs now"},
        "submitted": {"type": "boolean", "description": "this node submitted it to the ledger"},
        "committed": {"type": "boolean", "description": "the ledger committed it"},
        "created_at": {"type": "number", "description": "unix time this node first saw it"},
        "error": _str("why the ledger refused this node's submission, if it did"),
    }, ("id", "add", "remove", "nonce", "approvers", "quorum", "submitted", "committed", "created_at"),
        closed=False),
    "KeyView": _obj({
        "key_id": _str("key id"), "scheme": _SCHEME, "curve": {"type": "string"},
        "threshold": {"type": "integer"},
        "participants": {"type": "array", "items": _str("peer id, in party order")},
        "party": {"type": "integer", "description": "this node's party number"},
        "public_key": {**_HEX, "description": "compressed SEC1 / Ed25519 / x-only BIP340"},
        "chain_code": _HEX, "epoch": {"type": "integer"}, "created_at": {"type": "number"},
        "presignatures": {"type": "integer", "description": "ready in this node's pools"},
        "non_member_holders": {"type": "array", "items": _str("peer id of a holder that is no longer "
                                                                "a validator: the key is due a reshare")},
    }, ("key_id", "scheme", "curve", "threshold", "participants", "party", "public_key",
        "chain_code", "epoch", "created_at", "presignatures"), closed=False),
    "CoordinatedKey": _obj({
        "key_id": _str("key id"), "scheme": _SCHEME, "curve": {"type": "string"},
        "threshold": {"type": "integer"},
        "participants": {"type": "array", "items": _str("peer id, in party order")},
        "public_key": {**_HEX, "description": "compressed SEC1 / Ed25519 / x-only BIP340"},
        "created_at": {"type": "number"}, "session_id": _str("the keygen session"),
        "holds_share": {"type": "boolean", "enum": [False]},
    }, ("key_id", "scheme", "curve", "threshold", "participants", "public_key", "holds_share"), closed=False,
        description="a key this node coordinated without being one of its players: it holds no share"),
    "PublicKeyView": _obj({"key_id": _str("key id"), "path": _str("derivation path"),
                           "public_key": _HEX, "chain_code": _HEX},
                          ("key_id", "path", "public_key", "chain_code"), closed=False),
    "SignatureView": _obj({
        "key_id": _str("key id"),
        "public_key": {**_HEX, "description": "the (derived) key that verifies the signature"},
        "digest": {**_HEX, "description": "what was signed"},
        "signature": {**_HEX, "description": "64 bytes: r||s or R||s"},
        "recovery_id": {"type": "integer", "minimum": 0, "maximum": 3, "description": "ECDSA only"},
        "der": {**_HEX, "description": "ECDSA only"},
        "session_id": _str("the signing session"),
    }, ("key_id", "public_key", "digest", "signature"), closed=False),
    "PresignView": _obj({"key_id": _str("key id"), "players": {"type": "array", "items": _str("peer id")},
                         "created": {"type": "integer"}, "available": {"type": "integer"}},
                        ("key_id", "players", "created", "available"), closed=False),
    "ErsPublicKey": _obj({
        "version": {"type": "integer", "enum": [1]},
        "type": {"type": "string", "enum": ["tssnet-ers-public-key"]},
        "n": {**_HEX_INT, "description": "the modulus N (Paillier and ring-Pedersen)"},
        "s": {**_HEX_INT, "description": "ring-Pedersen s"}, "t": {**_HEX_INT, "description": "ring-Pedersen t"},
        "mod_proof": {**_BASE64, "description": "Π^mod: N is Paillier–Blum"},
        "prm_proof": {**_BASE64, "description": "Π^prm: s lies in the group t generates"},
    }, ("version", "type", "n", "s", "t", "mod_proof", "prm_proof"),
        description="the JSON object of ers_public.json (tssnet ers keygen)"),
    "ErsPartialView": _obj({"partial": _obj({
        "version": {"type": "integer"}, "type": {"type": "string", "enum": ["tssnet-ers-partial"]},
        "key_id": _str("key id"), "scheme": _SCHEME, "curve": {"type": "string"},
        "epoch": {"type": "integer", "minimum": 0, "description": "the key's epoch (a refresh increments it)"},
        "chain_code_commitment": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                                  "description": "a hash of key id, public key and chain code, which every "
                                  "proof binds (the chain code itself travels only encrypted)"},
        "ers_key": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                    "description": "the ERS public key's fingerprint"},
        "index": {"type": "integer", "description": "this node's party number"},
        "holder": _str("this node's peer id"),
        "share_ciphertext": _HEX_INT, "chain_code_ciphertext": _HEX_INT, "proof": _BASE64,
    }, ("version", "type", "key_id", "scheme", "curve", "epoch", "chain_code_commitment", "ers_key", "index",
        "share_ciphertext", "chain_code_ciphertext", "proof"), closed=False,
        description="give it, with the other validators' partials, to tssnet ers combine")}, ("partial",)),
    "MailboxSent": _obj({"roundId": _str("the round"), "sent": {"type": "boolean"}}, ("roundId", "sent")),
    "RoundMessages": _obj({
        "roundId": _str("the round"),
        "messages": {"type": "array", "description": "oldest first", "items": _obj(
            {"roundId": _str("the round"), "from": _str("sender's peer id"), "message": _str("the text")},
            ("roundId", "from", "message"))},
    }, ("roundId", "messages")),
    "LedgerStatus": _obj({
        "chain_id": _str("the chain's id, from its genesis"),
        "genesis_hash": {**_HEX, "description": "the hash block 1 builds on"},
        "state": {"type": "string", "enum": ["new", "starting", "running", "stopped", "halted"]},
        "height": {"type": "integer", "minimum": 0, "description": "the last committed block; 0 before block 1"},
        "last_block_hash": {**_HEX, "description": "the last block's hash; the genesis hash before block 1"},
        "view": {"type": "integer", "minimum": 0},
        "view_changing": {"type": "boolean"},
        "primary": _str("peer id of the view's primary"),
        "validators": {"type": "array", "items": _str("peer id"), "description": "voting on the next block"},
    }, ("chain_id", "genesis_hash", "state", "height", "last_block_hash", "view", "view_changing",
        "primary", "validators"), closed=False),
    "LedgerBlock": _obj({
        "height": {"type": "integer", "minimum": 1},
        "hash": {**_HEX, "description": "the block's hash (over its canonical header encoding)"},
        "prev_hash": _HEX,
        "timestamp_ms": {"type": "integer", "minimum": 0},
        "proposer": _str("peer id of the primary that proposed it"),
        "tx_root": {**_HEX, "description": "Merkle root of the transaction hashes"},
        "transactions": {"type": "array", "items": _obj({
            "hash": _HEX, "data": {**_HEX, "description": "the transaction's canonical wire bytes"},
            "type": {"type": "string", "enum": ["keygen", "signature", "validator_set"]},
        }, ("hash", "data", "type"), closed=False,
            description="keygen: key_id, scheme, public_key, threshold; signature: key_id, signature, "
                        "message; validator_set: add, remove, nonce, approvers")},
        "certificate": _obj({
            "view": {"type": "integer", "minimum": 0},
            "height": {"type": "integer", "minimum": 1},
            "block_hash": _HEX,
            "signers": {"type": "array", "items": _str("peer id of a validator that committed it")},
            "commits": {"type": "array", "items": {**_HEX, "description": "a signed commit message"}},
        }, ("view", "height", "block_hash", "signers", "commits"), closed=False,
            description="a quorum of signed commits for this block"),
    }, ("height", "hash", "prev_hash", "timestamp_ms", "proposer", "tx_root", "transactions",
        "certificate"), closed=False),
    "LedgerBlocks": _obj({"blocks": {"type": "array", "items": ref("LedgerBlock")}}, ("blocks",)),
    "Health": {"type": "object", "description": "liveness facts: peer id, validators known and online, version",
               "additionalProperties": True},
}

SCHEMAS = {**REQUESTS, **RESPONSES}
