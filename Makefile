# ivmon: two commands on a fresh Debian machine with Python 3.11.
#   make demo   set up, then run the central station with 8 simulated rooms on SQLite
#   make test   set up (Chromium too, for the browser tests), lint, and run every test

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
DEMO_ARGS ?=

.PHONY: demo test setup browser lint screenshot benchmark clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ivmon needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ivmon demo $(DEMO_ARGS)

# The browser tests drive Debian's Chromium through chromedriver.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "Installing Chromium and chromedriver for the browser tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) browser lint
	$(BIN)/python -m pytest

screenshot: $(STAMP) browser
	$(BIN)/python docs/make_screenshots.py

benchmark: $(STAMP) browser
	$(BIN)/python benchmarks/latency.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
