"""The ``vnsearch`` command: each subcommand is a thin wrapper over one library function.

Problems the user can act on become one line (``click.ClickException``: exit 1; a bad
option, ``click.BadParameter``/``UsageError``: exit 2), never a traceback; so does every
``OSError`` (a read-only or missing folder, permissions, a full disk) with the path it met.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

import click

# Whoosh 2.7.4 and pyvi warn about their own old syntax when Python compiles them afresh.
for _category in (SyntaxWarning, DeprecationWarning):
    warnings.filterwarnings("ignore", category=_category, module=r".*[/\\](whoosh|pyvi)[/\\]")

from .errors import BadQuery, VnsearchError
from .facets import FACETS

DEFAULT_CORPUS = "corpus"
DEFAULT_INDEX = "index"

corpus_option = click.option("--corpus", "corpus_dir", envvar="VNSEARCH_CORPUS", default=DEFAULT_CORPUS,
                             show_default=True, type=click.Path(file_okay=False, path_type=Path),
                             help="Folder of articles (.txt, .html, .jsonl, .jsonl.gz); env VNSEARCH_CORPUS.")
index_option = click.option("--index", "index_dir", envvar="VNSEARCH_INDEX", default=DEFAULT_INDEX,
                            show_default=True, type=click.Path(file_okay=False, path_type=Path),
                            help="Index folder; env VNSEARCH_INDEX.")
backend_option = click.option("--backend", envvar="VNSEARCH_BACKEND", default=None,
                              help="A backend location instead of --index, e.g. opensearch+http://host:9200 "
                                   "(alias vnsearch) or opensearch+http://h1:9200,h2:9200/news?shards=3&replicas=1; "
                                   "env VNSEARCH_BACKEND.")


def _usage_error(error: BadQuery, options: dict[str, str]) -> click.UsageError:
    """A BadQuery as click reports a bad option: the option's name and the reason (exit 2)."""
    option = options.get(error.parameter or "")
    return click.BadParameter(str(error), param_hint=option) if option else click.UsageError(str(error))


def os_error_message(error: OSError) -> str:
    """"index/.reindex.lock: Read-only file system": the path and the reason, in one line."""
    reason = error.strerror or str(error)
    paths = [p for p in (error.filename, error.filename2) if p is not None]
    return f"{' → '.join(map(str, paths))}: {reason}" if paths else reason


class _Group(click.Group):
    """The command group; an OSError escaping any command is one line, exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OSError as e:
            raise click.ClickException(os_error_message(e)) from None


@click.group(cls=_Group)
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

    def stage(self, text: str) -> None:
        """A step without a count: the bar (if any) ends, the step is said on its own line."""
        self.close()
        click.echo(f"{text}…", err=True)

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@cli.command()
@corpus_option
@index_option
@backend_option
@click.option("--full", is_flag=True, help="Rebuild everything instead of only what changed.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as JSON to this file.")
@click.option("--workers", type=click.IntRange(1, 64), help="Analysis processes (default: one per core).")
def reindex(corpus_dir: Path, index_dir: Path, backend: str | None, full: bool, report_file: Path | None,
            workers: int | None):
    """Index the articles of the corpus folder (incremental unless --full)."""
    from .indexer import reindex as run

    progress = _Progress()
    try:
        report = run(corpus_dir, backend or index_dir, full=full, progress=progress, workers=workers,
                     stage=progress.stage)
    except (VnsearchError, FileNotFoundError) as e:
        raise click.ClickException(str(e)) from None
    finally:
        progress.close()
    if report.cleared:
        click.echo(f"cleared {len(report.cleared)} half-built generation(s) left by an interrupted reindex: "
                   f"{', '.join(report.cleared)}", err=True)
    click.echo(f"{report.added} added, {report.updated} updated, {report.removed} removed, "
               f"{report.unchanged} unchanged, {len(report.rejected)} rejected in {report.seconds:.1f} s")
    for r in report.rejected:
        click.echo(f"  rejected {r['path']}: {r['reason']}", err=True)
    for w in report.warnings:
        click.echo(f"  warning {w['path']}: {w['warning']}", err=True)
    if report_file:
        report_file.write_text(json.dumps(report.as_json(), ensure_ascii=False, indent=2), encoding="utf-8")


class _FacetOptions(click.Command):
    """A command with a repeatable option per registered facet (``--province``, ``--year``…),
    read from the registry when the command runs, so a new facet needs no change here."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        facets = [click.Option([facet.option, facet.name], multiple=True, help=facet.help or facet.label)
                  for facet in FACETS.values()]
        return params[:2] + facets + params[2:]


# Option names of the request parameters, for messages about them.
_SEARCH_OPTIONS = {"from": "--from", "to": "--to", "sort": "--sort", "page": "--page", "size": "--size",
                   "q": "QUERY"}


@cli.command("search", cls=_FacetOptions)
@click.argument("query", default="")
@index_option
@backend_option
@click.option("--from", "date_from", help="Published on or after YYYY-MM-DD.")
@click.option("--to", "date_to", help="Published on or before YYYY-MM-DD.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True)
@click.option("--page", default="1", show_default=True, help="Page number, from 1.")
@click.option("--size", default="10", show_default=True, help="Results per page, at most 100.")
@click.option("--exact", is_flag=True, help="Search as typed: never show a correction's results instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (the shape of /api/search).")
@click.option("--format", "export_format", type=click.Choice(["csv", "jsonl"]), default=None,
              help="Print every result (all pages, at most 10,000; --page/--size ignored) as CSV "
                   "(UTF-8 with BOM) or JSON Lines: the rows of /export.csv and /export.jsonl.")
def search_command(query, index_dir, backend, date_from, date_to, sort, page, size, exact, as_json, export_format,
                   **facet_values):
    """Search the index; an empty QUERY lists every article, newest first."""
    from .query import Index, request_from_params

    params = {"q": query, "from": date_from, "to": date_to, "sort": sort, "page": page, "size": size,
              "exact": "1" if exact else None}
    options = {**_SEARCH_OPTIONS, **{f.name: f.option for f in FACETS.values()}}
    try:
        request = request_from_params(params.get, lambda name: list(facet_values.get(name) or ()))
        with Index(backend or index_dir) as index:
            if export_format:
                from .export import hits, lines

                for line in lines(hits(index, request), export_format):
                    click.echo(line, nl=False)
                return
            result = index.search(request)
    except BadQuery as e:
        raise _usage_error(e, options) from None
    except VnsearchError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{result.total} kết quả ({result.took_ms:.0f} ms)")
    if result.corrected:
        click.echo(f"Đang hiện kết quả cho: {result.corrected} (tìm chính xác: --exact)")
    elif result.suggestion:
        click.echo(f"Có phải bạn muốn tìm: {result.suggestion}")
    if result.loose:
        click.echo("Không đủ kết quả khớp đúng dấu; đang hiện cả kết quả không dấu.")
    if result.undated:
        click.echo(f"{result.undated} bài không rõ ngày không nằm trong khoảng này (--year 'Không rõ').")
    for n, hit in enumerate(result.hits, start=(result.page - 1) * result.size + 1):
        meta = " · ".join(v for v in (hit.date, hit.province, hit.secretary) if v)
        click.echo(f"{n:>3}. {hit.title or hit.id}  [{hit.id}]")
        if meta:
            click.echo(f"     {meta}")


@cli.command()
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", envvar="PORT", default=5000, show_default=True, type=int, help="Port to listen on.")
@index_option
@backend_option
@click.option("--dev", is_flag=True, help="Flask's debug server with reloading, instead of waitress.")
@click.option("--workers", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="the number of cores",
              help="Server processes (pre-forked, each with its own view of the index; 1: a single process).")
def serve(host: str, port: int, index_dir: Path, backend: str | None, dev: bool, workers: int):
    """Serve the web interface and the JSON API."""
    from web import EXTENSION, create_app, freeze_long_lived
    from web import server

    location = str(backend or index_dir)
    app = create_app({"INDEX_DIR": location})
    index = app.extensions[EXTENSION]
    try:  # open it now, to say at once what is wrong (and for workers to inherit)
        forkable, warning = getattr(index.backend, "forkable", False), None
        freeze_long_lived(app)
    except VnsearchError as e:
        forkable, warning = False, f"warning: {e} (pages answer 503 until then)"
    if dev:
        click.echo(f"vnsearch: http://{host}:{port}/  (index: {location})", err=True)
        if warning:
            click.echo(warning, err=True)
        app.run(host=host, port=port, debug=True)
        return
    sock = None
    if workers > 1:
        if not forkable:  # e.g. a client's connections: one set per process
            index.close()
        sock = server.bind(host, port)
        port = sock.getsockname()[1]
    click.echo(f"vnsearch: http://{host}:{port}/  (index: {location}, {workers} "
               f"{'process' if workers == 1 else 'processes'})", err=True)
    if warning:
        click.echo(warning, err=True)
    # The workers start with this app and its open index; the parent then lets go of its own.
    server.serve(lambda: app, host, port, workers, sock, forked=index.close)


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
            out.append({"id": item.id, "path": item.path, **item.meta.as_json(), "warnings": item.warnings})
    click.echo(json.dumps(out[0] if len(out) == 1 else out, ensure_ascii=False, indent=2))
    if any("rejected" in o for o in out):
        click.get_current_context().exit(1)


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
