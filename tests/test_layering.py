"""House rule 1: imports point one way, and protocol/ and ledger/ stay free of I/O.

The rule is what lets every protocol run in one process with a seeded RNG, so it is
checked on the source, not left to review.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

IO_MODULES = {"asyncio", "trio", "aiohttp", "redis", "libp2p", "sqlite3", "socket", "threading",
              "multiprocessing", "subprocess", "requests", "urllib", "http", "time"}
ALLOWED_PROJECT_IMPORTS = {
    "protocol": {"protocol"},
    "ledger": {"ledger", "protocol"},
    "bitcoin": {"bitcoin", "protocol"},
    "daemon": {"daemon", "protocol", "ledger", "bitcoin"},
}
NO_IO = {"protocol", "ledger"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED_PROJECT_IMPORTS))
def test_project_imports_point_one_way(package):
    project = set(ALLOWED_PROJECT_IMPORTS)
    for path in sources(package):
        wrong = (imported_modules(path) & project) - ALLOWED_PROJECT_IMPORTS[package]
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


@pytest.mark.parametrize("package", sorted(NO_IO))
def test_pure_layers_import_no_io(package):
    for path in sources(package):
        wrong = imported_modules(path) & IO_MODULES
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def test_modules_stay_small():
    for package in ALLOWED_PROJECT_IMPORTS:
        for path in sources(package):
            lines = len(path.read_text().splitlines())
            assert lines <= 400, f"{path.relative_to(ROOT)} has {lines} lines"
