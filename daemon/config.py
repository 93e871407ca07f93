"""The node's configuration: one TOML file, then environment variables, then flags.

Every option has a default that is safe for a validator holding real keys; the ones
that weaken something (``join_secret`` unset) are logged as warnings at start. A value
given on the command line wins over the environment (``TSSNET_<OPTION>``), which wins
over the file. In the environment and ``--set option=value`` (devnet), a string option
is taken verbatim, a list as comma-separated or a TOML array, and a number or boolean
as a TOML value.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.errors import BadRequest

ENV_PREFIX = "TSSNET_"
#: the shortest API key accepted (tssnet init and the devnet make 22 or more characters)
MIN_API_KEY_LENGTH = 16
#: the longest keygen_timeout or session_timeout: the HTTP API and the SDK wait up to this long
MAX_TIMEOUT = 3600.0
#: the node master key may come from here instead of a file (hex, 32 bytes)
MASTER_KEY_ENV = "TSSNET_MASTER_KEY"
_FINGERPRINT = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class NodeConfig:
    data_dir: Path = Path("tssnet-data")
    http_host: str = "127.0.0.1"
    http_port: int = 8001
    p2p_host: str = "127.0.0.1"
    p2p_port: int = 9001
    #: multiaddrs with /p2p/<peer id> of any validator already in the network
    bootstrap: tuple[str, ...] = ()
    #: redis://... to keep state in Redis; unset: embedded SQLite in data_dir
    redis_url: str | None = None
    #: keys accepted in the X-API-Key header (or Authorization: Bearer); at least one
    api_keys: tuple[str, ...] = ()
    #: the 32-byte master key sealing secrets at rest; file (hex) or TSSNET_MASTER_KEY
    master_key_file: Path | None = None
    #: the Ed25519 identity seed file (peer id); default data_dir/identity.key
    identity_file: Path | None = None
    #: when set, a peer joins the validator set only by proving it knows this secret
    join_secret: str | None = None
    #: the URL users reach this node's API at, published with its validator record
    public_url: str | None = None
    #: the PBFT ledger's genesis file (JSON: chain id, validators); unset, or this node not
    #: among its validators: the ledger is off and keygens are not recorded in it
    ledger_genesis: Path | None = None
    keygen_timeout: float = 180.0
    session_timeout: float = 60.0
    #: presignatures kept ready per ECDSA key for its default signers (0: none ahead)
    presign_pool_size: int = 4
    #: safe primes kept ready for auxiliary info (two per keygen or refresh)
    prime_pool_size: int = 4
    #: test and devnet aid: safe primes to take before generating (one per line)
    prime_pool_file: Path | None = None
    #: must be true for prime_pool_file to be accepted: such a node never holds real funds
    insecure_test_primes: bool = False
    paillier_bits: int = 2048
    #: worker processes for protocol rounds; 0: one per CPU
    workers: int = 0
    max_body_bytes: int = 1024 * 1024
    log_level: str = "info"
    log_json: bool = False
    #: answer POST /v1/keys/{id}/ers/partial (this node's share encrypted to an emergency-recovery key)
    enable_ers_export: bool = False
    #: the ERS public keys a partial may be made for, by fingerprint (64 hex characters, as
    #: ``tssnet ers keygen`` prints it); required when enable_ers_export is on
    ers_allowed_keys: tuple[str, ...] = ()

    @property
    def identity_path(self) -> Path:
        return self.identity_file or self.data_dir / "identity.key"

    @property
    def master_key_path(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def http_url(self) -> str:
        return self.public_url or f"http://{self.http_host}:{self.http_port}"


FIELDS = {f.name: f for f in dataclasses.fields(NodeConfig)}


def load(path: Path | None = None, overrides: dict[str, Any] | None = None,
         environ: dict[str, str] | None = None) -> NodeConfig:
    """File, then ``TSSNET_*`` environment, then ``overrides`` (flags and --set)."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values.update(tomllib.loads(Path(path).read_text()))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise BadRequest(f"cannot read config {path}: {exc}") from None
    env = os.environ if environ is None else environ
    for name in FIELDS:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = parse_value(name, raw)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return build(values)


def parse_value(name: str, raw: str) -> Any:
    """An environment or ``--set`` value of option ``name``.

    Strings and paths are kept verbatim (a secret such as ``1e10`` or ``true`` stays
    that text); a list is a TOML array (``["a", "b"]``) or comma-separated (``a,b``);
    numbers and booleans are TOML values (``8001``, ``true``).
    """
    annotation = str(FIELDS[name].type)
    if "tuple" in annotation:
        text = raw.strip()
        if text.startswith("["):
            return _toml_value(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    if "str" in annotation or "Path" in annotation:
        return raw
    return _toml_value(raw.strip())


def _toml_value(raw: str) -> Any:
    # Unparseable text goes on as a string, which _coerce refuses for a non-string option.
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def parse_assignment(text: str) -> tuple[str, Any]:
    """``option=value`` as given to ``--set``."""
    name, sep, raw = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or name not in FIELDS:
        raise BadRequest(f"--set takes option=value with a known option, not {text!r}")
    return name, parse_value(name, raw)


def build(values: dict[str, Any]) -> NodeConfig:
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown configuration options: {', '.join(unknown)}")
    typed = {name: _coerce(name, value) for name, value in values.items()}
    config = NodeConfig(**typed)
    check(config)
    return config


def _coerce(name: str, value: Any) -> Any:
    default = FIELDS[name].default
    kind = type(default) if default is not None else None
    annotation = str(FIELDS[name].type)
    try:
        if "Path" in annotation:
            return None if value is None else Path(os.path.expanduser(str(value)))
        if "tuple" in annotation:
            items = [value] if isinstance(value, str) else list(value)
            if not all(isinstance(item, str) for item in items):
                raise TypeError   # never str() a number into a key: quote it in TOML
            return tuple(items)
        if kind is bool:
            if not isinstance(value, bool):
                raise TypeError
            return value
        if kind is int:
            if isinstance(value, bool):
                raise TypeError
            return int(value)
        if kind is float:
            return float(value)
        if value is not None and not isinstance(value, str):
            raise TypeError
        return value
    except (TypeError, ValueError):
        raise BadRequest(f"option {name}: {value!r} is not a valid value") from None


def check(config: NodeConfig) -> None:
    for name in ("http_port", "p2p_port"):
        port = getattr(config, name)
        if not 0 <= port <= 65535:
            raise BadRequest(f"{name} must be a port number, not {port}")
    for name in ("keygen_timeout", "session_timeout"):
        if not 0 < getattr(config, name) <= MAX_TIMEOUT:
            raise BadRequest(f"{name} must be positive and at most {MAX_TIMEOUT:g} seconds")
    short = [key for key in config.api_keys if len(key) < MIN_API_KEY_LENGTH]
    if short:
        raise BadRequest(f"api_keys: every key needs at least {MIN_API_KEY_LENGTH} characters "
                         f"({len(short)} shorter; tssnet init makes random ones)")
    if config.join_secret == "":
        raise BadRequest("join_secret is empty: leave it unset (loopback only) or give a secret")
    if config.join_secret is None and not is_loopback(config.p2p_host):
        raise BadRequest(f"p2p_host {config.p2p_host} is reachable from other machines: set join_secret "
                         "(--join-secret, TSSNET_JOIN_SECRET or the config file) so that only peers "
                         "knowing it can join the validator set")
    for name in ("presign_pool_size", "prime_pool_size", "workers"):
        if getattr(config, name) < 0:
            raise BadRequest(f"{name} cannot be negative")
    if config.paillier_bits < 2048:
        raise BadRequest("paillier_bits is at least 2048")
    if config.max_body_bytes < 1024:
        raise BadRequest("max_body_bytes is at least 1024")
    if config.log_level not in ("debug", "info", "warning", "error"):
        raise BadRequest("log_level is debug, info, warning or error")
    if config.prime_pool_file is not None and not config.insecure_test_primes:
        raise BadRequest(
            "prime_pool_file is a test aid: its primes are known to whoever has the file, and two "
            "keys sharing a prime are broken by anyone (gcd of their moduli); set "
            "insecure_test_primes = true to use it, only on a node that never holds real funds")
    if config.redis_url is not None and not config.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise BadRequest("redis_url must be a redis://, rediss:// or unix:// URL")
    bad = [key for key in config.ers_allowed_keys if not _FINGERPRINT.fullmatch(key)]
    if bad:
        raise BadRequest(f"ers_allowed_keys: {bad[0]!r} is not an ERS key fingerprint (64 hex characters, "
                         "as tssnet ers keygen prints it)")
    if config.enable_ers_export and not config.ers_allowed_keys:
        raise BadRequest("enable_ers_export needs ers_allowed_keys: the fingerprints of the recovery keys "
                         "this node may encrypt its shares to (tssnet ers keygen prints one; tssnet ers "
                         "fingerprint FILE shows it again). Without that list any API client could ask "
                         "for every share under a key of its own and rebuild the private key")


def is_loopback(host: str) -> bool:
    """True when only this machine can reach ``host``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warnings(config: NodeConfig) -> list[str]:
    """What the node should warn about at start: valid, but weaker than it could be."""
    found = []
    if not is_loopback(config.http_host):
        found.append(f"the HTTP API listens on {config.http_host} without TLS: API keys and "
                     "signatures cross the network in clear; put it behind a TLS-terminating proxy")
    return found
