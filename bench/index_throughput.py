"""Indexing throughput of vnsearch (issue 7): full and incremental reindex, where the time
goes, and tantivy indexing the same analysed tokens.

The corpora of ``../shared/corpora`` (baomoi_2017, vietnews_gov, vntc_politics,
vmds_clusters; about 50,900 articles, 150 M characters; not party_committee_subset, whose
ids repeat the others') are copied, still gzip-compressed and byte for byte, into
``--work``/corpus (three of them are larger than vnsearch's 50 MB per-file limit once
uncompressed, so they stay ``.jsonl.gz``; reading them therefore includes gunzip).

Phases (each heavy one runs in its own subprocess, so its CPU time and peak memory are its
own; the tree's memory is also sampled from /proc while it runs):

* ``full``         ``reindex(corpus, index, full=True, workers=--workers)``: wall time,
                   articles/s, MB/s (uncompressed JSONL MB / wall s), CPU of the process and
                   its workers, peak RSS (ru_maxrss of the parent and of the largest worker;
                   sampled sum over the process tree, RSS and PSS).
* ``split``        on a fixed sample (every k-th line of each file, ``--sample`` articles),
                   one process: (a) reading = ``read_corpus`` (gunzip, line hash, JSON, NFC,
                   metadata, body cleaning), with ``metadata.extract`` timed apart; (b) pyvi
                   = ``compound_words`` over title and body; (c) the other analysis = the
                   accented and folded token streams over title and body; (d) Whoosh writing
                   = ``reindex(sample, workers=1)`` minus (a)+(b)+(c). CPU seconds (and %)
                   are extrapolated to the full corpus by characters and compared with the
                   measured full reindex.
* ``tokens``       the token streams vnsearch indexes (accented, folded, compound; title and
                   body), whitespace-joined, for the whole corpus (``--tokens-scope full``,
                   the default without ``--limit``; in ``--workers`` processes) or only the
                   sample (the split phase writes those).
* ``tantivy``      tantivy (6 text fields, "whitespace" tokenizer; positions on the syllable
                   fields, frequencies only on the compound ones, as vnsearch's schema) and
                   Whoosh (the same 6 fields, ``SpaceSeparatedTokenizer``, one process)
                   indexing exactly those strings.
* ``incremental``  a no-change ``reindex(full=False)``, then every 100th line of each file
                   (the next one when that body is empty) gets a sentence appended and
                   ``reindex(full=False)`` runs again: ~1% updated, the rest unchanged.

Run from the repository root::

    .venv/bin/python bench/index_throughput.py                        # everything, full corpus
    .venv/bin/python bench/index_throughput.py --limit 2000 --sample 300   # a quick look
    .venv/bin/python bench/index_throughput.py --wait-quiet 40        # first wait (<= 40 min)
                                                                      # for other benchmarks
    .venv/bin/python bench/index_throughput.py --only tantivy         # redo one phase

Results go to ``--work``/results.json (merged phase by phase) and a table on stdout.
Exits 0 with "skipped: ..." when ``../shared`` is not there.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
CORPUS_FILES = ("baomoi_2017.jsonl.gz", "vietnews_gov.jsonl.gz", "vntc_politics.jsonl.gz",
                "vmds_clusters.jsonl.gz")
PHASES = ("prepare", "full", "split", "tokens", "tantivy", "incremental")
CHANGE_EVERY = 100  # the incremental run changes every 100th line of each file
CHANGE_TEXT = "\n\nCập nhật: bài viết được bổ sung thông tin để đo thời gian cập nhật chỉ mục."
TARGET_FULL_S = 600.0
TARGET_INCREMENTAL = 0.05
TEXT_FIELDS = ("title", "title_fold", "title_word", "body", "body_fold", "body_word")
MB = 1e6

warnings.filterwarnings("ignore", category=SyntaxWarning)  # Whoosh 2.7.4 and pyvi escapes
sys.path.insert(0, str(ROOT))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- the machine: load, other processes, memory of a process tree ---------------------------

def _busy_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (parts + [0] * 8)[:8]
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


def _children_of() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _tree(pid: int) -> list[int]:
    kids = _children_of()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, ()))
    return out


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def other_benchmarks() -> list[str]:
    """Command lines of the other engineers' benchmarks now running."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue
        if ("bench/relevance.py" in cmd or "bench/query_latency.py" in cmd) and "index_throughput" not in cmd:
            found.append(f"{entry} {cmd[:100]}")
    return found


def wait_quiet(minutes: float, max_load: float = 1.5) -> dict:
    """Wait (polling every minute) until no other benchmark runs and the 1-min load is low."""
    started = time.time()
    while True:
        others, load1 = other_benchmarks(), os.getloadavg()[0]
        waited = (time.time() - started) / 60
        if not others and load1 < max_load:
            log(f"quiet: load {load1:.2f}, no other benchmark (waited {waited:.1f} min)")
            return {"waited_min": round(waited, 1), "quiet": True, "load1": load1}
        if waited >= minutes:
            log(f"still busy after {waited:.1f} min (load {load1:.2f}; {len(others)} benchmark "
                "processes): running anyway")
            return {"waited_min": round(waited, 1), "quiet": False, "load1": load1, "others": others}
        log(f"waiting: load {load1:.2f}, {len(others)} other benchmark processes "
            f"({'; '.join(o.split(' ', 1)[1][:50] for o in others[:2])})")
        time.sleep(60)


class Watch:
    """Samples, while a subprocess runs: the RSS and PSS summed over its process tree, the load
    average, and (from /proc/stat) how much CPU the rest of the machine used."""

    def __init__(self, pid: int, heartbeat: float = 60.0, label: str = ""):
        self.pid, self.heartbeat, self.label = pid, heartbeat, label
        self.peak_rss = self.peak_pss = 0
        self.max_procs = 0
        self.loads: list[float] = []
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._busy0 = _busy_ticks()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        last_beat = time.perf_counter()
        while not self._stop.wait(0.5):
            pids = _tree(self.pid)
            rss = pss = 0
            for p in pids:
                r, s = _rss_pss_kb(p)
                rss, pss = rss + r, pss + s
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.max_procs = max(self.max_procs, len(pids))
            self.loads.append(os.getloadavg()[0])
            if time.perf_counter() - last_beat >= self.heartbeat:
                last_beat = time.perf_counter()
                log(f"  {self.label} {time.perf_counter() - self._t0:6.0f} s, {len(pids)} processes, "
                    f"RSS {rss / 1024:,.0f} MB, PSS {pss / 1024:,.0f} MB, load {self.loads[-1]:.2f}")

    def stop(self, our_cpu_s: float) -> dict:
        self._stop.set()
        self._thread.join()
        wall = time.perf_counter() - self._t0
        busy1 = _busy_ticks()
        hz = os.sysconf("SC_CLK_TCK")
        busy_s = (busy1[0] - self._busy0[0]) / hz
        return {
            "tree_peak_rss_mb": round(self.peak_rss / 1024, 1),
            "tree_peak_pss_mb": round(self.peak_pss / 1024, 1),
            "max_processes": self.max_procs,
            "load1_mean": round(sum(self.loads) / len(self.loads), 2) if self.loads else None,
            "load1_max": round(max(self.loads), 2) if self.loads else None,
            "machine_busy_cpu_s": round(busy_s, 1),
            "others_cpu_s": round(max(0.0, busy_s - our_cpu_s), 1),
            "others_cores": round(max(0.0, busy_s - our_cpu_s) / wall, 2) if wall else None,
        }


def run_child(name: str, label: str, **kwargs) -> dict:
    """Run `name` in a fresh interpreter; its result, with CPU, memory and load figures."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name,
           "--child-args", json.dumps(kwargs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
    watch = Watch(proc.pid, label=label)
    out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    machine = watch.stop(cpu)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed (exit {proc.returncode})")
    result = json.loads(next(l for l in out.splitlines() if l.startswith("RESULT "))[7:])
    result["process_wall_s"] = round(wall, 2)
    result["tree_cpu_s"] = round(cpu, 1)
    result["machine"] = machine
    return result


def _rusage(who) -> dict:
    r = resource.getrusage(who)
    return {"user_s": round(r.ru_utime, 2), "sys_s": round(r.ru_stime, 2),
            "cpu_s": round(r.ru_utime + r.ru_stime, 2), "maxrss_mb": round(r.ru_maxrss / 1024, 1)}


def _dir_mb(path: Path) -> float:
    seen, total = set(), 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            st = os.stat(os.path.join(dirpath, name))
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return round(total / MB, 1)


# --- the work corpus ---------------------------------------------------------------------------

def _read_lines(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as f:
        return [line for line in f.read().split(b"\n") if line.strip()]


def _write_lines(path: Path, lines: list[bytes]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with gzip.open(tmp, "wb", compresslevel=6) as f:
        f.write(b"\n".join(lines) + b"\n")
    os.replace(tmp, path)


def _stride(n: int, m: int) -> list[int]:
    """m indices spread evenly over range(n)."""
    m = min(n, m)
    return [i * n // m for i in range(m)] if m else []


def prepare(work: Path, limit: int | None, sample: int) -> dict:
    """Copy the corpora (all, or `limit` lines spread evenly) into work/pristine, work/corpus,
    and a `sample`-line subset into work/sample; count articles, characters and bytes."""
    pristine, sample_dir = work / "pristine", work / "sample"
    for d in (pristine, sample_dir):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    files = {name: _read_lines(CORPORA / name) for name in CORPUS_FILES}
    total = sum(len(v) for v in files.values())
    stats = {"files": {}, "articles": 0, "chars": 0, "jsonl_mb": 0.0, "gz_mb": 0.0, "text_mb": 0.0}
    n_all = min(total, limit) if limit else total
    sample_chars = 0
    for name, lines in files.items():
        if limit:
            lines = [lines[i] for i in _stride(len(lines), round(len(lines) * n_all / total))]
            _write_lines(pristine / name, lines)
        else:
            shutil.copyfile(CORPORA / name, pristine / name)
        chars = text_bytes = 0
        for line in lines:
            record = json.loads(line)
            text = (record.get("title") or "") + (record.get("body") or "")
            chars += len(text)
            text_bytes += len(text.encode("utf-8"))
        picks = _stride(len(lines), round(len(lines) * min(sample, n_all) / n_all))
        sample_lines = [lines[i] for i in picks]
        _write_lines(sample_dir / name, sample_lines)
        for line in sample_lines:
            record = json.loads(line)
            sample_chars += len((record.get("title") or "") + (record.get("body") or ""))
        jsonl = sum(len(l) + 1 for l in lines)
        stats["files"][name] = {"articles": len(lines), "chars": chars, "jsonl_mb": round(jsonl / MB, 1),
                                "gz_mb": round((pristine / name).stat().st_size / MB, 1),
                                "sample": len(sample_lines)}
        stats["articles"] += len(lines)
        stats["chars"] += chars
        stats["jsonl_mb"] += jsonl / MB
        stats["text_mb"] += text_bytes / MB
        stats["gz_mb"] += (pristine / name).stat().st_size / MB
    for key in ("jsonl_mb", "gz_mb", "text_mb"):
        stats[key] = round(stats[key], 1)
    stats["sample_articles"] = sum(f["sample"] for f in stats["files"].values())
    stats["sample_chars"] = sample_chars
    restore(work)
    return stats


def restore(work: Path) -> None:
    """work/corpus := the pristine copies."""
    corpus = work / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir()
    for path in sorted((work / "pristine").iterdir()):
        shutil.copyfile(path, corpus / path.name)


def change_one_percent(corpus: Path) -> int:
    """Append a sentence to the body of every 100th line of each file (the next line with a
    body when that one has none); the other lines stay byte for byte. How many changed."""
    changed = 0
    for path in sorted(corpus.glob("*.jsonl.gz")):
        lines = _read_lines(path)
        i = CHANGE_EVERY - 1
        while i < len(lines):
            j = i
            while j < len(lines):
                record = json.loads(lines[j])
                if isinstance(record.get("body"), str) and record["body"].strip():
                    record["body"] += CHANGE_TEXT
                    lines[j] = json.dumps(record, ensure_ascii=False).encode("utf-8")
                    changed += 1
                    break
                j += 1
            i = max(i + CHANGE_EVERY, j + 1)
        _write_lines(path, lines)
    return changed


# --- children: what runs in a subprocess -------------------------------------------------------

def child_reindex(corpus: str, index: str, full: bool, workers: int) -> dict:
    t0 = time.perf_counter()
    from search.backends import whoosh as embedded
    from search.indexer import reindex
    from search.store import Store

    import_s = time.perf_counter() - t0
    # Where the time goes inside reindex: when the new generation's writer was started (for an
    # incremental run: after the generation was copied with hard links) and how long the final
    # commit took (MpWriter: waiting for the workers to drain their queue, finish their
    # segments, then the TOC). The methods are wrapped in this process only.
    marks: dict[str, float] = {}

    def wrap(name):
        fn = getattr(embedded.WhooshBuild, name)

        def timed(self, *a, **k):
            marks[name + "_at"] = round(time.perf_counter() - t0, 2)
            c = time.perf_counter()
            try:
                return fn(self, *a, **k)
            finally:
                marks[name + "_s"] = round(time.perf_counter() - c, 2)
        setattr(embedded.WhooshBuild, name, timed)
    wrap("_start")
    wrap("commit")
    t0 = time.perf_counter()
    report = reindex(Path(corpus), Path(index), full=full, progress=None, workers=workers)
    wall = time.perf_counter() - t0
    reasons: dict[str, int] = {}
    for r in report.rejected:
        key = r["reason"].split(":")[0][:60]
        reasons[key] = reasons.get(key, 0) + 1
    current = Store(index).current() or {}
    return {
        "wall_s": round(wall, 2), "import_s": round(import_s, 2), "report_s": report.seconds,
        "added": report.added, "updated": report.updated, "removed": report.removed,
        "unchanged": report.unchanged, "rejected": len(report.rejected), "rejected_reasons": reasons,
        "documents": current.get("documents"), "marks": marks,
        "index_mb": _dir_mb(Path(index) / current["generation"]) if current else None,
        "self": _rusage(resource.RUSAGE_SELF), "children": _rusage(resource.RUSAGE_CHILDREN),
    }


class _Clock:
    """CPU and wall time accumulated over calls of a wrapped function."""

    def __init__(self, fn):
        self.fn, self.cpu, self.wall, self.calls = fn, 0.0, 0.0, 0

    def __call__(self, *args, **kwargs):
        c, w = time.process_time(), time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.cpu += time.process_time() - c
            self.wall += time.perf_counter() - w
            self.calls += 1


def _timed(fn):
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return out, {"cpu_s": round(time.process_time() - c, 3), "wall_s": round(time.perf_counter() - w, 3)}


def _analyse(title: str, body: str, acc, fol, compound_words) -> tuple[dict, float, float]:
    """The six whitespace-joined token strings of one article; (strings, pyvi CPU, other CPU)."""
    c0 = time.process_time()
    out = {"title_word": " ".join(compound_words(title)), "body_word": " ".join(compound_words(body))}
    c1 = time.process_time()
    for name, text in (("title", title), ("body", body)):
        out[name] = " ".join([t.text for t in acc(text, positions=True, mode="index")])
        out[name + "_fold"] = " ".join([t.text for t in fol(text, positions=True, mode="index")])
    c2 = time.process_time()
    return out, c1 - c0, c2 - c1


def child_split(sample: str, index: str, tokens: str) -> dict:
    import search.analysis as analysis
    import search.corpus as corpus_mod
    from search.analysis import accented_analyzer, compound_words, folded_analyzer
    from search.corpus import Article, read_corpus
    from search.indexer import reindex
    from search.metadata import extract

    # Warm up: the pyvi model, the gazetteer, regexes; (d)'s reindex finds them loaded too.
    _, warm = _timed(lambda: (compound_words("Bí thư Tỉnh ủy Hà Giang"),
                              extract("Bí thư Tỉnh ủy Hà Giang\nHà Giang - Ngày 2/3/2020, ...")))
    sample_dir = Path(sample)
    files = sorted(sample_dir.glob("*.jsonl.gz"))

    # (a) reading, with metadata.extract timed apart and gunzip + line hashing alone
    def gunzip_hash():
        for path in files:
            for line in gzip.decompress(path.read_bytes()).splitlines():
                corpus_mod._hash(line)
    _, gz = _timed(gunzip_hash)
    clock = _Clock(corpus_mod.extract)
    corpus_mod.extract = clock
    items, reading = _timed(lambda: list(read_corpus(sample_dir)))
    corpus_mod.extract = clock.fn
    articles = [a for a in items if isinstance(a, Article)]
    chars = sum(len(a.title) + len(a.body) for a in articles)

    # (b) pyvi and (c) the other analysis, token strings kept for the tantivy phase
    features, segment = _Clock(analysis._features), _Clock(analysis._segment)
    analysis._features, analysis._segment = features, segment
    acc, fol = accented_analyzer(), folded_analyzer()
    pyvi_cpu = other_cpu = 0.0
    w0 = time.perf_counter()
    with open(tokens, "w", encoding="utf-8") as out:
        for a in articles:
            strings, p, o = _analyse(a.title, a.body, acc, fol, compound_words)
            pyvi_cpu, other_cpu = pyvi_cpu + p, other_cpu + o
            out.write(json.dumps({"id": a.id, **strings}, ensure_ascii=False) + "\n")
    analysis_wall = time.perf_counter() - w0
    analysis._features, analysis._segment = features.fn, segment.fn

    # (d) a single-process reindex of the sample: reading + analysis + Whoosh writing
    shutil.rmtree(index, ignore_errors=True)
    report, total = _timed(lambda: reindex(sample_dir, Path(index), full=True, workers=1))
    return {
        "articles": len(articles), "items": len(items), "chars": chars, "warmup": warm,
        "reindex_added": report.added,
        "gunzip_hash": gz, "reading": reading,
        "metadata": {"cpu_s": round(clock.cpu, 3), "wall_s": round(clock.wall, 3)},
        "pyvi": {"cpu_s": round(pyvi_cpu, 3)},
        "pyvi_features": {"cpu_s": round(features.cpu, 3)},
        "pyvi_segment": {"cpu_s": round(segment.cpu, 3)},  # features + CRF tagging + joining
        "other_analysis": {"cpu_s": round(other_cpu, 3)},
        "analysis_wall_s": round(analysis_wall, 3),
        "reindex_1proc": total,
        "self": _rusage(resource.RUSAGE_SELF),
    }


_WORKER: dict = {}


def _token_worker_init():
    from search.analysis import accented_analyzer, compound_words, folded_analyzer

    compound_words("Khởi động")
    _WORKER.update(acc=accented_analyzer(), fol=folded_analyzer(), cw=compound_words)


def _token_job(job: tuple[str, str, str]) -> tuple[str, float, float]:
    doc_id, title, body = job
    strings, p, o = _analyse(title, body, _WORKER["acc"], _WORKER["fol"], _WORKER["cw"])
    return json.dumps({"id": doc_id, **strings}, ensure_ascii=False), p, o


def child_tokens(corpus: str, tokens: str, procs: int) -> dict:
    """Token strings of the whole corpus: read here, analysed in `procs` worker processes."""
    import multiprocessing

    from search.corpus import Article, read_corpus

    reading_cpu = 0.0

    def jobs():
        nonlocal reading_cpu
        it = read_corpus(Path(corpus))
        while True:
            c = time.process_time()
            item = next(it, None)
            reading_cpu += time.process_time() - c
            if item is None:
                return
            if isinstance(item, Article):
                yield item.id, item.title, item.body

    t0 = time.perf_counter()
    pyvi_cpu = other_cpu = 0.0
    n = 0
    with multiprocessing.get_context("fork").Pool(procs, initializer=_token_worker_init) as pool, \
            open(tokens, "w", encoding="utf-8") as out:
        for line, p, o in pool.imap(_token_job, jobs(), chunksize=16):
            out.write(line + "\n")
            pyvi_cpu, other_cpu, n = pyvi_cpu + p, other_cpu + o, n + 1
            if n % 5000 == 0:
                log(f"  tokens: {n:,} articles, {time.perf_counter() - t0:.0f} s")
        pool.close()
        pool.join()
    return {"articles": n, "wall_s": round(time.perf_counter() - t0, 2),
            "reading_cpu_s": round(reading_cpu, 2), "pyvi_cpu_s": round(pyvi_cpu, 2),
            "other_cpu_s": round(other_cpu, 2), "tokens_mb": round(Path(tokens).stat().st_size / MB, 1),
            "self": _rusage(resource.RUSAGE_SELF), "children": _rusage(resource.RUSAGE_CHILDREN)}


def _load_tokens(tokens: str) -> tuple[list[dict], dict]:
    return _timed(lambda: [json.loads(line) for line in open(tokens, encoding="utf-8")])


def child_tantivy(tokens: str, index: str, threads: int, heap_mb: int) -> dict:
    import tantivy

    docs, load = _load_tokens(tokens)
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in TEXT_FIELDS:
        sb.add_text_field(name, tokenizer_name="whitespace",
                          index_option="freq" if name.endswith("_word") else "position")
    schema = sb.build()
    shutil.rmtree(index, ignore_errors=True)
    os.makedirs(index)
    ix = tantivy.Index(schema, path=index)
    c0, w0 = time.process_time(), time.perf_counter()
    writer = ix.writer(heap_size=heap_mb * 1_000_000, num_threads=threads)
    for d in docs:
        writer.add_document(tantivy.Document(**d))
    add_s = time.perf_counter() - w0
    writer.commit()
    writer.wait_merging_threads()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    ix.reload()
    return {"docs": ix.searcher().num_docs, "load": load, "add_s": round(add_s, 2), "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2), "index_mb": _dir_mb(Path(index)), "threads": threads,
            "heap_mb": heap_mb, "self": _rusage(resource.RUSAGE_SELF)}


def child_whoosh_tokens(tokens: str, index: str, procs: int) -> dict:
    from whoosh import index as whoosh_index
    from whoosh.analysis import SpaceSeparatedTokenizer
    from whoosh.fields import ID, TEXT, Schema

    docs, load = _load_tokens(tokens)
    fields = {"id": ID(stored=True, unique=True)}
    for name in TEXT_FIELDS:
        fields[name] = TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=not name.endswith("_word"))
    shutil.rmtree(index, ignore_errors=True)
    os.makedirs(index)
    ix = whoosh_index.create_in(index, Schema(**fields))
    c0, w0 = time.process_time(), time.perf_counter()
    writer = (ix.writer(procs=procs, multisegment=True, limitmb=128, batchsize=64) if procs > 1
              else ix.writer(limitmb=256))
    for d in docs:
        writer.add_document(**d)
    writer.commit()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    count = ix.doc_count()
    ix.close()
    return {"docs": count, "load": load, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "index_mb": _dir_mb(Path(index)), "procs": procs,
            "self": _rusage(resource.RUSAGE_SELF), "children": _rusage(resource.RUSAGE_CHILDREN)}


def child_prepare(work: str, limit: int | None, sample: int) -> dict:
    return prepare(Path(work), limit, sample)


def child_change(corpus: str) -> dict:
    return {"changed": change_one_percent(Path(corpus))}


# Even the corpus copying runs in a child: a child's ru_maxrss starts from its parent's RSS
# at fork time, so the orchestrating process must stay small.
CHILDREN = {"reindex": child_reindex, "split": child_split, "tokens": child_tokens,
            "tantivy": child_tantivy, "whoosh_tokens": child_whoosh_tokens,
            "prepare": child_prepare, "change": child_change}


# --- the phases ---------------------------------------------------------------------------------

def phase_full(work: Path, workers: int) -> dict:
    shutil.rmtree(work / "index", ignore_errors=True)
    log(f"full reindex, workers={workers} ...")
    r = run_child("reindex", "full", corpus=str(work / "corpus"), index=str(work / "index"),
                  full=True, workers=workers)
    log(f"full reindex: {r['wall_s']:.1f} s, {r['added']:,} added, {r['rejected']} rejected")
    return r


def phase_incremental(work: Path, workers: int) -> dict:
    out = {}
    restore(work)
    for attempt in range(2):
        log("no-change reindex ...")
        r = run_child("reindex", "no-change", corpus=str(work / "corpus"), index=str(work / "index"),
                      full=False, workers=workers)
        if not (r["added"] or r["updated"] or r["removed"]):
            break
        log(f"  the index was not in step with the corpus ({r['updated']} updated): again")
    out["nochange"] = r
    out["changed_lines"] = run_child("change", "change", corpus=str(work / "corpus"))["changed"]
    log(f"incremental reindex after changing {out['changed_lines']} articles ...")
    out["incremental"] = run_child("reindex", "incremental", corpus=str(work / "corpus"),
                                   index=str(work / "index"), full=False, workers=workers)
    log(f"incremental: {out['incremental']['wall_s']:.1f} s")
    return out


def phase_split(work: Path) -> dict:
    log("time split on the sample (one process) ...")
    r = run_child("split", "split", sample=str(work / "sample"), index=str(work / "sample-index"),
                  tokens=str(work / "tokens-sample.jsonl"))
    log(f"split: reindex(workers=1) of {r['articles']:,} articles {r['reindex_1proc']['wall_s']:.1f} s")
    return r


def phase_tokens(work: Path, workers: int) -> dict:
    log(f"token strings of the whole corpus ({workers} processes) ...")
    r = run_child("tokens", "tokens", corpus=str(work / "corpus"), tokens=str(work / "tokens-full.jsonl"),
                  procs=workers)
    log(f"tokens: {r['wall_s']:.0f} s")
    return r


def phase_tantivy(work: Path, scope: str, heap_mb: int, whoosh_full: bool) -> dict:
    out = {}
    scopes = ["sample"] + (["full"] if scope == "full" and (work / "tokens-full.jsonl").exists() else [])
    for sc in scopes:
        tokens = str(work / f"tokens-{sc}.jsonl")
        res = {}
        for threads in (1, 2):
            log(f"tantivy ({sc}, {threads} indexing thread{'s' * (threads > 1)}) ...")
            res[f"tantivy_{threads}"] = run_child("tantivy", "tantivy", tokens=tokens,
                                                  index=str(work / f"tantivy-{sc}"), threads=threads,
                                                  heap_mb=heap_mb)
        if sc == "sample" or whoosh_full:
            log(f"Whoosh on the same tokens ({sc}, one process) ...")
            res["whoosh_1"] = run_child("whoosh_tokens", "whoosh", tokens=tokens,
                                        index=str(work / f"whoosh-tokens-{sc}"), procs=1)
        out[sc] = res
    return out


# --- the table ---------------------------------------------------------------------------------

def _pct(x: float, total: float) -> str:
    return f"{100 * x / total:5.1f}%" if total else "   - "


def _load_line(m: dict) -> str:
    return (f"load avg(1 min) mean {m['load1_mean']}, max {m['load1_max']}; other processes used "
            f"{m['others_cpu_s']:.0f} CPU s ({m['others_cores']:.2f} cores) meanwhile")


def table(res: dict) -> str:
    L: list[str] = []
    add = L.append
    env = res.get("env", {})
    add("vnsearch indexing throughput (bench/index_throughput.py, issue 7)")
    add(f"  {env.get('when', '')}; {env.get('cpus')} CPUs; Python {env.get('python')}; "
        f"Whoosh {env.get('whoosh')}; tantivy {env.get('tantivy')}")
    for command in res.get("commands", []):
        add(f"  command: {command}")
    if "wait" in res:
        w = res["wait"]
        add(f"  before the {w.get('phases', 'run')}: waited {w['waited_min']} min for a quiet machine; "
            f"{'quiet' if w['quiet'] else 'NOT quiet'} (load {w['load1']:.2f})")
    c = res.get("corpus")
    if not c:
        return "\n".join(L)
    add("")
    add(f"Corpus: {c['articles']:,} JSONL lines in 4 files, copied still gzip-compressed to {res['work']}/corpus")
    add(f"  {c['chars'] / 1e6:,.1f} M characters of title+body ({c['text_mb']:,.1f} MB UTF-8); "
        f"input {c['jsonl_mb']:,.1f} MB of JSONL uncompressed, {c['gz_mb']:,.1f} MB gzip (MB = 10^6 bytes)")
    for name, f in c["files"].items():
        add(f"    {name:26} {f['articles']:7,} lines {f['chars'] / 1e6:7.1f} M chars "
            f"{f['jsonl_mb']:7.1f} MB ({f['gz_mb']:.1f} MB gz)")

    full = res.get("full")
    if full:
        wall = full["wall_s"]
        add("")
        add(f"Full reindex: reindex(full=True, workers={res['workers']}), in a subprocess")
        ok = "OK" if wall < TARGET_FULL_S else "MISSED"
        add(f"  wall                      {wall:10.1f} s  ({wall / 60:.1f} min; target < 10 min: {ok}); "
            f"+{full['import_s']:.1f} s imports")
        add(f"  articles                  {full['added']:10,} indexed, {full['rejected']} rejected "
            f"({', '.join(f'{k}: {v}' for k, v in full['rejected_reasons'].items())})")
        add(f"  articles/s                {full['added'] / wall:10.1f}")
        add(f"  MB/s (JSONL uncompressed) {c['jsonl_mb'] / wall:10.3f}   ({c['gz_mb'] / wall:.3f} MB/s gzip, "
            f"{c['chars'] / wall / 1e3:,.0f} k chars/s)")
        cpu = full["self"]["cpu_s"] + full["children"]["cpu_s"]
        add(f"  CPU                       {cpu:10.1f} s  = parent {full['self']['cpu_s']:.1f} "
            f"(reading, metadata, pickling) + workers {full['children']['cpu_s']:.1f}; "
            f"{cpu / wall:.2f} cores busy on average of {res['cpus']}")
        m = full["machine"]
        add(f"  peak RSS                  parent {full['self']['maxrss_mb']:,.0f} MB, largest worker "
            f"{full['children']['maxrss_mb']:,.0f} MB; whole tree (sampled) RSS {m['tree_peak_rss_mb']:,.0f} MB, "
            f"PSS {m['tree_peak_pss_mb']:,.0f} MB")
        mk = full.get("marks", {})
        if "commit_at" in mk:
            add(f"  phases of the run         documents streamed to the workers until {mk['commit_at']:.1f} s; "
                f"final commit (workers finish their queue and segments) {mk['commit_s']:.1f} s")
        add(f"  index size                {full['index_mb']:10,.1f} MB, {full['documents']:,} documents")
        add(f"  during the run: {_load_line(m)}")

    sp = res.get("split")
    if sp:
        scale = c["chars"] / sp["chars"]
        total = sp["reindex_1proc"]["cpu_s"]
        a, b, cc = sp["reading"]["cpu_s"], sp["pyvi"]["cpu_s"], sp["other_analysis"]["cpu_s"]
        d = total - a - b - cc
        add("")
        add(f"Time split: sample of {sp['articles']:,} articles ({sp['chars'] / 1e6:.2f} M chars; every k-th "
            f"line of each file), one process, CPU seconds; full = sample x {scale:.1f} (by characters)")
        add(f"  {'component':44} {'sample s':>9} {'share':>7} {'full CPU s':>11} {'ms/article':>11}")
        rows = [
            ("(a) reading: gunzip, hash, JSON, NFC, cleaning", a, True),
            ("      of which metadata.extract", sp["metadata"]["cpu_s"], False),
            ("      of which gunzip + line hash", sp["gunzip_hash"]["cpu_s"], False),
            ("(b) pyvi: compound_words(title, body)", b, True),
            ("      of which pyvi features (Python)", sp["pyvi_features"]["cpu_s"], False),
            ("      of which CRF tagging + joining",
             sp["pyvi_segment"]["cpu_s"] - sp["pyvi_features"]["cpu_s"], False),
            ("      of which units, tones, fold, tokens", b - sp["pyvi_segment"]["cpu_s"], False),
            ("(c) other analysis: accented + folded", cc, True),
            ("(d) Whoosh writing (= total - a - b - c)", d, True),
            ("total: reindex(sample, workers=1)", total, True),
        ]
        for label, s, _ in rows:
            add(f"  {label:44} {s:9.2f} {_pct(s, total):>7} {s * scale:11.0f} {1000 * s / sp['articles']:11.2f}")
        add(f"  (reindex(workers=1) wall {sp['reindex_1proc']['wall_s']:.1f} s for {sp['reindex_added']:,} "
            f"documents; warm-up of pyvi + gazetteer {sp['warmup']['wall_s']:.1f} s, excluded)")
        if full:
            fcpu = full["self"]["cpu_s"] + full["children"]["cpu_s"]
            add(f"  extrapolated single-process CPU for the full corpus: {total * scale:,.0f} s "
                f"(= {total * scale / res['cpus']:,.0f} s wall if perfectly spread over {res['cpus']} cores)")
            add(f"  measured full reindex: CPU {fcpu:,.0f} s (parent {full['self']['cpu_s']:,.0f} + workers "
                f"{full['children']['cpu_s']:,.0f}); wall {full['wall_s']:,.0f} s x {res['cpus']} cores = "
                f"{full['wall_s'] * res['cpus']:,.0f} core-s")
            add(f"  the parent (reading ~{a * scale:,.0f} s extrapolated) and the {res['workers']} workers "
                f"(analysis + writing ~{(b + cc + d) * scale:,.0f} s) share {res['cpus']} cores")

    inc = res.get("incremental")
    if inc:
        add("")
        base = full["wall_s"] if full else None
        nc, ic = inc["nochange"], inc["incremental"]
        add("Incremental reindex (full=False), workers as above")
        ratio = f"{100 * nc['wall_s'] / base:.2f}% of the full time" if base else ""
        add(f"  no change                 {nc['wall_s']:10.1f} s  {ratio}; {nc['unchanged']:,} unchanged, "
            f"{nc['rejected']} rejected (re-read)")
        if base:
            ok = "OK" if ic["wall_s"] < TARGET_INCREMENTAL * base else "MISSED"
            ratio = f"{100 * ic['wall_s'] / base:.2f}% of the full time (target < 5%: {ok})"
        changed = f"1% changed ({inc['changed_lines']} lines)"
        add(f"  {changed:26}{ic['wall_s']:10.1f} s  {ratio}")
        add(f"      report: added {ic['added']}, updated {ic['updated']}, removed {ic['removed']}, "
            f"unchanged {ic['unchanged']:,}, rejected {ic['rejected']}")
        mk = ic.get("marks", {})
        if "commit_at" in mk:
            add(f"      new generation started (hard-link copy, writer) at {mk.get('_start_at', 0):.1f} s, "
                f"took {mk.get('_start_s', 0):.1f} s; commit at {mk['commit_at']:.1f} s, took {mk['commit_s']:.1f} s")
        add(f"      CPU {ic['self']['cpu_s'] + ic['children']['cpu_s']:.1f} s, peak RSS parent "
            f"{ic['self']['maxrss_mb']:,.0f} MB; new generation {ic['index_mb']:,.1f} MB (hard links)")
        add(f"      during the run: {_load_line(ic['machine'])}")

    tok, tv = res.get("tokens"), res.get("tantivy")
    if tv:
        add("")
        add("tantivy vs Whoosh indexing the same analysed tokens (6 fields: title/body x accented, "
            "folded, compound;")
        add("  whitespace-joined; positions on the syllable fields, frequencies on the compound ones; "
            "no stored text)")
        if sp:
            add(f"  analysis producing the strings, sample: pyvi {sp['pyvi']['cpu_s']:.1f} + other "
                f"{sp['other_analysis']['cpu_s']:.1f} CPU s (one process, wall {sp['analysis_wall_s']:.1f} s)")
        if tok:
            add(f"  analysis producing the strings, full corpus: wall {tok['wall_s']:,.0f} s in "
                f"{res['workers']} processes (reading in the parent); CPU: reading {tok['reading_cpu_s']:,.0f}, "
                f"pyvi {tok['pyvi_cpu_s']:,.0f}, other {tok['other_cpu_s']:,.0f} s; "
                f"{tok['tokens_mb']:,.0f} MB of token strings")
        add(f"  {'engine':34} {'docs':>7} {'load s':>7} {'index wall s':>13} {'CPU s':>7} {'index MB':>9} "
            f"{'peak RSS MB':>12}")
        for sc, r in tv.items():
            for key, label in (("tantivy_1", "tantivy, 1 indexing thread"),
                               ("tantivy_2", "tantivy, 2 indexing threads"),
                               ("whoosh_1", "Whoosh, 1 process")):
                if key in r:
                    x = r[key]
                    add(f"  {sc + ': ' + label:34} {x['docs']:7,} {x['load']['wall_s']:7.1f} "
                        f"{x['wall_s']:13.1f} {x['cpu_s']:7.1f} {x['index_mb']:9.1f} {x['self']['maxrss_mb']:12,.0f}")
            if "whoosh_1" in r:
                add(f"  {sc}: Whoosh / tantivy(1 thread) wall: "
                    f"{r['whoosh_1']['wall_s'] / r['tantivy_1']['wall_s']:.1f}x")
            elif sp and sc == "full":
                d_full = (sp["reindex_1proc"]["cpu_s"] - sp["reading"]["cpu_s"] - sp["pyvi"]["cpu_s"]
                          - sp["other_analysis"]["cpu_s"]) * c["chars"] / sp["chars"]
                add(f"  full: Whoosh not run on the full token set; estimated Whoosh writing "
                    f"~{d_full:,.0f} CPU s (split (d) extrapolated), "
                    f"{r['whoosh_1_est']['wall_s']:,.0f} s (same-token sample x scale)"
                    if "whoosh_1_est" in r else
                    f"  full: Whoosh not run on the full token set; split (d) extrapolated: ~{d_full:,.0f} CPU s")
        if tv.get("full") and tok:
            t1 = tv["full"]["tantivy_1"]["wall_s"]
            add(f"  tantivy-based full pipeline estimate: analysis {tok['wall_s']:,.0f} s + tantivy {t1:,.0f} s")
    return "\n".join(L)


# --- main -----------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("/tmp/vnsearch-throughput"),
                    help="work folder: corpus copies, indexes, token files, results.json")
    ap.add_argument("--workers", type=int, default=2, help="reindex worker processes (default 2)")
    ap.add_argument("--sample", type=int, default=3000, help="articles in the time-split sample")
    ap.add_argument("--limit", type=int, help="use only this many articles (spread over the files)")
    ap.add_argument("--only", help=f"comma-separated phases among {','.join(PHASES)} (default: all)")
    ap.add_argument("--tokens-scope", choices=("full", "sample"),
                    help="tantivy on the whole corpus's tokens too (default: full unless --limit)")
    ap.add_argument("--whoosh-full", action="store_true",
                    help="also index the whole corpus's tokens with Whoosh (slow)")
    ap.add_argument("--heap-mb", type=int, default=256, help="tantivy writer heap (MB)")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="MIN",
                    help="first wait up to MIN minutes for no other benchmark and load < 1.5")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-args", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        result = CHILDREN[args.child](**json.loads(args.child_args))
        print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
        return

    if not CORPORA.is_dir() or not all((CORPORA / f).is_file() for f in CORPUS_FILES):
        print(f"skipped: the shared corpora are not at {CORPORA}")
        return
    phases = args.only.split(",") if args.only else list(PHASES)
    unknown = set(phases) - set(PHASES)
    if unknown:
        ap.error(f"unknown phases: {', '.join(sorted(unknown))}")
    scope = args.tokens_scope or ("sample" if args.limit else "full")
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    results_path = work / "results.json"
    config = {"limit": args.limit, "sample": args.sample}
    res = json.loads(results_path.read_text()) if results_path.exists() else {}
    if res.get("config") != config or "prepare" in phases:
        res = {"config": config}
        if "prepare" not in phases:
            phases.insert(0, "prepare")

    import tantivy
    import whoosh

    command = " ".join([".venv/bin/python", "bench/index_throughput.py", *sys.argv[1:]])
    res.setdefault("commands", []).append(f"{time.strftime('%H:%M')} {command}")
    res.update(work=str(work), workers=args.workers, cpus=os.cpu_count(), env={"when": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(),
                    "python": platform.python_version(), "whoosh": whoosh.versionstring(),
                    "tantivy": getattr(tantivy, "__version__", "?").split(",")[0].replace("tantivy ", "")})

    def save():
        results_path.write_text(json.dumps(res, ensure_ascii=False, indent=1))

    if "prepare" in phases:
        log("preparing the work corpus ...")
        res["corpus"] = run_child("prepare", "prepare", work=str(work), limit=args.limit, sample=args.sample)
        save()
    else:
        restore(work)
    if args.wait_quiet:
        res["wait"] = wait_quiet(args.wait_quiet)
        res["wait"]["phases"] = ",".join(p for p in phases if p != "prepare")
    if "full" in phases:
        res["full"] = phase_full(work, args.workers)
        save()
    if "split" in phases:
        res["split"] = phase_split(work)
        save()
    if "tokens" in phases and scope == "full":
        res["tokens"] = phase_tokens(work, args.workers)
        save()
    if "tantivy" in phases:
        res["tantivy"] = phase_tantivy(work, scope, args.heap_mb, args.whoosh_full)
        save()
    if "incremental" in phases:
        res["incremental"] = phase_incremental(work, args.workers)
        restore(work)  # the corpus back as it was (the index keeps the changed 1%)
        save()
    print(table(res))
    print(f"\n(raw figures: {results_path})")


if __name__ == "__main__":
    main()
