# The two commands of the README: `make run` and `make test`. Everything they need is
# installed here, into .venv, from pyproject.toml.
# The interpreter .venv is made with: Debian's Python 3.11 when the machine has it with its
# venv module (package python3.11-venv), else the python3 on PATH. Debian's executable has
# libpython linked into it, where pyenv's default build (this machine's python3) calls through
# a shared libpython: on the 50,800-article index a server starts 15-20 % sooner and queries
# run 15 % faster on Debian's (README, "Benchmarks"). `make run PYTHON=...` in a checkout
# without .venv chooses another.
DEBIAN_PYTHON := /usr/bin/python3.11
PYTHON ?= $(or $(shell $(DEBIAN_PYTHON) -c 'import ensurepip' 2>/dev/null && echo $(DEBIAN_PYTHON)),python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
CORPUS ?= corpus
INDEX ?= index

.PHONY: run test install install-test bytecode chromium opensearch-node axe reindex bench clean

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

# Bytecode of the project's own modules (pip compiles installed packages, not an editable
# one): without it, and with PYTHONDONTWRITEBYTECODE set, every start of `vnsearch` compiles
# them again, ~60 ms of a server's start. Only what changed is compiled.
bytecode: install
	$(BIN)/python -m compileall -q search web

# Incremental: builds the index when it is missing, updates what changed, else does nothing.
reindex: install
	$(BIN)/vnsearch reindex --corpus $(CORPUS) --index $(INDEX)

run: reindex bytecode
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

# The OpenSearch tests (tests/test_opensearch_node.py) start real nodes: tools/opensearch-node is a
# small Java launcher whose jars Maven fetches (no OpenSearch distribution, no Docker). Built here
# when mvn and java exist; without them those tests are skipped and say why. The build ends with
# one start of a node that records the classes it loads (a JVM class-data archive): later starts
# map them instead of loading them again, which halves a node's start on 2 busy cores.
# Absolute: the archive records the jar's path, and tests/opensearch_cluster.py starts it by its absolute path.
OPENSEARCH_NODE := $(CURDIR)/tools/opensearch-node
OPENSEARCH_JVM := -Xmx512m -Xms256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
ifneq ($(shell command -v mvn >/dev/null 2>&1 && command -v java >/dev/null 2>&1 && echo yes),)
opensearch-node: $(OPENSEARCH_NODE)/target/.built
else
opensearch-node:
	@echo "mvn or java not found: the OpenSearch tests will be skipped" >&2
endif

$(OPENSEARCH_NODE)/target/.built: $(OPENSEARCH_NODE)/pom.xml $(wildcard $(OPENSEARCH_NODE)/src/main/java/org/vnsearch/opensearch/*.java $(OPENSEARCH_NODE)/src/main/resources/*)
	cd $(OPENSEARCH_NODE) && mvn -q -B package
	rm -rf $(OPENSEARCH_NODE)/target/cds-home $(OPENSEARCH_NODE)/target/opensearch-node.jsa
	java $(OPENSEARCH_JVM) -Xlog:cds=off -Xlog:cds+dynamic=off \
	  -XX:ArchiveClassesAtExit=$(OPENSEARCH_NODE)/target/opensearch-node.jsa \
	  -jar $(OPENSEARCH_NODE)/target/opensearch-node.jar --home $(OPENSEARCH_NODE)/target/cds-home \
	  --http-port 0 --transport-port 0 --stop-after-start >/dev/null
	rm -rf $(OPENSEARCH_NODE)/target/cds-home
	touch $@

# The browser tests check every page type with axe-core, from the npm registry, at the version
# tools/axe/package-lock.json pins (installed into tools/axe/node_modules). Without npm those
# checks are skipped and say why.
AXE := tools/axe/node_modules/axe-core/axe.min.js
ifneq ($(shell command -v npm >/dev/null 2>&1 && echo yes),)
axe: $(AXE)
else
axe:
	@echo "npm not found: the accessibility checks (axe-core) will be skipped" >&2
endif

$(AXE): tools/axe/package.json tools/axe/package-lock.json
	cd tools/axe && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: install-test bytecode chromium opensearch-node axe
	$(BIN)/python -m pytest

bench: install-test
	$(BIN)/python bench/relevance.py

clean:
	rm -rf $(VENV) build *.egg-info $(OPENSEARCH_NODE)/target tools/axe/node_modules
