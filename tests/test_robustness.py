"""Nothing an operator or an attacker does takes vnsearch down (issue 13): bounded requests,
bad Host headers, killed reindexes, full and read-only disks, crashed builds, damaged
indexes, files read with warnings. Processes and disks are real where the item is about them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from search.cli import cli
from search.errors import IndexDamaged, NoSpace, ReindexBusy
from search.facets import MAX_VALUES
from search.indexer import reindex
from search.query import SearchRequest, open_index
from search.store import MANIFEST, VERIFIED, Store
from web import create_app
from web.limits import MAX_URL_CHARS

from .conftest import search

ROOT = Path(__file__).resolve().parent.parent
PYTHON = [sys.executable, "-m", "search"]


def big_corpus(folder: Path, n: int = 400) -> Path:
    """`n` JSONL articles made of the seed texts, enough for the worker pool to start."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt"))]
    lines = [json.dumps({"id": str(i), "title": f"Bài {i}", "body": seeds[i % 5] + f"\nSố {i}"}, ensure_ascii=False)
             for i in range(n)]
    (folder / "many.jsonl").write_text("\n".join(lines), encoding="utf-8")
    return folder


def children(pid: int) -> set[int]:
    """The live child processes of `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def client(shared_seed_index):
    return create_app({"INDEX_DIR": str(shared_seed_index), "TESTING": True}).test_client()


# --- 1. requests are bounded ---------------------------------------------------------------

def test_many_filter_values_are_refused_before_any_work(client):
    values = [("province", f"Điện Biên {i}") for i in range(MAX_VALUES + 1)]
    r = client.get("/search?" + urlencode(values))
    assert r.status_code == 400
    assert f"tối đa {MAX_VALUES} giá trị “Tỉnh, thành”" in r.get_data(as_text=True)
    r = client.get("/api/search?" + urlencode(values))
    assert r.status_code == 400 and "too many 'province' values" in r.get_json()["error"]


def test_the_largest_request_allowed_costs_about_a_normal_search(client):
    # The most a URL may carry: 20 values in each facet, as long as the URL limit lets them be.
    pairs = [(facet, f"{facet} {'x' * 90} {i}") for facet in ("province", "province_2025", "secretary")
             for i in range(MAX_VALUES)]
    url = "/search?" + urlencode(pairs)
    assert len(url) <= MAX_URL_CHARS
    started = time.perf_counter()
    r = client.get(url)
    assert r.status_code == 200
    assert len(r.data) < 2_000_000 and time.perf_counter() - started < 3
    assert client.get("/api/search?" + urlencode(pairs)).status_code == 200


def test_long_values_and_urls_get_their_own_status(client):
    r = client.get("/search?secretary=" + "a" * 300)
    assert r.status_code == 400 and "quá dài" in r.get_data(as_text=True)
    long_url = "/search?q=x&" + "&".join(f"p{i}={'v' * 50}" for i in range(200))
    assert len(long_url) > MAX_URL_CHARS
    r = client.get(long_url)
    assert r.status_code == 414 and "Địa chỉ yêu cầu quá dài" in r.get_data(as_text=True)
    r = client.get("/api/search?secretary=" + "a" * 100_000)
    assert r.status_code == 414 and "quá dài" in r.get_json()["error"]
    r = client.get("/search?q=a&q=b")
    assert r.status_code == 400 and "“q” chỉ được có một giá trị" in r.get_data(as_text=True)
    r = client.get("/search?" + "&".join(f"x{i}=1" for i in range(200)))
    assert r.status_code == 400 and "quá nhiều tham số" in r.get_data(as_text=True)
    r = client.get("/api/search", headers={"X-Big": "a" * 20_000})
    assert r.status_code == 431 and r.get_json()["error"] == "Phần đầu (header) của yêu cầu quá lớn."


@pytest.fixture
def server(shared_seed_index):
    """`vnsearch serve` on a free port (a real waitress), stopped after the test."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*PYTHON, "serve", "--port", str(port), "--index", str(shared_seed_index)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            break
        time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(10)
    proc.stderr.close()


def raw_get(port: int, target: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", target, headers=headers or {})
    try:
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_waitress_answers_huge_urls_instead_of_resetting(server):
    status, body = raw_get(server, "/search?secretary=" + "a" * 100_000)
    assert status == 414 and "Địa chỉ yêu cầu quá dài".encode() in body
    status, body = raw_get(server, "/search?q=" + "a" * 300_000)  # past waitress's own limit
    assert status == 431 and b"Request Header Fields Too Large" in body


# --- 2. a bad Host is a 400 ----------------------------------------------------------------

@pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..b", "exa mple", "x" * 300, "ví-dụ.vn", "h:99999999"])
@pytest.mark.parametrize("path", ["/", "/search?q=x", "/doc/000_16468085dbf1e3df", "/healthz", "/api/search", "/nope"])
def test_a_bad_host_header_is_a_400(client, host, path):
    r = client.get(path, headers={"Host": host})
    assert r.status_code == 400
    if path in ("/healthz", "/api/search"):
        assert r.get_json() == {"error": "Yêu cầu có tên máy chủ (Host) không hợp lệ."}
    else:
        assert "Yêu cầu có tên máy chủ (Host) không hợp lệ." in r.get_data(as_text=True)
        assert 'href="/search"' in r.get_data(as_text=True)


def test_good_hosts_are_served(client):
    for host in ("localhost", "localhost:5000", "127.0.0.1:80", "[::1]:5000", "tim-kiem.example.vn.", "my_service"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200, host


def test_the_500_page_renders_without_the_url_adapter(client, monkeypatch):
    monkeypatch.setattr("search.query.Index.search", lambda *a: 1 / 0)
    client.application.testing = False  # let the error handler answer, as in production
    r = client.get("/search?q=x", headers={"Host": "a..b"})
    assert r.status_code == 400  # the Host is refused before any search
    r = client.get("/search?q=x")
    assert r.status_code == 500 and "Lỗi máy chủ" in r.get_data(as_text=True)
    r = client.get("/api/search?q=x")
    assert r.status_code == 500 and r.get_json() == {"error": "internal error"}


# --- 3. kill -9 of reindex: no orphan workers, no stale lock ---------------------------------

def test_kill_9_takes_the_workers_with_it_and_frees_the_lock(corpus, tmp_path):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    big = big_corpus(tmp_path / "big", 600)
    proc = subprocess.Popen([*PYTHON, "reindex", "--corpus", str(big), "--index", str(index), "--full",
                             "--workers", "2"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.time() + 90
    while time.time() < deadline and len(workers) < 2 and proc.poll() is None:
        workers |= children(proc.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the worker pool did not start"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(w) for w in workers):
        time.sleep(0.05)
    assert [w for w in workers if alive(w)] == []
    report = reindex(corpus, index, workers=1)  # not refused: nobody holds the lock
    assert len(report.cleared) == 1 and report.unchanged == 5


def test_the_lock_message_names_a_live_process(tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    code = ("import sys, time; from search.store import Store\n"
            f"with Store({str(index)!r}).lock():\n    print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ReindexBusy, match=rf"is running \(pid {holder.pid}\) as `python"):
            Store(index).lock().__enter__()
        (index / ".reindex.lock").write_text("999999999")  # a pid that is not alive
        with pytest.raises(ReindexBusy, match=rf"is running \(pid {holder.pid}\)"):
            Store(index).lock().__enter__()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_forked_children_do_not_hold_the_lock(tmp_path):
    store = Store(tmp_path / "index")
    with store.lock():
        pid = os.fork()
        if pid == 0:  # a child that outlives its parent's hold on the lock
            time.sleep(3)
            os._exit(0)
    try:
        with store.lock():  # released although the child is still running
            assert alive(pid)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


# --- 4. a full disk -----------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """An 8 MB tmpfs (or skip when this machine cannot mount one), with the margin a build
    keeps free brought down to 1 MB to fit it."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    monkeypatch.setattr("search.store.MIN_FREE", 1 << 20)
    monkeypatch.setattr("search.backends.whoosh.MIN_FREE", 1 << 20)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def used(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_a_full_disk_is_refused_before_the_build(small_disk, corpus, tmp_path):
    index = small_disk / "index"
    reindex(corpus, index, workers=1)
    live = Store(index).current()
    big = big_corpus(tmp_path / "big", 600)
    result = CliRunner().invoke(cli, ["reindex", "--corpus", str(big), "--index", str(index), "--full"])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"Error: no space left on {index}: ") and last.endswith(" MB free (the live index is unchanged)")
    assert "Traceback" not in result.output
    assert Store(index).current() == live and [p.name for p in index.glob("gen-*")] == [live["generation"]]


def test_a_disk_that_fills_during_the_build_leaves_the_live_index(small_disk, corpus, tmp_path, monkeypatch):
    index = small_disk / "index"
    reindex(corpus, index, workers=1)
    live, before = Store(index).current(), used(small_disk)
    monkeypatch.setattr("search.store.MIN_FREE", 0)  # let the build run into the wall
    monkeypatch.setattr("search.backends.whoosh.MIN_FREE", 0)
    monkeypatch.setattr("search.backends.whoosh.estimate_index_bytes", lambda *a: 0)
    with pytest.raises(NoSpace, match=rf"no space left on {index}: 1 MB needed, 0 MB free"):
        reindex(big_corpus(tmp_path / "big", 1500), index, full=True, workers=1)
    assert Store(index).current() == live and [p.name for p in index.glob("gen-*")] == [live["generation"]]
    assert used(small_disk) == before
    assert search(index, SearchRequest()).total == 5


def test_enospc_and_a_shrinking_disk_become_no_space(corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    live = Store(index).current()
    calls = iter(range(10**6))
    monkeypatch.setattr(Store, "free_bytes", lambda self: 10**12 if next(calls) < 2 else 10**6)
    with pytest.raises(NoSpace, match=r"no space left on .*: \d+ MB needed, 0 MB free"):
        reindex(big_corpus(tmp_path / "big", 300), index, full=True, workers=1)
    assert Store(index).current() == live and len(list(index.glob("gen-*"))) == 1

    monkeypatch.setattr(Store, "free_bytes", lambda self: 10**12)

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("search.store.Store.write_manifest", full)
    with pytest.raises(NoSpace):
        reindex(big_corpus(tmp_path / "big2", 10), index, full=True, workers=1)
    assert Store(index).current() == live and len(list(index.glob("gen-*"))) == 1


# --- 5. read-only, unreadable and missing folders -------------------------------------------

def test_a_read_only_index_folder_is_one_line(small_disk, corpus):
    index = small_disk / "index"
    reindex(corpus, index, workers=1)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    done = subprocess.run([*PYTHON, "reindex", "--corpus", str(corpus), "--index", str(index), "--full"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == f"Error: {index / '.reindex.lock'}: Read-only file system"
    assert "Traceback" not in done.stderr
    searched = subprocess.run([*PYTHON, "search", "Điện Biên", "--index", str(index)], cwd=ROOT,
                              capture_output=True, text=True)
    assert searched.returncode == 0 and "kết quả" in searched.stdout  # reading still works


@pytest.mark.parametrize("args, message", [
    (["search", "x", "--index", "{tmp}/index"], "{tmp}/index/CURRENT: Permission denied"),
    (["reindex", "--corpus", "{corpus}", "--index", "{tmp}/index", "--report", "{tmp}/no/such/r.json"],
     "{tmp}/no/such/r.json: No such file or directory"),
    (["reindex", "--corpus", "{tmp}/missing", "--index", "{tmp}/index"], "corpus folder not found: {tmp}/missing"),
])
def test_every_os_error_is_one_line_with_its_path(args, message, corpus, tmp_path, monkeypatch):
    reindex(corpus, tmp_path / "index", workers=1)
    real = Path.read_text

    def guarded(self, *a, **k):
        if self.name == "CURRENT" and args[0] == "search":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", guarded)
    fill = {"tmp": str(tmp_path), "corpus": str(corpus)}
    result = CliRunner().invoke(cli, [a.format(**fill) for a in args])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1] == "Error: " + message.format(**fill)
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- 6. half-built generations -------------------------------------------------------------

def test_half_built_generations_are_cleared_and_reported(corpus, tmp_path):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    (corpus / "new.txt").write_text("Bài mới\n\nTỉnh ủy họp.", encoding="utf-8")
    reindex(corpus, index, workers=1)
    store = Store(index)
    live, previous = store.current()["generation"], store.current()["previous"]
    crashed = [store.new_generation() for _ in range(2)]
    for folder in crashed:
        folder.mkdir()
        (folder / "MAIN_x.seg").write_bytes(b"half")
    result = CliRunner().invoke(cli, ["reindex", "--corpus", str(corpus), "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert f"cleared 2 half-built generation(s) left by an interrupted reindex: " \
           f"{', '.join(sorted(f.name for f in crashed))}" in result.output
    assert sorted(p.name for p in index.glob("gen-*")) == sorted([live, previous])  # nothing changed
    report = reindex(corpus, index, workers=1)
    assert report.cleared == []


# --- 7. a damaged index --------------------------------------------------------------------

def segment(index: Path) -> Path:
    return next((index / Store(index).current()["generation"]).glob("*.seg"))


def damage(how: str, index: Path) -> None:
    seg = segment(index)
    toc = next(seg.parent.glob("*.toc"))
    if how == "truncated segment":
        os.truncate(seg, seg.stat().st_size // 2)
    elif how == "truncated toc":
        os.truncate(toc, 10)
    elif how == "garbage in a segment":  # same size: only the checksum tells
        with open(seg, "r+b") as f:
            f.seek(seg.stat().st_size // 2)
            f.write(os.urandom(10_000))
    elif how == "missing segment":
        seg.unlink()


@pytest.mark.parametrize("how", ["truncated segment", "truncated toc", "garbage in a segment", "missing segment"])
def test_a_damaged_index_says_so_everywhere(how, tmp_path):
    index = tmp_path / "index"
    reindex(big_corpus(tmp_path / "c", 60), index, workers=1)
    damage(how, index)
    with pytest.raises(IndexDamaged, match=rf"the index at {index} is damaged .*: run `vnsearch reindex --full`"):
        open_index(index)
    client = create_app({"INDEX_DIR": str(index)}).test_client()
    r = client.get("/healthz")
    assert r.status_code == 503 and r.get_json()["status"] == "damaged"
    assert "run `vnsearch reindex --full`" in r.get_json()["error"]
    r = client.get("/search?q=x")
    assert r.status_code == 503 and "Chỉ mục bị hỏng" in r.get_data(as_text=True)
    r = client.get("/api/search?q=x")
    assert r.status_code == 503 and "is damaged" in r.get_json()["error"]
    assert client.get("/api/doc/c/many/1").status_code == 503
    done = subprocess.run([*PYTHON, "search", "x", "--index", str(index)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and "Aborted" not in done.stderr
    line = done.stderr.strip()
    assert line.startswith(f"Error: the index at {index} is damaged (") and "\n" not in line
    assert line.endswith("): run `vnsearch reindex --full`")
    report = reindex(tmp_path / "c", index, workers=1)  # even an incremental run rebuilds it
    assert report.added == 60
    assert search(index, SearchRequest()).total == 60


def test_the_manifest_is_a_new_file_in_each_generation(corpus, tmp_path):
    index = tmp_path / "index"
    reindex(corpus, index, workers=1)
    first = index / Store(index).current()["generation"]
    before = (first / MANIFEST).read_text(encoding="utf-8")
    (corpus / "new.txt").write_text("Bài mới\n\nTỉnh ủy họp.", encoding="utf-8")
    reindex(corpus, index, workers=1)
    second = index / Store(index).current()["generation"]
    assert (first / MANIFEST).read_text(encoding="utf-8") == before  # not written through a link
    assert not os.path.samefile(first / MANIFEST, second / MANIFEST)
    files = json.loads((second / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert sorted(files) == sorted(p.name for p in second.iterdir() if p.is_file()
                                   and p.name not in (MANIFEST, VERIFIED) and not p.name.endswith("WRITELOCK"))
    Store(index).verify(second)  # and it checks out


def test_a_file_is_checksummed_once_then_known_by_its_stamp(tmp_path, monkeypatch):
    """Opening reads every CRC only until it was found right: later opens compare size,
    modification time and inode; a file written to, or replaced, is read again."""
    from search import store as store_module

    index = tmp_path / "index"
    reindex(big_corpus(tmp_path / "c", 60), index, workers=1)
    read = []
    real = store_module.checksum
    monkeypatch.setattr(store_module, "checksum", lambda path: read.append(path.name) or real(path))
    open_index(index).close()  # files written in the last seconds are read again (racy)
    monkeypatch.setattr(store_module, "RACY_NS", 0)  # as if the build had ended long ago
    read.clear()
    open_index(index).close()
    assert read == []
    seg = segment(index)
    copy = seg.with_name("copy")
    shutil.copy2(seg, copy)
    os.replace(copy, seg)  # the same bytes in a new inode: read once, found right
    open_index(index).close()
    assert read == [seg.name]
    read.clear()
    damage("garbage in a segment", index)
    with pytest.raises(IndexDamaged, match="does not match its checksum"):
        open_index(index)
    assert read == [seg.name]


def test_serve_says_at_once_that_the_index_is_damaged(tmp_path):
    index = tmp_path / "index"
    reindex(big_corpus(tmp_path / "c", 10), index, workers=1)
    damage("truncated toc", index)
    proc = subprocess.Popen([*PYTHON, "serve", "--port", "0", "--index", str(index)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        proc.stderr.readline()  # "vnsearch: http://..."
        line = proc.stderr.readline()
        assert line.startswith(f"warning: the index at {index} is damaged")
        assert "(pages answer 503 until then)" in line
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stderr.close()


# --- 8-10. warnings of files read not quite as written --------------------------------------

def test_warnings_are_in_the_report_the_cli_and_extract(corpus, tmp_path):
    bad = corpus / "bad.txt"
    text = (corpus / "000_16468085dbf1e3df.txt").read_bytes()
    bad.write_bytes(text[:300] + b"\xff\xfe" + text[300:])
    index = tmp_path / "index"
    report_file = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["reindex", "--corpus", str(corpus), "--index", str(index),
                                      "--report", str(report_file)])
    assert result.exit_code == 0, result.output
    warning = "2 bytes that are not UTF-8 replaced with U+FFFD"
    assert f"  warning {bad}: {warning}" in result.output
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["warnings"] == [{"path": str(bad), "warning": warning}]
    assert report["cleared"] == []
    extracted = CliRunner().invoke(cli, ["extract", str(bad)])
    assert json.loads(extracted.output)["warnings"] == [warning]
