"""Shared fixtures: every test builds its own index from files in its own tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from search.indexer import reindex
from search.query import open_index

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"

DIEN_BIEN = ["000_16468085dbf1e3df", "001_045948c02f9f6eb6"]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the five seed articles."""
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def seed_index(tmp_path: Path, corpus: Path) -> Path:
    """An index of the seeds, built for this test alone."""
    index = tmp_path / "index"
    reindex(corpus, index, full=True, workers=1)
    return index


@pytest.fixture(scope="module")
def shared_seed_index(tmp_path_factory) -> Path:
    """An index of the seeds for a module of read-only tests."""
    base = tmp_path_factory.mktemp("seeds")
    shutil.copytree(SEEDS, base / "corpus")
    reindex(base / "corpus", base / "index", full=True, workers=1)
    return base / "index"


def shared_corpus(name: str) -> Path:
    """A file of ../shared/corpora, or skip the test with the reason."""
    path = SHARED / "corpora" / name
    if not path.exists():
        pytest.skip(f"{path} not found: the real-corpus tests need ../shared (CI has it)")
    return path


def search(location, request):
    """One search through a freshly opened Index, as one CLI call makes it."""
    with open_index(location) as index:
        return index.search(request)


def document(location, doc_id, **kw):
    """One document through a freshly opened Index."""
    with open_index(location) as index:
        return index.document(doc_id, **kw)


# --- OpenSearch nodes, shared by every module that needs them (a JVM start takes seconds) ---

def _opensearch_cluster(tmp_path_factory, nodes: int, name: str):
    from .opensearch_cluster import OpenSearchCluster, available

    reason = available()
    if reason:
        pytest.skip(reason)
    cluster = OpenSearchCluster(tmp_path_factory.mktemp(name), nodes=nodes, name=name)
    cluster.start()
    return cluster


@pytest.fixture(scope="session")
def opensearch_one(tmp_path_factory):
    """A one-node OpenSearch cluster for the session (skips when nodes cannot start here)."""
    cluster = _opensearch_cluster(tmp_path_factory, 1, "vn-one")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def opensearch_three(tmp_path_factory):
    """A three-node OpenSearch cluster for the session; a test that stops nodes starts them again."""
    cluster = _opensearch_cluster(tmp_path_factory, 3, "vn-three-shared")
    yield cluster
    cluster.stop()
