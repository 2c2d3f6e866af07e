"""search.corpus: formats, encodings, rejections with reasons."""

import gzip
import json
import os
import threading
import unicodedata
from dataclasses import asdict

import pytest

from search.corpus import READERS, Article, Rejected, count_documents, decode, read_corpus
from search.pagetext import is_boilerplate

TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
TEXT = ("Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 21\n\nNgày 29 tháng 06 năm 2020\n\n"
        "Đồng chí Nguyễn Hữu Đông, Bí thư Tỉnh ủy Sơn La, chủ trì hội nghị. Tỉnh ủy, HĐND, UBND tỉnh Sơn La "
        "đã lãnh đạo thực hiện nhiệm vụ.\n")


def windows_1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letters precomposed, tone marks combining."""
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES)))
        out.append("".join(c for c in parts if c in TONES))
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize("encode", [
    lambda t: t.encode("utf-8"),
    lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),
    lambda t: t.encode("utf-16"),
    lambda t: unicodedata.normalize("NFD", t).encode("utf-8"),
    windows_1258,
], ids=["utf-8", "utf-8-bom", "utf-16-bom", "nfd", "windows-1258"])
def test_every_encoding_decodes_to_the_same_nfc_text(encode):
    assert decode(encode(TEXT)) == TEXT


def read(tmp_path):
    items = list(read_corpus(tmp_path))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Rejected)]


def test_text_file_becomes_an_article(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_bytes(windows_1258(TEXT))
    [article], rejected = read(tmp_path)
    assert rejected == []
    assert article.id == "sub/a"
    assert article.title == "Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 21"
    assert article.body.startswith("Đồng chí Nguyễn Hữu Đông")
    assert article.meta.values()["province"] == "Sơn La"


def test_broken_files_are_rejected_with_their_reason(tmp_path):
    (tmp_path / "good.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b"  \n\n ")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 100)
    (tmp_path / "notes.md").write_text("ignored: not an article format", encoding="utf-8")
    articles, rejected = read(tmp_path)
    assert [a.id for a in articles] == ["good"]
    reasons = {r.path.rsplit("/", 1)[1]: r.reason for r in rejected}
    assert reasons == {"binary.txt": "binary file (contains NUL bytes)", "blank.txt": "empty file",
                       "empty.txt": "empty file"}


def test_oversized_file_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr("search.corpus.MAX_BYTES", 100)
    (tmp_path / "big.txt").write_text(TEXT, encoding="utf-8")
    _, [rejected] = read(tmp_path)
    assert rejected.reason.startswith("file too large")


def test_jsonl_bad_lines_are_rejected_by_line_and_the_rest_indexed(tmp_path):
    lines = [
        json.dumps({"id": "1", "title": "Tỉnh ủy Sơn La họp", "date": "2020-06-29", "source": "baosonla.vn",
                    "url": "https://baosonla.vn/a", "body": TEXT}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "2", "title": "Không có nội dung"}),
        json.dumps({"id": "1", "body": "trùng id"}, ensure_ascii=False),
        json.dumps(["a", "list"]),
        json.dumps({"id": 3, "body": "Bài thứ ba về Tỉnh ủy."}, ensure_ascii=False),
    ]
    (tmp_path / "news.jsonl.gz").write_bytes(gzip.compress("\n".join(lines).encode("utf-8")))
    articles, rejected = read(tmp_path)
    assert [a.id for a in articles] == ["news/1", "news/3"]
    assert articles[0].meta.values()["date"] == "2020-06-29"
    assert articles[0].meta.values()["url"] == "https://baosonla.vn/a"
    assert articles[0].source == "baosonla.vn"
    path = str(tmp_path / "news.jsonl.gz")
    assert [(r.path, r.reason.split(":")[0]) for r in rejected] == [
        (f"{path}:2", "not valid JSON"), (f"{path}:3", "no 'body' text"),
        (f"{path}:4", "duplicate id '1'"), (f"{path}:5", "a line must be a JSON object")]


def test_html_page_main_text_without_boilerplate(tmp_path):
    html = f"""<!doctype html><html><head><meta charset="windows-1258"><title>Tỉnh ủy Sơn La họp - Báo Sơn La</title>
    <meta property="og:url" content="https://baosonla.vn/hoi-nghi.html">
    <meta property="article:published_time" content="2020-06-29T08:00:00+07:00"></head>
    <body><nav><ul><li>Trang chủ</li><li>Chính trị</li><li>Kinh tế</li></ul></nav>
    <article><h1>Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 21</h1>
    {''.join(f'<p>{p}</p>' for p in TEXT.split(chr(10)) if p)}
    <p>Hội nghị đã thảo luận và thống nhất cao về các nội dung trình tại hội nghị, giao Ban Thường vụ Tỉnh ủy chỉ đạo triển khai.</p></article>
    <footer>Bản quyền thuộc về Báo Sơn La. Địa chỉ: 123 đường ABC</footer></body></html>"""
    (tmp_path / "page.html").write_bytes(windows_1258(html))
    [article], rejected = read(tmp_path)
    assert rejected == []
    assert article.id == "page"
    assert "Nguyễn Hữu Đông" in article.body
    assert "Bản quyền" not in article.body and "Trang chủ" not in article.body
    values = article.meta.values()
    assert (values["date"], values["province"], values["url"]) == ("2020-06-29", "Sơn La",
                                                                   "https://baosonla.vn/hoi-nghi.html")


@pytest.mark.parametrize(
    "line, expected",
    [
        ("PublishingPortal - Block_BanTin_Toolbar", True),
        ("Tăng cỡ chữ Giảm cỡ chữ", True),
        ("634 lượt xem", True),
        ("18:50 - Thứ Sáu, 07/04/2023 Lượt xem: 4938 In bài viết", True),
        ("Thứ Hai, 27/02/2023, 18:04 [GMT+7]", True),
        ("Ngày 29 tháng 06 năm 2020", True),
        ("Bình luận", True),
        ("Back To Top", True),
        ("  • Từ khóa", True),
        ("Thứ trưởng Bộ Xây dựng làm Phó Bí thư Tỉnh ủy", False),
        ("Ngày hội đại đoàn kết toàn dân tộc", False),
        ("Chia sẻ kinh nghiệm xây dựng Đảng", False),
        ("Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 13", False),
    ],
)
def test_is_boilerplate(line, expected):
    assert is_boilerplate(line) is expected


# --- the readers table, and files that once stopped a reindex ------------------------------

def test_readers_table_names_every_format_and_one_row_adds_one(tmp_path, monkeypatch):
    assert sorted(READERS) == [".htm", ".html", ".jsonl", ".jsonl.gz", ".txt"]
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "b.md").write_text(TEXT, encoding="utf-8")
    (tmp_path / "c.JSONL.GZ").write_bytes(gzip.compress(json.dumps({"id": "1", "body": TEXT}).encode()))
    assert [a.id for a in read(tmp_path)[0]] == ["a", "c.JSONL.GZ/1"]
    monkeypatch.setitem(READERS, ".md", READERS[".txt"])
    assert [a.id for a in read(tmp_path)[0]] == ["a", "b", "c.JSONL.GZ/1"]


def within(seconds, fn, *args):
    """`fn(*args)`, failing the test (not hanging the suite) when it takes longer than `seconds`."""
    result = []
    worker = threading.Thread(target=lambda: result.append(fn(*args)), daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        for fifo in (p for p in args[0].rglob("*") if p.is_fifo()):  # let a blocked open() return
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # nobody is waiting on this one
                pass
        pytest.fail(f"{fn.__name__} still running after {seconds} s")
    return result[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_rejected_without_being_opened(tmp_path):
    root, outside = tmp_path / "corpus", tmp_path / "outside"
    root.mkdir(), outside.mkdir()
    (root / "good.txt").write_text(TEXT, encoding="utf-8")
    (outside / "target.txt").write_text(TEXT, encoding="utf-8")
    (root / "link.txt").symlink_to(outside / "target.txt")
    os.mkfifo(root / "pipe.txt")
    os.mkfifo(root / "pipe.jsonl")
    items = within(10, lambda r: list(read_corpus(r)), root)
    assert [a.id for a in items if isinstance(a, Article)] == ["good", "link"]
    assert [(r.path, r.reason) for r in items if isinstance(r, Rejected)] == [
        (str(root / "pipe.jsonl"), "not a regular file (a FIFO)"),
        (str(root / "pipe.txt"), "not a regular file (a FIFO)")]
    assert within(10, count_documents, root) == 4


def test_a_file_name_that_is_not_utf8_is_rejected_and_the_rest_indexed(tmp_path):
    bad = tmp_path / os.fsdecode(b"\xff\xfe.txt")
    try:
        bad.write_text(TEXT, encoding="utf-8")
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system does not take names that are not UTF-8")
    (tmp_path / "good.txt").write_text(TEXT, encoding="utf-8")
    articles, [rejected] = read(tmp_path)
    assert [a.id for a in articles] == ["good"]
    assert rejected.reason == "file name is not valid UTF-8: b'\\xff\\xfe.txt'"
    assert rejected.path == str(tmp_path) + "/\\xff\\xfe.txt"
    json.dumps(asdict(rejected), ensure_ascii=False).encode("utf-8")  # the report can be written


@pytest.mark.parametrize("rid, reason", [
    ({"nested": 1}, "'id' must be a string or a number"),
    (["a"], "'id' must be a string or a number"),
    (True, "'id' must be a string or a number"),
    (False, "'id' must be a string or a number"),
    ("", "empty 'id'"),
    ("  ", "empty 'id'"),
    ("\ud800", "'id' is not valid Unicode (it holds a lone surrogate)"),
    (None, "missing 'id'"),
])
def test_jsonl_id_must_be_a_string_or_a_number(tmp_path, rid, reason):
    lines = [json.dumps({"id": rid, "body": TEXT}), json.dumps({"id": 7, "body": TEXT}),
             json.dumps({"id": "x/1", "body": TEXT})]
    (tmp_path / "news.jsonl").write_text("\n".join(lines), encoding="utf-8")
    articles, rejected = read(tmp_path)
    assert [a.id for a in articles] == ["news/7", "news/x/1"]
    assert [(r.path, r.reason) for r in rejected] == [(f"{tmp_path / 'news.jsonl'}:1", reason)]


@pytest.mark.parametrize("name", ["page.txt", "page.html"])
def test_utf8_with_a_few_bad_bytes_is_read_with_them_replaced_and_counted(tmp_path, name):
    text = (TEXT * 40).replace("Đồng chí", "Đồng chí", 1)
    data = text.encode("utf-8")
    at = data.index("chủ trì".encode("utf-8"))
    damaged = data[:at] + b"\xff" + data[at:at + 10] + b"\xc3" + data[at + 10:]  # 2 bytes in ~9,000
    if name.endswith(".html"):
        paragraphs = damaged.replace(b"\n", b"</p><p>")
        damaged = b"<html><body><article><p>" + paragraphs + b"</p></article></body></html>"
    (tmp_path / name).write_bytes(damaged)
    [article], rejected = read(tmp_path)
    assert rejected == []
    assert article.warnings == ["2 bytes that are not UTF-8 replaced with U+FFFD"]
    assert article.body.count("\ufffd") == 2
    assert "Nguyễn Hữu Đông" in article.body and article.meta.values()["province"] == "Sơn La"


def test_utf8_damage_past_the_rate_is_left_to_encoding_detection(tmp_path):
    (tmp_path / "a.txt").write_bytes(windows_1258(TEXT))
    (tmp_path / "b.txt").write_text(TEXT, encoding="utf-8")
    articles, _ = read(tmp_path)
    assert [a.warnings for a in articles] == [[], []]
    assert articles[0].body == articles[1].body
    assert decode(TEXT.encode("utf-8") + b"\xff") == TEXT + "\ufffd"


@pytest.mark.parametrize("raw, shown", [
    ("baomoi.com (aggregator; original outlet not recorded)", "baomoi.com (trang tổng hợp, không ghi báo gốc)"),
    ("baomoi.com (outlet not in link)", "baomoi.com (trang tổng hợp, không rõ báo gốc)"),
    ("example.vn (scraped from the mobile site)", "example.vn"),
    ("Báo Lạng Sơn (bản điện tử)", "Báo Lạng Sơn (bản điện tử)"),
    ("VnExpress", "VnExpress"), (None, None),
])
def test_sources_are_shown_in_vietnamese(raw, shown):
    from search.pagetext import source_label

    assert source_label(raw) == shown


def test_a_jsonl_source_note_is_read_in_vietnamese(tmp_path):
    line = {"id": "1", "title": "Tin", "body": "Tỉnh ủy họp.", "source": "baomoi.com (aggregator; original outlet not recorded)"}
    (tmp_path / "a.jsonl").write_text(json.dumps(line, ensure_ascii=False), encoding="utf-8")
    [article] = list(read_corpus(tmp_path))
    assert article.source == "baomoi.com (trang tổng hợp, không ghi báo gốc)"
