"""search.indexer: incremental reindex, atomic switch, locking, crash safety, schema version."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from search.errors import ReindexBusy, StaleIndex
from search.indexer import reindex
from search.query import SearchRequest, open_index
from search.store import Store

from .conftest import search

ROOT = Path(__file__).resolve().parent.parent


def report_counts(report):
    return (report.added, report.updated, report.removed, report.unchanged, len(report.rejected))


def test_incremental_reindex_touches_only_what_changed(corpus, tmp_path):
    index = tmp_path / "index"
    assert report_counts(reindex(corpus, index, workers=1)) == (5, 0, 0, 0, 0)
    first = Store(index).current()["generation"]

    assert report_counts(reindex(corpus, index, workers=1)) == (0, 0, 0, 5, 0)
    assert Store(index).current()["generation"] == first  # nothing changed: no new generation

    (corpus / "003_f0cf8f3db9718a20.txt").write_text("Bài đã sửa\n\nNội dung mới về Tỉnh ủy Lạng Sơn.", encoding="utf-8")
    (corpus / "004_d9390da75f2ce445.txt").unlink()
    shutil.copy(corpus / "000_16468085dbf1e3df.txt", corpus / "new.txt")
    (corpus / "broken.txt").write_bytes(b"\x00\x00")
    report = reindex(corpus, index, workers=1)
    assert report_counts(report) == (1, 1, 1, 3, 1)
    assert report.rejected == [{"path": str(corpus / "broken.txt"), "reason": "binary file (contains NUL bytes)"}]
    result = search(index, SearchRequest())
    assert sorted(h.id for h in result.hits) == ["000_16468085dbf1e3df", "001_045948c02f9f6eb6",
                                                 "002_65fc4686f071d328", "003_f0cf8f3db9718a20", "new"]
    assert [h.title for h in search(index, SearchRequest(q="Bài đã sửa")).hits] == ["Bài đã sửa"]


def test_full_rebuild(corpus, tmp_path):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    assert report_counts(reindex(corpus, index, full=True, workers=1)) == (5, 0, 0, 0, 0)
    assert len(list(index.glob("gen-*"))) == 2  # the live generation and the one before


def test_parallel_workers_give_the_same_index(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for i in range(80):  # enough documents for the worker pool to start
        src = sorted((ROOT / "corpus").glob("*.txt"))[i % 5]
        (corpus / f"{i:03d}.txt").write_text(src.read_text(encoding="utf-8") + f"\nBản số {i}", encoding="utf-8")
    serial = reindex(corpus, tmp_path / "one", workers=1)
    parallel = reindex(corpus, tmp_path / "two", workers=2)
    assert report_counts(serial) == report_counts(parallel) == (80, 0, 0, 0, 0)
    for q in ("bi thu tinh uy", "Trần Quốc Cường", "hội nghị"):
        a = search(tmp_path / "one", SearchRequest(q=q, size=20))
        b = search(tmp_path / "two", SearchRequest(q=q, size=20))
        assert a.total == b.total
        assert [h.score for h in a.hits] == [h.score for h in b.hits]  # ties may differ in order


def test_a_failed_build_leaves_the_live_index_serving(corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    live = Store(index).current()
    (corpus / "new.txt").write_text("Bài mới\n\nTỉnh ủy Điện Biên họp.", encoding="utf-8")

    def explode(article):
        raise RuntimeError("disk full")

    monkeypatch.setattr("search.indexer.document_fields", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        reindex(corpus, index, workers=1)
    assert Store(index).current() == live
    assert [p.name for p in index.glob("gen-*")] == [live["generation"]]
    assert search(index, SearchRequest()).total == 5


def test_a_second_reindex_is_refused_with_a_clear_message(corpus, tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    with Store(index).lock():
        with pytest.raises(ReindexBusy, match=rf"another reindex of .* is running \(pid {os.getpid()}\)"):
            reindex(corpus, index, workers=1)
    assert report_counts(reindex(corpus, index, workers=1)) == (5, 0, 0, 0, 0)


def big_corpus(tmp_path, n=400):
    corpus = tmp_path / "big"
    corpus.mkdir()
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt"))]
    lines = [json.dumps({"id": str(i), "title": f"Bài {i}", "body": seeds[i % 5] + f"\nSố {i}"}, ensure_ascii=False)
             for i in range(n)]
    (corpus / "many.jsonl").write_text("\n".join(lines), encoding="utf-8")
    return corpus


def test_kill_9_during_reindex_leaves_the_live_index_and_the_next_run_succeeds(corpus, tmp_path):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    live = Store(index).current()
    big = big_corpus(tmp_path)
    code = f"from search.indexer import reindex; reindex({str(big)!r}, {str(index)!r}, full=True, workers=1)"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(index.glob("gen-*"))) < 2:  # wait for the build to start
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert Store(index).current() == live
    assert search(index, SearchRequest(q="Trần Quốc Cường")).total == 4
    # The dead process's lock is gone with it; its half-built generation is cleared.
    report = reindex(big, index, workers=1)
    assert report.added == 400 and report.removed == 5
    assert len(list(index.glob("gen-*"))) == 2


def test_searches_keep_working_during_a_reindex(corpus, tmp_path):
    from web import create_app

    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    client = create_app({"INDEX_DIR": str(index), "TESTING": True}).test_client()
    statuses, totals = [], []
    done = threading.Event()

    def query_loop():
        while not done.is_set():
            r = client.get("/api/search?q=h%E1%BB%99i+ngh%E1%BB%8B")
            statuses.append(r.status_code)
            totals.append(r.get_json()["total"])

    thread = threading.Thread(target=query_loop)
    thread.start()
    try:
        reindex(big_corpus(tmp_path, 150), index, workers=1)
    finally:
        done.set()
        thread.join()
    assert statuses and set(statuses) == {200}
    assert totals[0] <= 5
    # The running app sees the new index without a restart.
    assert client.get("/api/search?q=h%E1%BB%99i+ngh%E1%BB%8B").get_json()["total"] == 150


def test_an_index_of_another_schema_version_is_refused(corpus, tmp_path):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    record = Store(index).current()
    record["schema_version"] = 0
    (index / "CURRENT").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(StaleIndex, match=r"run `vnsearch reindex --full`"):
        open_index(index)
    assert report_counts(reindex(corpus, index, workers=1)) == (5, 0, 0, 0, 0)  # rebuilt in full
    assert Store(index).current()["schema_version"] != 0


def test_an_index_without_its_arrays_is_refused_as_stale_and_rebuilt(corpus, tmp_path):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    live = index / Store(index).current()["generation"]
    for path in [*live.glob("arrays-*"), live / "arrays.json"]:  # a generation built before them
        path.unlink()
    Store(index).write_manifest(live)
    with pytest.raises(StaleIndex, match=r"without its arrays \(arrays.json\): run `vnsearch reindex --full`"):
        open_index(index)
    assert report_counts(reindex(corpus, index, workers=1)) == (5, 0, 0, 0, 0)  # rebuilt in full
    assert open_index(index).search(SearchRequest()).total == 5


def test_arrays_of_an_older_version_are_rebuilt_by_a_plain_reindex(corpus, tmp_path):
    """`make run`'s incremental reindex must not leave an index the server refuses."""
    import json

    from search.backends import columns

    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    live = index / Store(index).current()["generation"]
    meta = json.loads((live / columns.ARRAYS).read_text(encoding="utf-8"))
    (live / columns.ARRAYS).write_text(json.dumps({**meta, "version": columns.VERSION - 1}), encoding="utf-8")
    Store(index).write_manifest(live)
    with pytest.raises(StaleIndex, match=rf"has arrays of version {columns.VERSION - 1}, this vnsearch needs "
                                         rf"{columns.VERSION}: run `vnsearch reindex --full`"):
        open_index(index)
    assert report_counts(reindex(corpus, index, workers=1)) == (5, 0, 0, 0, 0)  # rebuilt in full
    assert open_index(index).search(SearchRequest()).total == 5


def test_an_incremental_run_writes_new_arrays_and_leaves_the_live_ones(corpus, tmp_path):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    before = index / Store(index).current()["generation"]
    old_live = np.load(before / "arrays-live.npy")
    (corpus / "new.txt").write_text("Bài mới\n\nTỉnh ủy họp về kinh tế.", encoding="utf-8")
    reindex(corpus, index, workers=1)
    after = index / Store(index).current()["generation"]
    assert after != before
    assert np.load(before / "arrays-live.npy").tolist() == old_live.tolist()  # not written through a link
    assert not os.path.samefile(before / "arrays-live.npy", after / "arrays-live.npy")
    assert int(np.load(after / "arrays-live.npy").sum()) == 6
    assert open_index(index).search(SearchRequest(q="kinh tế")).total >= 1


def test_missing_corpus_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="corpus folder not found"):
        reindex(tmp_path / "nope", tmp_path / "index")


def test_progress_counts_documents_against_a_first_count(tmp_path):
    corpus = big_corpus(tmp_path, 70)
    (corpus / "extra.txt").write_text("Bài lẻ\n\nTỉnh ủy họp.", encoding="utf-8")
    calls = []
    reindex(corpus, tmp_path / "index", workers=1, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (1, 71) and calls[-1] == (71, 71)


def test_incremental_jsonl_reparses_only_changed_lines(tmp_path, monkeypatch):
    corpus = big_corpus(tmp_path, 100)
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    assert (index / Store(index).current()["generation"] / "documents.json").exists()
    lines = (corpus / "many.jsonl").read_text(encoding="utf-8").splitlines()
    lines[7] = json.dumps({"id": "7", "title": "Bài đã sửa", "body": "Tỉnh ủy họp bàn."}, ensure_ascii=False)
    del lines[9]
    (corpus / "many.jsonl").write_text("\n".join(lines), encoding="utf-8")
    parsed = []
    real_loads = json.loads
    monkeypatch.setattr("search.corpus.json.loads", lambda s, *a, **k: parsed.append(s) or real_loads(s, *a, **k))
    assert report_counts(reindex(corpus, index, workers=1)) == (0, 1, 1, 98, 0)
    assert len([s for s in parsed if isinstance(s, bytes)]) == 1  # unchanged lines: hash alone
    assert [h.id for h in search(index, SearchRequest(q="Bài đã sửa")).hits][:1] == ["many/7"]


def test_a_new_extractor_version_rereads_every_document(corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    monkeypatch.setattr("search.corpus.EXTRACTOR_VERSION", "test-next")
    assert report_counts(reindex(corpus, index, workers=1)) == (0, 5, 0, 0, 0)
    assert search(index, SearchRequest()).total == 5  # the old versions are gone


def test_updating_many_documents_in_parallel_replaces_each_once(tmp_path, monkeypatch):
    corpus = big_corpus(tmp_path, 120)
    index = tmp_path / "index"
    reindex(corpus, index, workers=2)
    monkeypatch.setattr("search.corpus.EXTRACTOR_VERSION", "test-next")
    assert report_counts(reindex(corpus, index, workers=2)) == (0, 120, 0, 0, 0)
    assert search(index, SearchRequest()).total == 120


def test_an_incremental_run_leaves_the_live_generations_hash_list_alone(corpus, tmp_path):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    first = Store(index).current()["generation"]
    before = (index / first / "documents.json").read_text(encoding="utf-8")
    (corpus / "new.txt").write_text("Bài mới\n\nTỉnh ủy họp.", encoding="utf-8")
    reindex(corpus, index, workers=1)
    assert (index / first / "documents.json").read_text(encoding="utf-8") == before
