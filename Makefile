# Every target sets up what it needs: `make test` on a fresh machine installs the
# system packages (apt-get, when missing), creates .venv and runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install system-deps test bench lint primes devnet

system-deps:
	@scripts/system_deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@

install: system-deps $(STAMP)

test: install
	$(PY) -m pytest -n auto -q

bench: install
	$(PY) scripts/bench_primitives.py
	$(PY) scripts/bench_frost.py --scheme ed25519 --parties 3 --threshold 1 --json
	$(PY) scripts/bench_frost.py --scheme bip340 --parties 3 --threshold 1 --json
	$(PY) scripts/bench_cmp.py --parties 3 --threshold 1 --json --runs 3 --presigns 3
	$(PY) scripts/bench_node.py --nodes 3 --json

# The main job: three validators on loopback (HTTP on 8001-8003), logs here; Ctrl-C stops them.
devnet: install
	$(VENV)/bin/tssnet devnet --nodes 3

lint: install
	$(VENV)/bin/ruff check .

# Regenerates the committed pool of 1024-bit safe primes that tests use.
primes: install
	$(PY) scripts/gen_prime_pool.py --count 64 --bits 1024 --out tests/data/safe_primes_1024.txt
