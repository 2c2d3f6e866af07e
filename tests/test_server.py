"""`vnsearch serve --workers N`: pre-forked waitress processes over one index folder."""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.cli import cli
from search.indexer import reindex
from search.store import Store

from .conftest import ROOT

PYTHON = [sys.executable, "-m", "search"]


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _cpu_ticks(pid: int) -> int:
    """User and system CPU time of the process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def _get(port: int, path: str) -> tuple[int, dict]:
    try:  # a new connection each time, so the kernel may hand it to either worker
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_answer_and_all_see_a_reindex(corpus, tmp_path):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    port = _free_port()
    proc = subprocess.Popen([*PYTHON, "serve", "--port", str(port), "--index", str(index), "--workers", "2"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert "2 processes" in proc.stderr.readline()
        deadline = time.time() + 30
        while time.time() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.1)
        while time.time() < deadline and len(_children(proc.pid)) < 2:
            time.sleep(0.1)
        workers = _children(proc.pid)
        assert len(workers) == 2
        # Before any request: each worker has the index the parent opened (its maps inherited),
        # and the parent has let go of it (an old generation's files are not kept after a reindex).
        first = Store(index).current()["generation"]
        assert all(f"{first}/arrays-live.npy" in _maps(pid) for pid in workers)
        deadline = time.time() + 10
        while time.time() < deadline and f"{first}/arrays-live.npy" in _maps(proc.pid):
            time.sleep(0.05)
        assert f"{first}/arrays-live.npy" not in _maps(proc.pid)
        for generation, total in ((Store(index).current()["generation"], 5), (None, 6)):
            if generation is None:  # a reindex while the server runs
                (corpus / "new.txt").write_text("Bài mới\n\nTỉnh ủy họp về kinh tế.", encoding="utf-8")
                reindex(corpus, index, workers=1)
                generation = Store(index).current()["generation"]
            answers = [_get(port, "/healthz") for _ in range(40)]
            assert {(s, a["generation"], a["documents"]) for s, a in answers} == {(200, generation, total)}
            status, found = _get(port, "/api/search?q=")
            assert status == 200 and found["total"] == total
            for pid in workers:  # each worker has opened (mapped) the live generation itself
                assert f"{generation}/arrays-live.npy" in _maps(pid)
        # One client that keeps its connection: each response ends it, so the next request
        # goes to whichever worker takes it, and both do work (a kept-alive connection stays
        # with one worker while the other idles).
        cpu = [_cpu_ticks(pid) for pid in workers]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(60):
            conn.request("GET", f"/search?q=t%E1%BB%89nh+%E1%BB%A7y&page={1 + i % 2}")
            response = conn.getresponse()
            assert response.status == 200 and response.getheader("Connection") == "close"
            response.read()
        conn.close()
        assert all(_cpu_ticks(pid) > before for pid, before in zip(workers, cpu))
        assert _children(proc.pid) == workers  # none died on the way
        os.kill(workers[0], signal.SIGKILL)  # a worker that dies is started again
        deadline = time.time() + 15
        while time.time() < deadline and (len(_children(proc.pid)) < 2 or workers[0] in _children(proc.pid)):
            time.sleep(0.1)
        assert len(_children(proc.pid)) == 2 and workers[0] not in _children(proc.pid)
        assert _get(port, "/healthz")[0] == 200
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stderr.close()
    assert proc.returncode == 0
    for pid in workers[1:]:  # stopped with the parent
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_workers_option_is_wired_and_checked(monkeypatch, tmp_path):
    calls = {}

    def fake_serve(make_app, host, port, workers, sock, forked):
        calls.update(index=make_app().config["INDEX_DIR"], workers=workers, port=port == sock.getsockname()[1] > 0)
        forked()
        sock.close()

    monkeypatch.setattr("web.server.serve", fake_serve)
    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path), "--port", "0", "--workers", "3"])
    assert result.exit_code == 0, result.output
    assert calls == {"index": str(tmp_path), "workers": 3, "port": True}  # bound before the fork
    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path), "--workers", "0"])
    assert result.exit_code == 2 and "--workers" in result.output and "0 is not in the range x>=1" in result.output


@pytest.mark.parametrize("forkable", [True, False])
def test_the_workers_inherit_the_open_index_only_from_a_forkable_backend(monkeypatch, tmp_path, forkable):
    """A backend that says it is forkable (the embedded one) stays open for the fork and the
    parent closes it once the workers run; another (a client's connections) is closed first."""
    from search.query import Index

    events = []
    backend = type("Opened", (), {"forkable": True} if forkable else {})()
    monkeypatch.setattr(Index, "backend", property(lambda self: backend))
    monkeypatch.setattr(Index, "close", lambda self: events.append("closed"))

    def fake_serve(make_app, host, port, workers, sock, forked):
        events.append("forked")
        forked()
        sock.close()

    monkeypatch.setattr("web.server.serve", fake_serve)
    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path), "--port", "0", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert events == (["forked", "closed"] if forkable else ["closed", "forked", "closed"])


@pytest.mark.parametrize("workers", [0, -2])
def test_the_server_refuses_fewer_than_one_worker(workers):
    from web.server import serve

    with pytest.raises(ValueError, match="workers must be at least 1"):
        serve(lambda: None, "127.0.0.1", 0, workers)


def test_threads_of_one_process_search_one_index_at_once(tmp_path):
    """waitress answers with several threads: concurrent searches (postings, stored fields, the
    suggestion's vocabulary walk) must not share a file position (they did with compound=False)."""
    from concurrent.futures import ThreadPoolExecutor

    from search.query import SearchRequest, open_index

    from .test_robustness import big_corpus

    index = tmp_path / "index"
    reindex(big_corpus(tmp_path / "c", 150), index, workers=1)
    queries = ["tỉnh ủy", "tinh uy hoi nghi", "bí thư", "tran quoc cuongg", '"hội nghị"', "kinh tế NOT đảng", ""]
    with open_index(index) as ix:
        expected = [ix.search(SearchRequest(q=q)).as_json() for q in queries]
    with open_index(index) as ix, ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: ix.search(SearchRequest(q=queries[i % len(queries)])).as_json(), range(280)))
    strip = [{k: v for k, v in r.items() if k != "took_ms"} for r in expected]
    assert [{k: v for k, v in r.items() if k != "took_ms"} for r in got] == [strip[i % len(queries)] for i in range(280)]


def test_a_stop_while_the_workers_start_stops_them_all(tmp_path):
    """SIGTERM that arrives while the parent is still forking (the first worker started, the
    second not yet) stops the parent and every worker: none is started after the stop."""
    script = (
        "import os, sys, time\n"
        "from flask import Flask\n"
        "from web import server\n"
        "started = []\n"
        "real_fork = os.fork\n"
        "def slow_fork():\n"
        "    pid = real_fork()\n"
        "    if pid:\n"
        "        print(pid, flush=True)\n"
        "        time.sleep(1.5)  # the stop comes now, between two forks\n"
        "    return pid\n"
        "os.fork = slow_fork\n"
        "server.serve(lambda: Flask('t'), '127.0.0.1', 0, workers=3)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        first = int(proc.stdout.readline())
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        workers = [first, *(int(line) for line in proc.stdout.read().split())]
        assert len(workers) <= 2  # the third is never started
        for pid in workers:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


SLOW_APP = (
    "import os, sys, time\n"
    "from flask import Flask, jsonify\n"
    "from web import server\n"
    "def make_app():\n"
    "    app = Flask('slow')\n"
    "    @app.get('/slow')\n"
    "    def slow():  # sleeping lets the GIL go, as a process busy with one request would not\n"
    "        started = time.time()\n"
    "        time.sleep(0.6)\n"
    "        return jsonify(pid=os.getpid(), started=started, ended=time.time())\n"
    "    return app\n"
    "sock = server.bind('127.0.0.1', 0)\n"
    "print(sock.getsockname()[1], flush=True)\n"
    "server.serve(make_app, '127.0.0.1', 0, workers=2, sock=sock)\n"
)


@contextlib.contextmanager
def _slow_server():
    """Two workers of an app whose /slow answers in 0.6 s: its port."""
    proc = subprocess.Popen([sys.executable, "-c", SLOW_APP], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        deadline = time.time() + 30
        while time.time() < deadline and len(_children(proc.pid)) < 2:
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


def test_a_worker_takes_one_request_at_a_time():
    """Four requests at once on two workers: each worker answers two, one after the other,
    instead of one worker taking all four while the other idles (a busy worker's accepting
    thread gets the GIL whenever the request's thread lets it go)."""
    from concurrent.futures import ThreadPoolExecutor

    with _slow_server() as port:
        assert _get(port, "/slow")[0] == 200  # both workers are up (the first request is answered)
        with ThreadPoolExecutor(4) as pool:
            answers = [a for s, a in pool.map(lambda _: _get(port, "/slow"), range(4))]
    by_worker: dict[int, list] = {}
    for a in answers:
        by_worker.setdefault(a["pid"], []).append((a["started"], a["ended"]))
    assert sorted(len(spans) for spans in by_worker.values()) == [2, 2]
    for spans in by_worker.values():
        (_, first_end), (second_start, _) = sorted(spans)
        assert second_start >= first_end  # never two at once in one worker


def test_a_connection_that_sends_nothing_holds_no_worker_for_long():
    """Silent connections (a client that connects and waits, or a slow-loris) count as a
    worker's work for a moment only: the requests behind them are still answered."""
    with _slow_server() as port:
        silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
        try:
            started = time.time()
            assert _get(port, "/slow")[0] == 200
            assert time.time() - started < 5  # waitress would wait 120 s for the silent ones
        finally:
            for s in silent:
                s.close()


def test_the_warm_up_reads_what_the_first_requests_need(seed_index):
    """What a server reads once it listens: both sets of pyvi's dictionary, the reference
    tables, every template, rapidfuzz; then the collector leaves it all alone."""
    import gc

    from search import lexicon
    from search.gazetteer import gazetteer
    from web import create_app
    from web.server import _warm

    for cached in (lexicon._accented, lexicon._folded, gazetteer):
        cached.cache_clear()
    app = create_app({"INDEX_DIR": str(seed_index), "TEMPLATE_CACHE": False})
    gc.unfreeze()
    try:
        _warm(app)
        assert all(cached.cache_info().currsize == 1 for cached in (lexicon._accented, lexicon._folded, gazetteer))
        assert {t.name for t in app.jinja_env.cache.values()} == set(app.jinja_env.list_templates())
        assert "rapidfuzz.process" in sys.modules
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_one_process_serves_with_the_collector_frozen_over_the_open_index(monkeypatch, seed_index):
    """As after a reopen (web.live_index): the first request does not scan the index's
    objects (a 30 ms full collection on the 51,000-article index)."""
    import gc

    import waitress.server

    import web
    from web import server

    apps, frozen = [], []

    class Server:
        channel_class = None

        def run(self):
            pass

    def create_app(config=None):
        apps.append(make_app(config))
        return apps[-1]

    make_app = web.create_app
    monkeypatch.setattr(web, "create_app", create_app)
    monkeypatch.setattr(waitress.server, "create_server", lambda app, **kw: Server())
    monkeypatch.setattr(server, "_warm_after_first_answer", lambda server, app: None)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(apps[0].extensions[web.EXTENSION]._backend is not None))
    result = CliRunner().invoke(cli, ["serve", "--index", str(seed_index), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert frozen == [True]


def test_a_warm_up_that_fails_is_one_line_and_the_server_goes_on(monkeypatch, seed_index, caplog):
    import gc

    from search import lexicon
    from web import create_app
    from web.server import _warm

    def missing():
        raise FileNotFoundError("pyvi/models/words.txt")

    monkeypatch.setattr(lexicon, "words", missing)
    app = create_app({"INDEX_DIR": str(seed_index), "TEMPLATE_CACHE": False})
    try:
        _warm(app)
    finally:
        gc.unfreeze()
    assert [r.getMessage() for r in caplog.records] == [
        "vnsearch: warming up stopped: FileNotFoundError: pyvi/models/words.txt"]


def test_the_warm_up_without_an_app_reads_the_searches_part_only():
    """As bench/query_latency.py calls it: the dictionary and the tables, no freezing."""
    import gc

    from search import lexicon
    from web.server import _warm

    lexicon._accented.cache_clear()
    gc.unfreeze()
    _warm()
    assert lexicon._accented.cache_info().currsize == 1 and gc.get_freeze_count() == 0


@contextlib.contextmanager
def _in_thread(app):
    """A waitress server of `app` on a free port, run in a thread, its warm-up as
    ``web.server._waitress`` starts it: (server, port)."""
    import threading

    import waitress.server

    from web import server as web_server

    server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=2)
    web_server._warm_after_first_answer(server, app)
    stop = threading.Event()

    def run() -> None:  # waitress's loop (server.run), a pass at a time, until told to stop
        while not stop.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield server, server.effective_port
    finally:
        stop.set()
        thread.join(10)
        for dispatcher in list(server._map.values()):  # the server, its trigger, its connections
            dispatcher.close()  # once the loop is done with them (closing them under it: EBADF)
        server.task_dispatcher.shutdown()


def test_the_warm_up_starts_once_the_first_request_is_answered(monkeypatch):
    """The first request (what a readiness check waits for) has the interpreter to itself:
    sharing the GIL with the warm-up, it took 15 to 50 ms instead of 7."""
    import threading

    from flask import Flask

    from web import server as web_server

    warmed, release = threading.Event(), threading.Event()
    monkeypatch.setattr(web_server, "WARM_WAIT", 60)
    monkeypatch.setattr(web_server, "_warm", lambda app: warmed.set())
    app = Flask(__name__)
    app.get("/first")(lambda: "ok" if release.wait(10) else "late")
    with _in_thread(app) as (server, port):
        answer = []
        client = threading.Thread(target=lambda: answer.append(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/first", timeout=10).read()))
        client.start()
        assert not warmed.wait(0.5)  # the request is being answered: no warm-up beside it
        release.set()
        client.join(10)
        assert answer == [b"ok"]
        assert warmed.wait(10)
        assert server.application is app  # the requests after the first go straight to the app


def test_without_a_request_the_warm_up_starts_after_a_moment(monkeypatch):
    import threading

    from flask import Flask

    from web import server as web_server

    warmed = threading.Event()
    monkeypatch.setattr(web_server, "WARM_WAIT", 0.1)
    monkeypatch.setattr(web_server, "_warm", lambda app: warmed.set())
    with _in_thread(Flask(__name__)):
        assert warmed.wait(10)
