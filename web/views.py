"""The blueprint: search page, article page, JSON API, exports, feeds, health check.

Every URL a page links to (facet toggles, chips, pages, sort) is built here; the templates
only render what they are given. The facets, their labels and how a typed value names one
come from the registry (``search/facets.py``); this module never canonicalises.
"""

from __future__ import annotations

import calendar
import re
from html import unescape
from dataclasses import replace
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import quote_plus, urlencode, urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request, stream_with_context, url_for
from werkzeug.exceptions import BadHost, HTTPException

from search.backends import UNDATED
from search.errors import BackendUnavailable, BadQuery, IndexDamaged, IndexMissing, StaleIndex, UnknownDocument
from search.facets import FACETS, MAX_VALUES, UNKNOWN_LABEL, Facet
from search.gazetteer import key as _uncached_key
from search.export import EXPORT_MAX, hits as export_hits, lines as export_lines
from search.query import MAX_QUERY_CHARS, Index, SearchRequest, request_from_params
from search.text import nfc

bp = Blueprint("views", __name__)

SORT_LABELS = {"relevance": "Liên quan nhất", "newest": "Mới nhất", "oldest": "Cũ nhất"}
TOP_VALUES = 10  # facet values shown before "Xem thêm"
PAGE_WINDOW = 2  # page links either side of the current one
BAD_PARAMETER = {  # the web page's words for a BadQuery about each parameter
    "from": "Ngày trong ô “Từ ngày” không hợp lệ.",
    "to": "Ngày trong ô “Đến ngày” không hợp lệ.",
    "sort": "Cách sắp xếp không hợp lệ.",
    "page": "Số trang không hợp lệ.",
    "size": "Số kết quả mỗi trang phải từ 1 đến 100.",
    "year": "Năm không hợp lệ (ví dụ: 2023).",
}


def _index() -> Index:
    """The app's Index, refreshed if a reindex switched the live data (``web.live_index``)."""
    from . import live_index

    return live_index(current_app)


def _state_keys() -> tuple[str, ...]:
    return ("q", *FACETS, "from", "to", "sort", "size", "exact", "view", "units", "order")


def _search_keys() -> tuple[str, ...]:
    """The parameters that choose the results (not how the page shows them)."""
    return ("q", *FACETS, "from", "to", "sort", "exact")


# --- URLs of the search state --------------------------------------------------------------

def _state() -> list[tuple[str, str]]:
    """The request's search state as (name, value) pairs, without the page number."""
    return [(k, v) for k in _state_keys() for v in request.args.getlist(k) if v.strip()]


def _href(state: list[tuple[str, str]], **changes) -> str:
    """The /search URL for `state` with some parameters replaced (None removes them)."""
    pairs = [(k, v) for k, v in state if k not in changes]
    for k, v in changes.items():
        if v is not None:
            pairs.extend((k, x) for x in (v if isinstance(v, list) else [v]))
    return _search_path() + ("?" + "&".join(_pair(k, v) for k, v in pairs) if pairs else "")


def _search_path() -> str:
    """url_for the search page, built once per request (a page links to it hundreds of times)."""
    path = g.get("search_path")
    if path is None:
        path = g.search_path = url_for("views.search_page")
    return path


@lru_cache(maxsize=4096)
def _pair(name: str, value: str) -> str:
    """One "name=value" of a query string, as urlencode writes it."""
    return f"{quote_plus(name)}={quote_plus(value)}"


def _hidden(state, *without: str) -> list[tuple[str, str]]:
    """The state a form must carry in hidden fields, less the fields it asks for itself."""
    return [(k, v) for k, v in state if k not in without]


def _same(facet: str, raw: str, value: str) -> bool:
    """Whether a filter as typed ("dien bien", "Tỉnh Điện Biên", "Bắc Cạn") names a facet value."""
    return FACETS[facet].same(raw, value)


def _display(facet: str, raw: str, result) -> str:
    """The facet value that a filter as typed stands for, for chips."""
    for fv in result.facets.get(facet, []):
        if _same(facet, raw, fv.value):
            return fv.value
    return nfc(raw).strip()


def _toggle(state, facet: str, value: str) -> str:
    """The URL that adds `value` to the facet's filter, or removes it (in any spelling)."""
    current = [v for k, v in state if k == facet]
    kept = [v for v in current if not _same(facet, v, value)]
    return _href(state, **{facet: kept if len(kept) < len(current) else current + [value]})


# --- what the search page shows ------------------------------------------------------------

# The names pages list and sort are the same few hundred (provinces, units, secretaries) on
# every page: their keys are cached (a search page sorted ~600 of them, 1.5 ms).
key = lru_cache(maxsize=4096)(_uncached_key)


@lru_cache(maxsize=64)
def _known_names(facet: Facet) -> tuple[str, ...]:
    """The facet's known values (the gazetteer's provinces, secretaries), for type-ahead lists."""
    return facet.names()


def _suggestions(facet: str, values) -> list[str]:
    """Names to suggest while typing in a facet's filter box: the gazetteer's and the facet's."""
    names = {key(n): n for n in _known_names(FACETS[facet])}
    for fv in values:
        names.setdefault(key(fv.value), fv.value)
    return sorted(names.values(), key=lambda n: (n == UNKNOWN_LABEL, key(n), n))


def _facet_view(result, state) -> list[dict]:
    """Facets as the template shows them: the top values, the rest under "Xem thêm", a
    filter box with suggestions; each value with its count, selected flag and toggle URL."""
    shown = []
    for facet in FACETS:
        values = result.facets.get(facet, [])
        items = [{"value": fv.value, "count": fv.count, "selected": fv.selected,
                  "unknown": fv.value == UNKNOWN_LABEL, "href": _toggle(state, facet, fv.value)}
                 for fv in values]
        # "Không rõ" closes the list of the top values; selected values are never hidden.
        known = [i for i in items if not i["unknown"]]
        top = known[:TOP_VALUES] + [i for i in known[TOP_VALUES:] if i["selected"]]
        more = [i for i in known[TOP_VALUES:] if not i["selected"]]
        top += [i for i in items if i["unknown"]]
        view = {"name": facet, "label": FACETS[facet].label, "values": top, "more": more,
                "active": any(i["selected"] for i in items), "filter": None}
        if FACETS[facet].placeholder:
            view["filter"] = {"placeholder": FACETS[facet].placeholder,
                              "hidden": _hidden(state, "page"),
                              "options": _suggestions(facet, values)}
        shown.append(view)
    return shown


def _chips(state, result, req: SearchRequest | None) -> list[dict]:
    """Active filters, each with the URL that removes it."""
    chips, seen = [], set()
    for k, v in state:
        if k in FACETS:
            label = _display(k, v, result)
            if (k, label) not in seen:
                seen.add((k, label))
                chips.append({"label": f"{FACETS[k].label}: {label}", "href": _toggle(state, k, label)})
    for k, day in (("from", req and req.date_from), ("to", req and req.date_to)):
        if day:
            chips.append({"label": ("Từ ngày " if k == "from" else "Đến ngày ") + day.strftime("%d/%m/%Y"),
                          "href": _href(state, **{k: None})})
    return chips


def _last_page(result) -> int:
    return max(1, -(-result.total // result.size))


def _pages(result, state) -> dict | None:
    """Pagination: previous, next, the first, the last and a window around the current page."""
    last = _last_page(result)
    if last == 1 and result.page == 1:
        return None
    current = result.page

    def href(n: int) -> str:
        return _href(state, page=None if n == 1 else str(n))

    numbers = sorted({1, last, *range(max(1, current - PAGE_WINDOW), min(last, current + PAGE_WINDOW) + 1)})
    links, previous = [], 0
    for n in numbers:
        if n > previous + 1:
            links.append({"gap": True})
        links.append({"n": n, "href": href(n), "current": n == current, "gap": False})
        previous = n
    return {"current": current, "last": last, "links": links,
            "prev": href(min(current - 1, last)) if current > 1 else None,
            "next": href(current + 1) if current < last else None}


def _sort_view(state, req: SearchRequest | None) -> dict:
    """The sort selector: its options and the state it carries."""
    chosen = request.args.get("sort") or ("relevance" if req and req.q else "newest")
    return {"hidden": _hidden(state, "sort", "page"),
            "options": [{"value": v, "label": label, "selected": v == chosen} for v, label in SORT_LABELS.items()]}


def _dates_view(state, req: SearchRequest | None) -> dict:
    """The date range form: its values (ISO, as date inputs want) and the state it carries."""
    return {"hidden": _hidden(state, "from", "to", "page"),
            "from": req.date_from.isoformat() if req and req.date_from else "",
            "to": req.date_to.isoformat() if req and req.date_to else ""}


def _bad_query_message(error: BadQuery, q: str) -> str:
    """What went wrong, in Vietnamese (chosen by the parameter the error names)."""
    if error.parameter == "q" and error.reason == "too_long":
        return (f"Câu tìm kiếm quá dài ({vn_int(len(nfc(q).strip()))} ký tự). Hãy rút gọn còn tối đa "
                f"{vn_int(MAX_QUERY_CHARS)} ký tự.")
    if error.reason == "order":
        return "Ngày trong ô “Từ ngày” đang sau ngày trong ô “Đến ngày”."
    if error.parameter in FACETS and error.reason == "too_long":
        return f"Giá trị lọc “{FACETS[error.parameter].label}” quá dài."
    if error.parameter in FACETS and error.reason == "too_many":
        return f"Chỉ lọc được tối đa {MAX_VALUES} giá trị “{FACETS[error.parameter].label}” cùng lúc."
    return BAD_PARAMETER.get(error.parameter or "", "Không hiểu yêu cầu tìm kiếm này.")


def _request() -> SearchRequest:
    return request_from_params(request.args.get, request.args.getlist)


# --- results over time, by province ---------------------------------------------------------

CHART_MONTHS = 36  # a span of more months is drawn by year
CHART_WIDTH, CHART_HEIGHT = 720, 120  # the SVG's viewBox; it scales to the page's width


def _periods(histogram: dict[str, int]) -> tuple[str, list[tuple[str, int]]]:
    """("month" or "year", every period from the first dated one to the last with its count)."""
    months = sorted(k for k in histogram if k != UNDATED)
    if not months:
        return "month", []
    first, last = (int(months[0][:4]), int(months[0][5:])), (int(months[-1][:4]), int(months[-1][5:]))
    span = (last[0] - first[0]) * 12 + last[1] - first[1] + 1
    if span > CHART_MONTHS:
        years: dict[str, int] = {}
        for k, n in histogram.items():
            if k != UNDATED:
                years[k[:4]] = years.get(k[:4], 0) + n
        return "year", [(str(y), years.get(str(y), 0)) for y in range(first[0], last[0] + 1)]
    out, (y, m) = [], first
    for _ in range(span):
        key_ = f"{y:04d}-{m:02d}"
        out.append((key_, histogram.get(key_, 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return "month", out


def _chart(result, state) -> dict | None:
    """The results by month (or year): bars with their size, label and the URL that narrows
    the date range to them, and the undated articles beside them."""
    unit, periods = _periods(result.histogram)
    if not periods:
        return None
    top = max(n for _, n in periods) or 1
    width = CHART_WIDTH / len(periods)
    bars = []
    kept = _hidden(state, "from", "to", "page")
    for i, (period, n) in enumerate(periods):
        if unit == "year":
            first, last, label, short = f"{period}-01-01", f"{period}-12-31", f"Năm {period}", period
        else:
            y, m = int(period[:4]), int(period[5:])
            first, last = f"{period}-01", f"{period}-{calendar.monthrange(y, m)[1]:02d}"
            label, short = f"Tháng {m}/{y}", f"{m}/{y}"
        height = round(n / top * (CHART_HEIGHT - 4), 1) if n else 0
        bars.append({"label": label, "short": short, "count": n, "href": _href(kept, **{"from": first, "to": last}),
                     "x": round(i * width, 1), "width": round(max(width - 2, 1), 1),
                     "y": round(CHART_HEIGHT - height, 1), "height": height})
    peak = max(bars, key=lambda b: b["count"])
    return {"unit": unit, "bars": bars, "peak": peak, "width": CHART_WIDTH, "height": CHART_HEIGHT,
            "first": bars[0]["short"], "last": bars[-1]["short"],
            "undated": result.histogram.get(UNDATED, 0) or result.undated,
            "undated_href": _undated_href(state) if result.undated else None}


UNITS = {"province": "63 tỉnh, thành (trước 2025)", "province_2025": "34 tỉnh, thành (sau sáp nhập 2025)"}
ORDERS = {"count": "Nhiều bài nhất", "name": "Tên A–Z"}


def _province_view(result, state) -> dict:
    """Every province (the 63, or 2025's 34) with its count and the URL that filters by it,
    sortable by count or by name; the links that switch the units and the order."""
    units = request.args.get("units") if request.args.get("units") in UNITS else "province"
    order = request.args.get("order") if request.args.get("order") in ORDERS else "count"
    facet = FACETS[units]
    counts = {key(fv.value): fv for fv in result.facets.get(units, [])}
    rows = []
    for name in _known_names(facet):
        fv = counts.get(key(name))
        rows.append({"name": name, "count": fv.count if fv else 0, "selected": bool(fv and fv.selected),
                     "href": _toggle(state, units, name)})
    rows.sort(key=lambda r: (-r["count"], key(r["name"])) if order == "count" else key(r["name"]))
    return {"units": units, "label": facet.label, "rows": rows,
            "unit_links": [{"label": label, "current": u == units, "href": _href(state, units=u, page=None)}
                           for u, label in UNITS.items()],
            "order_links": [{"label": label, "current": o == order, "href": _href(state, order=o, page=None)}
                            for o, label in ORDERS.items()],
            "max": max((r["count"] for r in rows), default=0) or 1}


def _status(result) -> str:
    """"Kết quả 21–30 trong 772 (0,05 giây)"."""
    took = "< 0,01" if result.took_ms < 10 else vn_seconds(result.took_ms)
    if not result.hits:
        return f"Không có kết quả nào ({took} giây)" if not result.total else \
            f"{vn_int(result.total)} kết quả ({took} giây)"
    first = (result.page - 1) * result.size + 1
    return f"Kết quả {vn_int(first)}–{vn_int(first + len(result.hits) - 1)} trong {vn_int(result.total)} ({took} giây)"


def _links(state) -> dict:
    """The feed, the exports and the province view of these results."""
    searched = [(k, v) for k, v in state if k in _search_keys()]
    query = ("?" + urlencode(searched)) if searched else ""
    return {"feed": url_for("views.feed") + query, "csv": url_for("views.export_csv") + query,
            "jsonl": url_for("views.export_jsonl") + query,
            "provinces": _href(state, view="provinces", page=None),
            "list": _href(state, view=None, units=None, order=None)}


TIPS = ("bi thu tinh uy", "UBND", '"hội nghị ban chấp hành"')  # zero-result tips, as searches


# --- pages ---------------------------------------------------------------------------------

def _no_index(error: Exception):
    if isinstance(error, BackendUnavailable):  # a search cluster down: not a missing index
        return render_template("error.html", code=503, title="Máy chủ tìm kiếm tạm thời không trả lời",
                               message=f"Vui lòng thử lại sau ít phút. ({error})"), 503
    return render_template("no_index.html", error=str(error)), 503


@bp.get("/")
@bp.get("/search")
def search_page():
    state = _state()
    q = request.args.get("q", "")
    ctx = {"q": q, "max_query": MAX_QUERY_CHARS, "header_hidden": _hidden(state, "q", "page")}
    try:
        req = _request()
    except BadQuery as e:
        return render_template("search.html", error=_bad_query_message(e, q),
                               restart_href=_href([], q=q[:MAX_QUERY_CHARS] or None), **ctx), 400
    home = request.path == "/" and not request.args
    provinces = not home and request.args.get("view") == "provinces"
    try:
        chart = not home and current_app.config["RESULTS_CHART"]
        result = _index().search(SearchRequest(size=5) if home else replace(req, histogram=chart))
    except (IndexMissing, StaleIndex, BackendUnavailable) as e:
        return _no_index(e)
    chips = [] if home else _chips(state, result, req)
    return render_template(
        "search.html", home=home, result=result, facets=_facet_view(result, state), chips=chips,
        active_filters=len(chips), pages=None if home else _pages(result, state),
        sort=_sort_view(state, req), dates=_dates_view(state, req),
        suggestion_href=_href(state, q=result.suggestion) if result.suggestion else None,
        exact_href=_href(state, exact="1") if result.corrected else None,
        undated_href=_undated_href(state) if result.undated else None,
        clear_href=_href(_hidden(state, *FACETS, "from", "to")),
        first_page_href=_href(state) if result.total and not result.hits else None,
        last_page=_last_page(result), first_number=(result.page - 1) * result.size + 1,
        browse_href=_href([]), status=_status(result), chart=None if home else _chart(result, state),
        province_view=_province_view(result, state) if provinces else None,
        links=None if home else _links(state), tips=[{"q": t, "href": _href([], q=t)} for t in TIPS], **ctx)


def _undated_href(state) -> str | None:
    """The URL that adds the undated articles to a date range ("Không rõ" of the date's facet)."""
    for name, facet in FACETS.items():
        if facet.of_date:
            return _href(state, **{name: [v for k, v in state if k == name] + [UNKNOWN_LABEL]})
    return None


def _paragraphs(html: str) -> list[str]:
    """The highlighted body split at line breaks; a <mark> that spans one is closed and reopened."""
    out, inside = [], False
    for part in re.split(r"\s*\n\s*", html):
        if not part:
            continue
        text = ("<mark>" if inside else "") + part
        inside = text.count("<mark>") > text.count("</mark>")
        out.append(text + ("</mark>" if inside else ""))
    return out


def _back_href(q: str) -> str:
    """Back to the results the reader came from (same site only), else to a search for `q`."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path in (url_for("views.search_page"), "/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return _href([("q", q)] if q else [])


@bp.get("/doc/<path:doc_id>")
def document_page(doc_id: str):
    q = nfc(request.args.get("q", "")).strip()[:MAX_QUERY_CHARS]
    try:
        doc = _index().document(doc_id, q=q)
    except (IndexMissing, StaleIndex, BackendUnavailable) as e:
        return _no_index(e)
    except UnknownDocument:
        return render_template("error.html", code=404, title="Không tìm thấy bài viết",
                               message="Không có bài viết nào với địa chỉ này. Có thể bài đã bị gỡ khỏi chỉ mục."), 404
    facts = [{"label": "Ngày", "value": vn_date(doc.date) if doc.date else UNKNOWN_LABEL, "datetime": doc.date,
              "href": _href([], year=doc.date[:4] if doc.date else UNKNOWN_LABEL)}]
    for facet in (f for f in FACETS.values() if f.on_document):
        value = doc.facets.get(facet.name) or UNKNOWN_LABEL
        facts.append({"label": facet.label, "value": value, "href": _href([], **{facet.name: value})})
    url = doc.url if doc.url and urlsplit(doc.url).scheme in ("http", "https") else None
    return render_template("doc.html", doc=doc, paragraphs=_paragraphs(doc.body_html), facts=facts,
                           url=url, q=q, back_href=_back_href(q), max_query=MAX_QUERY_CHARS)


@bp.get("/api/search")
def api_search():
    try:
        result = _index().search(_request())
    except BadQuery as e:
        return jsonify(error=str(e)), 400
    except (IndexMissing, StaleIndex, BackendUnavailable) as e:
        return jsonify(error=str(e)), 503
    return jsonify(result.as_json())


def _export(format: str, mimetype: str, suffix: str):
    """Every result of the /api/search parameters (at most EXPORT_MAX), streamed as rows."""
    try:
        req = _request()
        index = _index()
        index.backend  # noqa: B018 - open it now, so that a missing index is a 503, not a broken stream
    except BadQuery as e:
        return jsonify(error=str(e)), 400
    except (IndexMissing, StaleIndex, BackendUnavailable) as e:
        return jsonify(error=str(e)), 503
    body = stream_with_context(export_lines(export_hits(index, req, EXPORT_MAX), format))
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="vnsearch.{suffix}"'})


@bp.get("/export.csv")
def export_csv():
    return _export("csv", "text/csv", "csv")


@bp.get("/export.jsonl")
def export_jsonl():
    return _export("jsonl", "application/x-ndjson", "jsonl")


FEED_ENTRIES = 20


def _feed_title(state) -> str:
    parts = [f"“{v}”" for k, v in state if k == "q"]
    parts += [f"{FACETS[k].label}: {v}" for k, v in state if k in FACETS]
    parts += [f"{'từ' if k == 'from' else 'đến'} {v}" for k, v in state if k in ("from", "to")]
    return "vnsearch: " + (", ".join(parts) if parts else "bài viết mới nhất")


@bp.get("/feed")
def feed():
    """An Atom feed of a search: its newest dated articles (undated ones are left out: an
    entry needs a date)."""
    state = [(k, v) for k, v in _state() if k in _search_keys() and k != "sort"]
    try:
        req = replace(_request(), sort="newest", page=1, size=FEED_ENTRIES)
        result = _index().search(req)
    except BadQuery as e:
        return render_template("error.html", code=400, title="Yêu cầu không hợp lệ",
                               message=_bad_query_message(e, request.args.get("q", ""))), 400
    except (IndexMissing, StaleIndex, BackendUnavailable) as e:
        return _no_index(e)
    entries = [{"title": h.title or h.id, "id": f"tag:vnsearch,2024:doc/{h.id}",
                "href": url_for("views.document_page", doc_id=h.id, _external=True),
                "updated": f"{h.date}T00:00:00+07:00", "summary": _plain(h.snippet),
                "province": h.province, "source": h.source} for h in result.hits if h.date]
    query = ("?" + urlencode(state)) if state else ""
    updated = entries[0]["updated"] if entries else datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = render_template("feed.xml", title=_feed_title(state), entries=entries, updated=updated,
                          self_href=url_for("views.feed", _external=True) + query,
                          page_href=url_for("views.search_page", _external=True) + query)
    return Response(xml, mimetype="application/atom+xml")


def _plain(snippet_html: str) -> str:
    """A snippet's text without its <mark> tags (it is escaped again in the feed)."""
    return unescape(re.sub(r"</?mark>", "", snippet_html))


@bp.get("/api/doc/<path:doc_id>")
def api_document(doc_id: str):
    try:
        doc = _index().document(doc_id, related=5)
    except UnknownDocument as e:
        return jsonify(error=str(e)), 404
    except (IndexMissing, StaleIndex, BackendUnavailable) as e:
        return jsonify(error=str(e)), 503
    return jsonify(doc.as_json())


@bp.get("/healthz")
def healthz():
    try:
        index = _index()
        health = index.health()
        index.search(SearchRequest(size=1, facets=False, snippets=False))  # it answers, not only opens
    except BackendUnavailable as e:
        return jsonify(status="unavailable", error=str(e)), 503
    except (IndexMissing, StaleIndex) as e:
        return jsonify(status="no index", error=str(e)), 503
    except IndexDamaged as e:
        return jsonify(status="damaged", error=str(e)), 503
    return jsonify(health)


def register_error_pages(app) -> None:
    """Error pages in the site's style (JSON under /api/), never a traceback."""

    from .limits import HOST_MESSAGE

    def wants_json() -> bool:
        return request.path.startswith("/api/") or request.path in ("/healthz", "/export.csv", "/export.jsonl")

    def error_page(code: int, title: str, message: str, error: str | None = None):
        """The error as JSON or as a page; the page builds no URL from the request (its Host
        may be what failed), and a template that fails falls back to plain text."""
        if wants_json():
            return jsonify(error=error or message), code
        try:
            return render_template("error.html", code=code, title=title, message=message), code
        except Exception:  # noqa: BLE001 - the last resort must not fail
            return f"{code} {title}\n{message}\n", code, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if e.code == 404:
            return error_page(404, "Không tìm thấy trang",
                              "Không tìm thấy trang này. Địa chỉ có thể đã sai hoặc trang đã bị gỡ.", "not found")
        if isinstance(e, BadHost):
            return error_page(400, "Yêu cầu không hợp lệ", HOST_MESSAGE)
        if getattr(e, "shown", False):  # a limit of web/limits.py, already in Vietnamese
            return error_page(e.code, f"Lỗi {e.code}", e.description)
        return error_page(e.code, f"Lỗi {e.code}", "Yêu cầu này không thực hiện được.", e.description)

    @app.errorhandler(IndexDamaged)
    def damaged(e: IndexDamaged):
        return error_page(503, "Chỉ mục bị hỏng",
                          "Chỉ mục tìm kiếm bị hỏng nên tạm thời không tìm kiếm được. Người quản trị cần "
                          "xây dựng lại chỉ mục: vnsearch reindex --full", str(e))

    @app.errorhandler(OSError)
    def unreadable(e: OSError):
        app.logger.error("the index cannot be read: %s", e)
        return error_page(503, "Không đọc được chỉ mục",
                          "Máy chủ không đọc được chỉ mục tìm kiếm. Vui lòng thử lại sau ít phút.",
                          "the index cannot be read")

    @app.errorhandler(500)
    def server_error(_):
        return error_page(500, "Lỗi máy chủ", "Đã có lỗi xảy ra phía máy chủ. Vui lòng thử lại sau ít phút.",
                          "internal error")


# --- Vietnamese formats --------------------------------------------------------------------

@bp.app_template_filter("vn_int")
def vn_int(n: int) -> str:
    """1234 → "1.234" (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


@bp.app_template_filter("vn_seconds")
def vn_seconds(ms: float) -> str:
    """52.3 ms → "0,05" seconds."""
    return f"{ms / 1000:.2f}".replace(".", ",")


@bp.app_template_filter("vn_date")
def vn_date(iso: str | None) -> str:
    """"2023-04-07" → "07/04/2023"."""
    if not iso:
        return ""
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"
