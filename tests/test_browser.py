"""End to end in headless Chromium: Debian's `chromium`, driven by Playwright, against the real
`vnsearch serve` (waitress) over the seed articles, at phone (375 px) and desktop (1440 px)
widths. Screenshots go to test-output/screenshots/.

Playwright never downloads a browser here: `make test` installs Debian's chromium when it
is missing, and these tests are skipped, with the reason, where there is none.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import ROOT

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: `make test` installs it")

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking"]
SHOTS = ROOT / "test-output" / "screenshots"
PHONE, DESKTOP = 375, 1440
CCUONG = "Trần Quốc Cường"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH: `make test` installs Debian's chromium "
                                                "with apt-get (as root, or with sudo); these tests need it"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(shared_seed_index, tmp_path_factory):
    """The base URL of `vnsearch serve` (waitress, the default) over the seed index."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "search", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--index", str(shared_seed_index)], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    pytest.fail(f"vnsearch serve exited with {process.returncode}:\n{log_path.read_text()}")
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                        if r.status == 200:
                            assert r.headers["Server"] == "vnsearch"  # waitress, not a debug server
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"vnsearch serve did not answer /healthz in 30 s:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A page at one width, with the console errors it logged (CSP violations among them)."""

    page: object
    width: int
    base: str
    errors: list[str] = field(default_factory=list)

    def go(self, path: str):
        self.page.goto(self.base + path)

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}-{self.width}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def hit_dates(self) -> list[str]:
        return self.page.locator("li.hit time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")

    def assert_fits(self):
        """No horizontal scrolling and no console errors so far."""
        assert self.page.evaluate("document.documentElement.scrollWidth") <= self.width
        assert self.errors == []


def _open(browser, base: str, width: int, javascript: bool = True, bypass_csp: bool = False):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN",
                                  java_script_enabled=javascript, bypass_csp=bypass_csp)
    context.set_default_timeout(10_000)
    page = context.new_page()
    tab = Tab(page, width, base)
    page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.errors.append(str(e)))
    return context, tab


@pytest.fixture(params=[PHONE, DESKTOP], ids=["375px", "1440px"])
def tab(request, browser, server):
    context, tab = _open(browser, server, request.param)
    yield tab
    context.close()


@pytest.fixture
def desktop(browser, server):
    context, tab = _open(browser, server, DESKTOP)
    yield tab
    context.close()


def _open_filters(tab: Tab):
    """On a phone the filters are folded under "Bộ lọc"; on a desktop they are a sidebar."""
    summary = tab.page.locator("#filters > summary")
    if tab.width == PHONE:
        assert tab.page.locator("#facet-province-box").is_hidden()
        summary.click()
    else:
        assert summary.is_hidden()
    assert tab.page.locator("#facet-province-box").is_visible()


def test_search_click_a_facet_sort_and_read_an_article(tab):
    page = tab.page
    tab.go("/")
    box = page.get_by_role("searchbox", name="Tìm kiếm bài viết")
    box.fill("tran quoc cuong")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=tran\+quoc\+cuong$"))
    assert re.fullmatch(r"Kết quả 1–4 trong 4 \((< 0,01|0,\d\d) giây\)", page.get_by_role("status").inner_text())
    marks = page.locator("li.hit .snippet mark").all_inner_texts()
    assert CCUONG in marks
    first_hit = page.locator("li.hit").first.bounding_box()
    if tab.width == PHONE:
        # Header, the folded filters, the status and sort, the links and the compact chart (~80 px).
        assert first_hit["y"] < 480, "the filters or the chart push the results down on a phone"
    tab.assert_fits()
    tab.shot("search")

    _open_filters(tab)
    if tab.width == PHONE:
        tab.shot("filters-open")
    page.locator("#facet-province-box a.value", has_text="Điện Biên").click()
    page.wait_for_url(re.compile(r"province=%C4%90i%E1%BB%87n\+Bi%C3%AAn"))
    assert page.locator("li.hit").count() == 2
    assert page.locator(".chips a.chip").all_inner_texts() == ["Tỉnh, thành: Điện Biên ×"]

    page.get_by_label("Sắp xếp").select_option("oldest")  # applied at once by app.js
    page.wait_for_url(re.compile(r"sort=oldest"))
    assert tab.hit_dates() == ["2023-02-27", "2023-04-07"]
    assert page.locator("#sort").input_value() == "oldest"
    assert page.locator(".chips a.chip").all_inner_texts() == ["Tỉnh, thành: Điện Biên ×"]
    tab.assert_fits()
    tab.shot("filtered")

    page.locator("li.hit h3 a").first.click()
    page.wait_for_url(re.compile(r"/doc/001_045948c02f9f6eb6\?q=tran\+quoc\+cuong$"))
    assert page.locator("h1").inner_text().strip() != ""
    assert CCUONG in page.locator(".body mark").all_inner_texts()
    assert page.locator(".body p").count() > 3
    assert page.locator(".docmeta a", has_text="Điện Biên").first.get_attribute("href") == \
        "/search?province=%C4%90i%E1%BB%87n+Bi%C3%AAn"
    tab.assert_fits()
    tab.shot("article")

    page.get_by_role("link", name="‹ Quay lại kết quả").click()
    page.wait_for_url(re.compile(r"/search\?q=tran\+quoc\+cuong&province=.*&sort=oldest$"))
    assert tab.hit_dates() == ["2023-02-27", "2023-04-07"]


def test_pages_forward_and_back(desktop):
    page = desktop.page
    desktop.go("/search?q=tinh+uy&size=2&sort=newest")
    first = desktop.hit_dates()
    page.get_by_role("link", name="Trang sau ›").click()
    page.wait_for_url(re.compile(r"page=2$"))
    assert page.locator("nav.pages [aria-current=page]").text_content() == "Trang 2"
    assert page.locator("ol.hits").get_attribute("start") == "3"
    second = desktop.hit_dates()
    assert first + second == sorted(first + second, reverse=True) and len(set(first + second)) == 4
    page.get_by_role("link", name="Trang 3").click()
    page.wait_for_url(re.compile(r"page=3$"))
    page.get_by_role("link", name="‹ Trang trước").click()
    page.wait_for_url(re.compile(r"page=2$"))
    assert desktop.hit_dates() == second
    desktop.assert_fits()


def test_typing_in_a_facet_box_narrows_its_values_and_filters(desktop):
    page = desktop.page
    desktop.go("/search?q=tinh+uy")
    values = page.locator("#facet-province-box li[data-value]")
    assert values.count() == 4
    box = page.get_by_label("Lọc theo tỉnh, thành")
    box.press_sequentially("lang")
    assert [v.get_attribute("data-value") for v in values.all() if v.is_visible()] == ["Lạng Sơn"]
    box.fill("zzz")
    box.dispatch_event("input")
    assert page.locator("#facet-province-box .no-match").is_visible()
    box.fill("")
    box.dispatch_event("input")
    assert all(v.is_visible() for v in values.all())
    box.fill("lang son")
    box.press("Enter")
    page.wait_for_url(re.compile(r"province=lang\+son"))
    assert page.locator(".chips a.chip").all_inner_texts() == ["Tỉnh, thành: Lạng Sơn ×"]
    assert page.locator("li.hit").count() == 1
    desktop.assert_fits()


def test_everything_works_without_javascript(browser, server):
    context, tab = _open(browser, server, PHONE, javascript=False)
    page = tab.page
    try:
        tab.go("/")
        page.get_by_role("searchbox", name="Tìm kiếm bài viết").fill("tinh uy")
        page.get_by_role("button", name="Tìm kiếm").click()
        page.wait_for_url(re.compile(r"q=tinh\+uy"))
        assert page.get_by_role("status").inner_text().startswith("Kết quả 1–5 trong 5 ")
        page.locator("#filters > summary").click()  # <details> needs no script
        page.locator("#facet-year-box a.value", has_text="2023").click()
        page.wait_for_url(re.compile(r"year=2023"))
        assert page.locator("li.hit").count() == 2
        page.locator("#sort").select_option("oldest")
        page.locator("form.sort").get_by_role("button", name="Áp dụng").click()
        page.wait_for_url(re.compile(r"year=2023&sort=oldest$"))
        assert tab.hit_dates() == ["2023-02-27", "2023-04-07"]
        page.locator("#filters > summary").click()
        page.locator("#from").fill("2023-03-01")
        page.locator("form.dates").get_by_role("button", name="Áp dụng").click()
        page.wait_for_url(re.compile(r"from=2023-03-01"))
        assert tab.hit_dates() == ["2023-04-07"]
        page.get_by_role("link", name="Xóa bộ lọc").click()
        page.wait_for_url(re.compile(r"/search\?q=tinh\+uy&sort=oldest$"))
        assert page.locator("li.hit").count() == 5
        tab.shot("nojs")
    finally:
        context.close()
    context, tab = _open(browser, server, DESKTOP, javascript=False)
    try:
        tab.go("/search?q=tinh+uy")
        assert tab.page.locator("#filters > summary").is_hidden()
        tab.page.locator("#facet-province-box a.value", has_text="Sơn La").click()
        tab.page.wait_for_url(re.compile(r"province=S%C6%A1n\+La"))
        assert tab.page.locator("li.hit").count() == 1
    finally:
        context.close()


def test_keyboard_focus_is_visible(desktop):
    page = desktop.page
    desktop.go("/search?q=tinh+uy")

    def focused_outline() -> tuple[str, float]:
        return page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
                                        return [s.outlineStyle, parseFloat(s.outlineWidth)]; }""")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Bỏ qua, đến kết quả")
    assert skip.evaluate("e => e === document.activeElement")
    assert skip.bounding_box()["y"] >= 0  # shown when focused
    assert focused_outline()[0] != "none" and focused_outline()[1] >= 2
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#results') !== null")  # not the filters
    assert focused_outline()[0] != "none" and focused_outline()[1] >= 2
    page.locator("li.hit h3 a").first.focus()
    assert focused_outline()[0] != "none" and focused_outline()[1] >= 2
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/doc/"))
    desktop.assert_fits()


def test_error_pages_are_styled(tab):
    page = tab.page
    response = page.goto(tab.base + "/search?q=" + "a" * 600)
    assert response.status == 400
    assert page.get_by_role("alert").inner_text().startswith("Không thể tìm")
    response = page.goto(tab.base + "/no/such/page")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Không tìm thấy trang"
    header = page.locator("header.site")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(163, 22, 26)"
    tab.errors[:] = [e for e in tab.errors if "status of 40" not in e]  # the 400 and 404 themselves
    tab.assert_fits()


# --- keyboard-first ------------------------------------------------------------------------

def test_slash_focuses_the_search_box_unless_typing(desktop):
    page = desktop.page
    desktop.go("/search?q=tinh+uy")
    page.locator("body").click(position={"x": 5, "y": 400})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    assert page.locator("#q").input_value() == "tinh uy"  # the "/" is not typed into it
    page.get_by_label("Lọc theo tỉnh, thành").focus()
    page.keyboard.press("/")
    assert page.get_by_label("Lọc theo tỉnh, thành").input_value() == "/"
    desktop.assert_fits()


def test_arrow_keys_in_the_sort_menu_never_reload(desktop):
    page = desktop.page
    desktop.go("/search?q=tinh+uy")
    url = page.url
    page.locator("#sort").focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    assert page.url == url  # WCAG 3.2.2: choosing is not applying
    assert page.locator("#sort").input_value() == "newest"
    assert page.locator("form.sort button[type=submit]").is_visible()  # the way to apply it, by keyboard
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"sort=newest"))
    assert page.locator("#sort").input_value() == "newest"


def test_a_date_input_is_one_tab_stop(desktop):
    page = desktop.page
    desktop.go("/search?q=tinh+uy")
    page.locator("#from").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "to"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Áp dụng"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "to"


def test_results_come_before_the_filters_but_sit_right_of_them_on_a_desktop(tab):
    page = tab.page
    tab.go("/search?q=tinh+uy")
    order = page.evaluate("""() => document.querySelector('#results')
        .compareDocumentPosition(document.querySelector('#filters')) & Node.DOCUMENT_POSITION_FOLLOWING""")
    assert order  # reading and tab order: results first
    results, filters = page.locator("#results").bounding_box(), page.locator("#filters").bounding_box()
    if tab.width == DESKTOP:
        assert filters["x"] < results["x"] and abs(filters["y"] - results["y"]) < 5
    else:  # a phone shows the folded "Bộ lọc" above the results
        assert filters["y"] < results["y"]


def test_the_syntax_help_opens_from_the_search_box(tab):
    page = tab.page
    tab.go("/")
    page.locator("#q").focus()
    page.keyboard.press("Tab")  # the search button
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Cách tìm"
    page.keyboard.press("Enter")
    assert page.locator("#cach-tim li").first.is_visible()
    assert "province:" in page.locator("#cach-tim").inner_text()
    tab.assert_fits()


# --- the chart, the province view, print and dark -------------------------------------------

def test_a_chart_bar_narrows_the_dates(tab):
    page = tab.page
    tab.go("/search?q=tinh+uy")
    assert page.locator("figure.chart svg a").count() == 5
    tab.shot("chart")
    page.locator("figure.chart svg a").nth(3).click()  # 2023
    page.wait_for_url(re.compile(r"from=2023-01-01&to=2023-12-31"))
    assert sorted(tab.hit_dates()) == ["2023-02-27", "2023-04-07"]
    assert page.locator("figure.chart tbody tr").count() == 3  # Feb to Apr 2023, by month
    tab.assert_fits()


def test_the_province_view_filters_by_a_province(tab):
    page = tab.page
    tab.go("/search?q=tinh+uy")
    page.get_by_role("link", name="Theo tỉnh").click()
    page.wait_for_url(re.compile(r"view=provinces"))
    assert page.locator("table.province-table tbody tr").count() == 63
    tab.shot("provinces")
    page.get_by_role("link", name="34 tỉnh, thành (sau sáp nhập 2025)").click()
    page.wait_for_url(re.compile(r"units=province_2025"))
    assert page.locator("table.province-table tbody tr").count() == 34
    page.locator("table.province-table a", has_text="Thái Nguyên").click()
    page.wait_for_url(re.compile(r"province_2025=Th%C3%A1i\+Nguy%C3%AAn"))
    chosen = page.locator("table.province-table a[aria-current]")
    assert chosen.all_inner_texts() == ["Thái Nguyên"]  # the others keep their counts: a click adds them
    assert page.locator(".chips a.chip").all_inner_texts() == ["Tỉnh sau sáp nhập 2025: Thái Nguyên ×"]
    tab.assert_fits()


def test_print_shows_the_results_without_the_chrome(tab):
    page = tab.page
    tab.go("/search?q=tinh+uy")
    page.emulate_media(media="print")
    for chrome in ("header.site", "#filters", "form.sort", "nav.take", "footer.site"):
        assert page.locator(chrome).is_hidden(), chrome
    assert page.locator("li.hit").first.is_visible() and page.locator("figure.chart svg").is_visible()
    tab.shot("print-results")
    tab.go("/doc/000_16468085dbf1e3df")
    assert page.locator("header.site").is_hidden() and page.locator(".body").is_visible()
    tab.shot("print-article")


def test_dark_colours(tab):
    page = tab.page
    page.emulate_media(color_scheme="dark")
    tab.go("/search?q=tinh+uy")
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(21, 24, 29)"
    tab.shot("dark")
    tab.assert_fits()


# --- accessibility: axe-core on every page type ----------------------------------------------

AXE = ROOT / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PAGE_TYPES = {
    "home": "/", "results": "/search?q=tinh+uy", "filtered": "/search?q=tinh+uy&province=Điện+Biên&from=2023-01-01",
    "no-results": "/search?q=xqzwv", "provinces": "/search?q=tinh+uy&view=provinces",
    "article": "/doc/000_16468085dbf1e3df?q=tinh+uy", "bad-request": "/search?from=x", "not-found": "/no/such/page",
}


def _axe(tab: Tab) -> list[dict]:
    """axe-core's violations on the page as it is now."""
    tab.page.add_script_tag(path=str(AXE))
    found = tab.page.evaluate("async () => (await axe.run(document)).violations")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]} for v in found]


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed: `make axe` (npm) installs it into tools/axe")
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
@pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["375px", "1440px"])
def test_axe_finds_nothing_serious(browser, server, width, kind, scheme):
    """Every page type, with the filters open, "Xem thêm", the chart's table and the syntax help
    expanded: no serious or critical violation, and the headings in order."""
    context, tab = _open(browser, server, width, bypass_csp=True)  # axe is injected as an inline script
    request_close = context.close
    page = tab.page
    page.emulate_media(color_scheme=scheme)
    page.goto(tab.base + PAGE_TYPES[kind])
    if tab.width == PHONE and page.locator("#filters > summary").count():
        page.locator("#filters > summary").click()
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    try:
        violations = _axe(tab)
    finally:
        request_close()
    bad = [v for v in violations if v["impact"] in ("serious", "critical") or v["id"] == "heading-order"]
    assert bad == [], bad
