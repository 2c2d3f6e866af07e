"""The ``vnsearch`` command: each subcommand is a thin wrapper over one library function."""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import click

# Whoosh 2.7.4 and pyvi warn about their own old syntax when Python compiles them afresh.
for _category in (SyntaxWarning, DeprecationWarning):
    warnings.filterwarnings("ignore", category=_category, module=r".*[/\\](whoosh|pyvi)[/\\]")

from .errors import BadQuery, VnsearchError

DEFAULT_CORPUS = "corpus"
DEFAULT_INDEX = "index"

corpus_option = click.option("--corpus", "corpus_dir", envvar="VNSEARCH_CORPUS", default=DEFAULT_CORPUS,
                             show_default=True, type=click.Path(file_okay=False, path_type=Path),
                             help="Folder of articles (.txt, .html, .jsonl, .jsonl.gz); env VNSEARCH_CORPUS.")
index_option = click.option("--index", "index_dir", envvar="VNSEARCH_INDEX", default=DEFAULT_INDEX,
                            show_default=True, type=click.Path(file_okay=False, path_type=Path),
                            help="Index folder; env VNSEARCH_INDEX.")


def _fail(error: Exception, code: int = 1):
    click.echo(f"Error: {error}", err=True)
    sys.exit(code)


@click.group()
@click.version_option(package_name="vnsearch")
def cli():
    """vnsearch: search Vietnamese news about provincial Party Committees."""


class _Progress:
    """A progress bar with rate and ETA on a terminal; a line every few seconds otherwise."""

    def __init__(self):
        self.bar = None
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label="Indexing", show_pos=True,
                                             show_eta=True, file=sys.stderr, item_show_func=lambda rate: rate)
                self.bar.__enter__()
            self.bar.length = max(self.bar.length, total)
            self.bar.update(done - self.bar.pos, current_item=self._rate(done))
        elif time.monotonic() - self.last > 5 or done == total:
            self.last = time.monotonic()
            click.echo(f"indexed {done}/{total} articles ({self._rate(done)})", err=True)

    def _rate(self, done: int) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return f"{done / elapsed:.0f} articles/s"

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@cli.command()
@corpus_option
@index_option
@click.option("--full", is_flag=True, help="Rebuild everything instead of only what changed.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as JSON to this file.")
@click.option("--workers", type=click.IntRange(1, 64), help="Analysis processes (default: one per core).")
def reindex(corpus_dir: Path, index_dir: Path, full: bool, report_file: Path | None, workers: int | None):
    """Index the articles of the corpus folder (incremental unless --full)."""
    from .indexer import reindex as run

    progress = _Progress()
    try:
        report = run(corpus_dir, index_dir, full=full, progress=progress, workers=workers)
    except (VnsearchError, FileNotFoundError) as e:
        _fail(e)
    finally:
        progress.close()
    click.echo(f"{report.added} added, {report.updated} updated, {report.removed} removed, "
               f"{report.unchanged} unchanged, {len(report.rejected)} rejected in {report.seconds:.1f} s")
    for r in report.rejected:
        click.echo(f"  rejected {r['path']}: {r['reason']}", err=True)
    if report_file:
        report_file.write_text(json.dumps(report.as_json(), ensure_ascii=False, indent=2), encoding="utf-8")


@cli.command("search")
@click.argument("query", default="")
@index_option
@click.option("--province", multiple=True, help="Only this province (any spelling; repeatable).")
@click.option("--province-2025", "province_2025", multiple=True, help="Only this post-2025 province (repeatable).")
@click.option("--secretary", multiple=True, help="Only articles with this provincial secretary (repeatable).")
@click.option("--year", multiple=True, help="Only this year (repeatable).")
@click.option("--from", "date_from", help="Published on or after YYYY-MM-DD.")
@click.option("--to", "date_to", help="Published on or before YYYY-MM-DD.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True)
@click.option("--page", default="1", show_default=True, help="Page number, from 1.")
@click.option("--size", default="10", show_default=True, help="Results per page, at most 100.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (the shape of /api/search).")
def search_command(query, index_dir, province, province_2025, secretary, year, date_from, date_to,
                   sort, page, size, as_json):
    """Search the index; an empty QUERY lists every article, newest first."""
    from .query import request_from_params, search

    params = {"q": query, "from": date_from, "to": date_to, "sort": sort, "page": page, "size": size}
    lists = {"province": province, "province_2025": province_2025, "secretary": secretary, "year": year}
    try:
        request = request_from_params(params.get, lambda name: list(lists.get(name, ())))
        result = search(index_dir, request)
    except BadQuery as e:
        _fail(e, 2)
    except VnsearchError as e:
        _fail(e)
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{result.total} kết quả ({result.took_ms:.0f} ms)")
    if result.suggestion:
        click.echo(f"Có phải bạn muốn tìm: {result.suggestion}")
    for n, hit in enumerate(result.hits, start=(result.page - 1) * result.size + 1):
        meta = " · ".join(v for v in (hit.date, hit.province, hit.secretary) if v)
        click.echo(f"{n:>3}. {hit.title or hit.id}  [{hit.id}]")
        if meta:
            click.echo(f"     {meta}")


@cli.command()
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", envvar="PORT", default=5000, show_default=True, type=int, help="Port to listen on.")
@index_option
@click.option("--dev", is_flag=True, help="Flask's debug server with reloading, instead of waitress.")
def serve(host: str, port: int, index_dir: Path, dev: bool):
    """Serve the web interface and the JSON API."""
    from web import create_app

    app = create_app({"INDEX_DIR": str(index_dir)})
    click.echo(f"vnsearch: http://{host}:{port}/  (index: {index_dir})", err=True)
    if dev:
        app.run(host=host, port=port, debug=True)
    else:
        from waitress import serve as waitress_serve

        waitress_serve(app, host=host, port=port, threads=8, ident="vnsearch")


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def extract(file: Path):
    """Print the metadata found in FILE, with its evidence, as JSON."""
    from .corpus import Rejected, read_file

    out = []
    for item in read_file(file):
        if isinstance(item, Rejected):
            out.append({"path": item.path, "rejected": item.reason})
        else:
            out.append({"id": item.id, "path": item.path, **item.meta.as_json()})
    click.echo(json.dumps(out[0] if len(out) == 1 else out, ensure_ascii=False, indent=2))
    if any("rejected" in o for o in out):
        sys.exit(1)


@cli.command()
@corpus_option
def stats(corpus_dir: Path):
    """Count, per corpus file or folder, how many articles have each metadata field."""
    from .corpus import Rejected, corpus_files, read_file

    fields = ("title", "date", "province", "province_2025", "secretary", "outlet", "url",
              "conference", "term", "author")
    rows = {}
    for path in corpus_files(corpus_dir):
        group = path.parent.relative_to(corpus_dir).as_posix() if path.suffix == ".txt" else path.name
        counts = rows.setdefault(group or ".", {"articles": 0, "rejected": 0, **{f: 0 for f in fields}})
        for item in read_file(path, corpus_dir):
            if isinstance(item, Rejected):
                counts["rejected"] += 1
                continue
            counts["articles"] += 1
            for name, value in item.meta.values().items():
                counts[name] += value is not None
    header = ["corpus", "articles", "rejected", *fields]
    click.echo("\t".join(header))
    for group, counts in rows.items():
        click.echo("\t".join([group] + [str(counts[h]) for h in header[1:]]))


def main():  # pragma: no cover
    cli(prog_name="vnsearch")
