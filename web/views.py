"""The blueprint: search page, article page, JSON API, health check."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from search.errors import BadQuery, IndexMissing, StaleIndex, UnknownDocument
from search.query import MAX_QUERY_CHARS, SearchRequest, get_document, request_from_params, search
from search.schema import FACETS

bp = Blueprint("views", __name__)

FACET_LABELS = {"province": "Tỉnh, thành", "province_2025": "Tỉnh sau sáp nhập 2025",
                "secretary": "Bí thư Tỉnh ủy", "year": "Năm"}
SORT_LABELS = {"relevance": "Liên quan nhất", "newest": "Mới nhất", "oldest": "Cũ nhất"}
STATE_KEYS = ("q", *FACETS, "from", "to", "sort", "size")


def _index_dir() -> Path:
    return Path(current_app.config["INDEX_DIR"])


def _state() -> list[tuple[str, str]]:
    """The request's search state as (name, value) pairs, without the page number."""
    return [(k, v) for k in STATE_KEYS for v in request.args.getlist(k) if v.strip()]


def _href(state: list[tuple[str, str]], **changes) -> str:
    """The /search URL for `state` with some parameters replaced (None removes them)."""
    pairs = [(k, v) for k, v in state if k not in changes]
    for k, v in changes.items():
        if v is not None:
            pairs.extend((k, x) for x in (v if isinstance(v, list) else [v]))
    return url_for("views.search_page") + ("?" + urlencode(pairs) if pairs else "")


def _toggle(state, facet: str, value: str) -> str:
    current = [v for k, v in state if k == facet]
    values = [v for v in current if v != value] if value in current else current + [value]
    return _href(state, **{facet: values})


def _facet_view(result, state) -> list[dict]:
    """Facets as the template shows them: label, values with count, selected and toggle URL."""
    shown = []
    for facet in FACETS:
        values = result.facets.get(facet, [])
        selected_raw = {v for k, v in state if k == facet}
        canon = set(result.filters.get(facet, []))
        items = []
        for fv in values:
            raw = next((r for r in selected_raw if r == fv.value), None) if fv.selected else None
            items.append({"value": fv.value, "count": fv.count, "selected": fv.selected,
                          "href": _toggle(state, facet, raw or fv.value)})
        shown.append({"name": facet, "label": FACET_LABELS[facet], "values": items, "active": bool(canon)})
    return shown


def _chips(state) -> list[dict]:
    chips = []
    for k, v in state:
        if k in FACETS:
            chips.append({"label": f"{FACET_LABELS[k]}: {v}", "href": _toggle(state, k, v)})
        elif k in ("from", "to"):
            chips.append({"label": ("Từ ngày " if k == "from" else "Đến ngày ") + v,
                          "href": _href(state, **{k: None})})
    return chips


def _pages(result, state) -> dict:
    last = max(1, -(-result.total // result.size))
    window = range(max(1, result.page - 2), min(last, result.page + 2) + 1)
    return {
        "current": result.page, "last": last,
        "prev": _href(state, page=str(result.page - 1)) if result.page > 1 else None,
        "next": _href(state, page=str(result.page + 1)) if result.page < last else None,
        "links": [{"n": n, "href": _href(state, page=str(n)), "current": n == result.page} for n in window],
    }


def _request() -> SearchRequest:
    return request_from_params(request.args.get, request.args.getlist)


@bp.get("/")
@bp.get("/search")
def search_page():
    state = _state()
    ctx = {"q": request.args.get("q", ""), "state": state, "sort_labels": SORT_LABELS,
           "max_query": MAX_QUERY_CHARS, "args": request.args}
    try:
        req = _request()
    except BadQuery as e:
        return render_template("search.html", error=str(e), **ctx), 400
    if request.path == "/" and not request.args:
        try:
            result = search(_index_dir(), SearchRequest(size=5))
        except (IndexMissing, StaleIndex) as e:
            return render_template("no_index.html", error=str(e)), 503
        return render_template("search.html", home=True, result=result, facets=_facet_view(result, state),
                               chips=[], pages=None, **ctx)
    try:
        result = search(_index_dir(), req)
    except (IndexMissing, StaleIndex) as e:
        return render_template("no_index.html", error=str(e)), 503
    return render_template("search.html", result=result, facets=_facet_view(result, state),
                           chips=_chips(state), pages=_pages(result, state),
                           suggestion_href=_href(state, q=result.suggestion) if result.suggestion else None,
                           clear_href=_href([(k, v) for k, v in state if k in ("q", "sort", "size")]),
                           **ctx)


@bp.get("/doc/<path:doc_id>")
def document_page(doc_id: str):
    q = request.args.get("q", "")[:MAX_QUERY_CHARS]
    try:
        doc = get_document(_index_dir(), doc_id, q=q)
    except (IndexMissing, StaleIndex) as e:
        return render_template("no_index.html", error=str(e)), 503
    except UnknownDocument:
        return render_template("error.html", code=404, message="Không tìm thấy bài viết này."), 404
    paragraphs = [p for p in doc.body_html.split("\n\n") if p.strip()]
    links = {f: _href([], **{f: getattr(doc, f)}) for f in ("province", "province_2025", "secretary")
             if getattr(doc, f)}
    if doc.date:
        links["year"] = _href([], year=doc.date[:4])
    return render_template("doc.html", doc=doc, paragraphs=paragraphs, links=links, q=q,
                           back=request.args.get("back"))


@bp.get("/api/search")
def api_search():
    try:
        result = search(_index_dir(), _request())
    except BadQuery as e:
        return jsonify(error=str(e)), 400
    except (IndexMissing, StaleIndex) as e:
        return jsonify(error=str(e)), 503
    return jsonify(result.as_json())


@bp.get("/api/doc/<path:doc_id>")
def api_document(doc_id: str):
    try:
        doc = get_document(_index_dir(), doc_id, related=5)
    except UnknownDocument as e:
        return jsonify(error=str(e)), 404
    except (IndexMissing, StaleIndex) as e:
        return jsonify(error=str(e)), 503
    return jsonify(doc.as_json())


@bp.get("/healthz")
def healthz():
    from search.indexer import current_generation

    current = current_generation(_index_dir())
    try:
        search(_index_dir(), SearchRequest(size=1))
    except (IndexMissing, StaleIndex) as e:
        return jsonify(status="no index", error=str(e)), 503
    return jsonify(status="ok", documents=current.get("documents"), generation=current.get("generation"))


def register_error_pages(app) -> None:
    """404 and 500 pages in the site's style (JSON under /api/), never a traceback."""

    def wants_json() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(404)
    def not_found(_):
        if wants_json():
            return jsonify(error="not found"), 404
        return render_template("error.html", code=404, message="Không tìm thấy trang này."), 404

    @app.errorhandler(500)
    def server_error(_):
        if wants_json():
            return jsonify(error="internal error"), 500
        return render_template("error.html", code=500,
                               message="Đã có lỗi xảy ra phía máy chủ. Vui lòng thử lại sau."), 500


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
