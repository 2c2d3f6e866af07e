# The two commands of the README: `make run` and `make test`. Everything they need is
# installed here, into .venv, from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
CORPUS ?= corpus
INDEX ?= index

.PHONY: run test install install-test reindex bench clean

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

test: install-test
	$(BIN)/python -m pytest

bench: install-test
	$(BIN)/python bench/relevance.py

clean:
	rm -rf $(VENV) build *.egg-info
