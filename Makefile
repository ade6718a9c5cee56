# Garage: `make run` serves the app, `make test` runs every test. Both work from a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5001
FLASK  := $(BIN)/flask --app garage

.PHONY: install run test browsers bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

instance/secret_key:
	mkdir -p instance
	$(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > $@
	chmod 600 $@

run: install instance/secret_key
	$(FLASK) db upgrade
	$(FLASK) init
	@echo "Garage is serving on http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT) --with-threads

# Debian's Chromium for the Playwright tests (needs root; skipped otherwise).
browsers:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium missing: browser tests will be skipped (install the chromium package)"; }

test: install
	$(BIN)/python -m pytest

# The benchmark (README "Performance"): needs PostgreSQL, wrk and pgbench; about 6-12 minutes.
# BENCH_ARGS passes options, e.g. make bench BENCH_ARGS="--duration 5 --databases empty".
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
