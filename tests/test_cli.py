"""The vnsearch command: wiring (each command calls its library function) and real runs."""

import json

import pytest
from click.testing import CliRunner

from search import cli as cli_module
from search.cli import cli

from .conftest import DIEN_BIEN


@pytest.fixture
def runner():
    return CliRunner()


def test_every_command_has_help(runner):
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help text"
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, result.output


def test_reindex_calls_the_indexer_with_the_options(runner, monkeypatch, tmp_path):
    seen = {}

    def fake_reindex(corpus_dir, index_dir, full, progress, workers, stage):
        from search.indexer import ReindexReport

        seen.update(corpus_dir=corpus_dir, index_dir=index_dir, full=full, workers=workers)
        return ReindexReport(added=3)

    monkeypatch.setattr("search.indexer.reindex", fake_reindex)
    result = runner.invoke(cli, ["reindex", "--corpus", str(tmp_path), "--index", str(tmp_path / "i"),
                                 "--full", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert seen == {"corpus_dir": tmp_path, "index_dir": tmp_path / "i", "full": True, "workers": 2}
    assert "3 added" in result.output


def test_environment_variables_set_the_defaults(runner, monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr("search.indexer.reindex", lambda corpus_dir, index_dir, **kw: seen.update(
        corpus=corpus_dir, index=index_dir) or __import__("search.indexer").indexer.ReindexReport())
    monkeypatch.setenv("VNSEARCH_CORPUS", str(tmp_path / "c"))
    monkeypatch.setenv("VNSEARCH_INDEX", str(tmp_path / "i"))
    result = runner.invoke(cli, ["reindex"])
    assert result.exit_code == 0, result.output
    assert seen == {"corpus": tmp_path / "c", "index": tmp_path / "i"}


def test_reindex_then_search_for_real(runner, corpus, tmp_path):
    index = tmp_path / "index"
    report_file = tmp_path / "report.json"
    result = runner.invoke(cli, ["reindex", "--corpus", str(corpus), "--index", str(index),
                                 "--report", str(report_file)])
    assert result.exit_code == 0, result.output
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert {k: report[k] for k in ("added", "updated", "removed", "unchanged", "rejected")} == {
        "added": 5, "updated": 0, "removed": 0, "unchanged": 0, "rejected": []}

    result = runner.invoke(cli, ["search", "Trần Quốc Cường", "--index", str(index), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert sorted(h["id"] for h in data["hits"][:2]) == DIEN_BIEN
    assert {h["province"] for h in data["hits"][:2]} == {"Điện Biên"}

    result = runner.invoke(cli, ["search", "Trần Quốc Cường", "--index", str(index), "--province", "Điện Biên"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("2 kết quả")


def test_search_json_matches_the_api(runner, seed_index):
    from web import create_app

    cli_out = json.loads(runner.invoke(cli, ["search", "tinh uy", "--index", str(seed_index), "--json",
                                             "--province", "Điện Biên"]).output)
    api_out = create_app({"INDEX_DIR": str(seed_index), "TESTING": True}).test_client().get(
        "/api/search?q=tinh+uy&province=%C4%90i%E1%BB%87n+Bi%C3%AAn").get_json()
    for out in (cli_out, api_out):
        out.pop("took_ms")
    assert cli_out == api_out


@pytest.mark.parametrize("fmt, path", [("csv", "/export.csv"), ("jsonl", "/export.jsonl")])
def test_search_format_prints_the_rows_of_the_web_export(runner, seed_index, fmt, path):
    from web import create_app

    result = runner.invoke(cli, ["search", "tinh uy", "--index", str(seed_index), "--format", fmt,
                                 "--sort", "newest", "--page", "2", "--size", "1"])
    assert result.exit_code == 0, result.output
    web = create_app({"INDEX_DIR": str(seed_index), "TESTING": True}).test_client().get(
        f"{path}?q=tinh+uy&sort=newest").get_data(as_text=True)
    assert result.stdout_bytes.decode() == web  # every result, not page 2 of size 1; the CSV with its BOM
    assert len(web.splitlines()) == 5 + (fmt == "csv")


def test_search_before_any_index_says_what_to_do(runner, tmp_path):
    result = runner.invoke(cli, ["search", "x", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "run `vnsearch reindex` first" in result.output
    assert "Traceback" not in result.output


def test_bad_parameter_exits_2(runner, seed_index):
    result = runner.invoke(cli, ["search", "x", "--index", str(seed_index), "--size", "500"])
    assert result.exit_code == 2
    assert "'size' must be between 1 and 100" in result.output


def test_extract_prints_fields_with_evidence(runner, corpus):
    result = runner.invoke(cli, ["extract", str(corpus / "002_65fc4686f071d328.txt")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["province"]["value"] == "Bắc Kạn"
    assert data["province_2025"]["value"] == "Thái Nguyên"
    assert data["secretary"]["value"] == "Hoàng Duy Chinh"
    assert data["date"]["value"] == "2024-04-08"
    assert data["province"]["evidence"]


def test_stats_counts_fields(runner, corpus):
    result = runner.invoke(cli, ["stats", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    counts = dict(zip(header.split("\t"), row.split("\t")))
    assert counts["articles"] == "5" and counts["province"] == "5" and counts["secretary"] == "5"


def test_serve_builds_the_app_with_the_index(monkeypatch, runner, tmp_path):
    calls = {}

    class Server:
        channel_class = None

        def run(self):
            calls["ran"] = True

    def create_server(app, host, port, **kw):
        calls.update(index=app.config["INDEX_DIR"], host=host, port=port)
        return Server()

    monkeypatch.setattr("waitress.server.create_server", create_server)
    result = runner.invoke(cli, ["serve", "--index", str(tmp_path), "--port", "5123", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert calls == {"index": str(tmp_path), "host": "127.0.0.1", "port": 5123, "ran": True}


def test_python_dash_m_search_runs(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "search", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "reindex" in out.stdout


def test_a_misspelt_query_shows_the_correction_unless_exact(runner, seed_index):
    result = runner.invoke(cli, ["search", "tran quoc cuongg", "--index", str(seed_index)])
    assert result.exit_code == 0, result.output
    assert "Đang hiện kết quả cho: Trần Quốc Cường" in result.output
    exact = runner.invoke(cli, ["search", "tran quoc cuongg", "--index", str(seed_index), "--exact", "--json"])
    assert json.loads(exact.output)["corrected"] is None
