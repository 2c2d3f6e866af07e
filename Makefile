# The two commands of the README: `make run` and `make test`. Everything they need is
# installed here, into .venv, from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
CORPUS ?= corpus
INDEX ?= index

.PHONY: run test install install-test chromium reindex bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Incremental: builds the index when it is missing, updates what changed, else does nothing.
reindex: install
	$(BIN)/vnsearch reindex --corpus $(CORPUS) --index $(INDEX)

run: reindex
	$(BIN)/vnsearch serve --host $(HOST) --port $(PORT) --index $(INDEX)

# The browser tests (tests/test_browser.py) drive Debian's chromium through Playwright, which
# never downloads a browser of its own. Installed here when missing (as root, or with sudo
# when it needs no password); when it cannot be, those tests are skipped and say why.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo="sudo -n"; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  echo "installing chromium with apt-get (for the browser tests)"; \
	  { $$sudo apt-get install -y -q chromium || { $$sudo apt-get update -q && $$sudo apt-get install -y -q chromium; }; } >/dev/null \
	    || echo "could not install chromium: the browser tests will be skipped" >&2; }

test: install-test chromium
	$(BIN)/python -m pytest

bench: install-test
	$(BIN)/python bench/relevance.py

clean:
	rm -rf $(VENV) build *.egg-info
