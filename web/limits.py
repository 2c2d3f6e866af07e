"""Bounds on every request, checked before any view runs.

A search page links to every state one click away (facet toggles, chips, pages), each link
carrying the whole state: without bounds, the page grows with the square of the number of
filter values and one request costs minutes. The limits below are far above what the page's
own forms produce (4 facets × 20 values, a 500-character query: under 5,000 characters of
URL); waitress refuses what is larger still before Flask sees it (``WAITRESS_LIMITS``).
"""

from __future__ import annotations

import re

from flask import request
from werkzeug.exceptions import BadRequest, HTTPException, RequestHeaderFieldsTooLarge, RequestURITooLarge

MAX_URL_CHARS = 8192  # path and query string, as sent (nginx's and Apache's default line)
MAX_PARAMETERS = 120  # name=value pairs in the query string
MAX_HEADER_BYTES = 16 * 1024  # all request headers together
SINGLE = ("q", "from", "to", "sort", "page", "size")  # parameters that take one value

# What waitress itself refuses (its own plain-text 431/413, before the app runs).
WAITRESS_LIMITS = {"max_request_header_size": 256 * 1024, "max_request_body_size": 1024 * 1024}

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]{{2,45}}\])(?::[0-9]{{1,5}})?")


HOST_MESSAGE = "Yêu cầu có tên máy chủ (Host) không hợp lệ."


def refused(error: type[HTTPException], message: str) -> HTTPException:
    """An HTTP error whose message (Vietnamese) the error page and the JSON show as it is."""
    e = error(message)
    e.shown = True  # type: ignore[attr-defined]
    return e


def check_request() -> None:
    """Refuse a request over the limits (414, 431, 400) with a message in Vietnamese."""
    environ = request.environ
    host = environ.get("HTTP_HOST")
    if host is not None and (len(host) > 260 or not _HOST.fullmatch(host)):
        raise refused(BadRequest, HOST_MESSAGE)
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    url_chars = len(raw_uri) if raw_uri else len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", "")) + 1
    if url_chars > MAX_URL_CHARS:
        raise refused(RequestURITooLarge, f"Địa chỉ yêu cầu quá dài ({url_chars:,} ký tự; tối đa "
                                          f"{MAX_URL_CHARS:,}).".replace(",", "."))
    header_bytes = sum(len(k) + len(str(v)) for k, v in environ.items() if k.startswith("HTTP_"))
    if header_bytes > MAX_HEADER_BYTES:
        raise refused(RequestHeaderFieldsTooLarge, "Phần đầu (header) của yêu cầu quá lớn.")
    args = request.args
    if sum(len(v) for v in args.listvalues()) > MAX_PARAMETERS:
        raise refused(BadRequest, "Yêu cầu có quá nhiều tham số.")
    for name in SINGLE:
        if len(args.getlist(name)) > 1:
            raise refused(BadRequest, f"Tham số “{name}” chỉ được có một giá trị.")
