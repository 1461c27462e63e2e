# The project's front door. `make run` and `make test` set themselves up on a fresh machine.
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
APT_PKGS := libpcsclite-dev swig pcscd vsmartcard-vpcd chromium fonts-ipafont-gothic  # chromium and a Japanese font: the web app's browser tests
export LEDGER_DATABASE_URL ?= sqlite:///$(CURDIR)/var/ledger.db

.PHONY: setup system-packages bench-packages run test bench lint lock clean

setup: $(STAMP)

# Debian packages (PC/SC stack for the gate reader), installed only when missing, as root with apt.
system-packages:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "WARNING: missing Debian packages:$$missing (install them as root); reader tests will fail"; fi

# Every package at the version (and hash) pinned in requirements.lock, then the project itself;
# a new release of a dependency changes nothing until `make lock` pins it.
$(STAMP): pyproject.toml requirements.lock | system-packages
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements.lock
	$(PY) -m pip install -q --no-deps -e '.[server,dev,reader]'
	touch $(STAMP)

# Re-pin every dependency of pyproject.toml (all extras) with pip-tools, after adding or
# changing one there; tests/unit/test_lock_file.py fails until this is run.
LOCK_EXTRAS := --extra server --extra dev --extra reader
lock:
	@[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install -q 'pip-tools>=7.4,<8'
	$(PY) -m piptools compile -q --allow-unsafe --generate-hashes --strip-extras \
	  --no-emit-index-url --no-emit-find-links $(LOCK_EXTRAS) -o requirements.lock pyproject.toml

run: setup
	$(VENV)/bin/ledger migrate
	$(VENV)/bin/ledger serve

# Test modules are spread over worker processes (pytest-xdist), each module whole on one worker
# so its module-scoped servers start once; PYTEST_WORKERS=0 runs in this process.
PYTEST_WORKERS ?= auto
test: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

# The API bench's load generator (wrk), installed only when missing, as root with apt.
bench-packages:
	@dpkg -s wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
	  echo "WARNING: wrk is missing (install it as root); the API bench will fail"

bench: setup bench-packages
	$(PY) -m tests.bench

lint: setup
	$(VENV)/bin/ruff check ledger projections readers api tests
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
