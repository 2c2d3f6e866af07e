"""The Flask front end: ``create_app(config=None)`` builds the app; there is no module-level app.

The app holds one :class:`search.Index` for its life (as flaskr ties its database to the
app): ``live_index(app)`` hands it to a request, reopened first when a reindex has switched
the live data, so a running server never needs a restart.
"""

from __future__ import annotations

import gc
import os

from flask import Flask, current_app, request
from jinja2 import FileSystemBytecodeCache

from search.errors import BackendUnavailable, IndexDamaged, IndexMissing, StaleIndex
from search.query import Index

from .limits import WAITRESS_LIMITS

__all__ = ["create_app", "live_index", "freeze_long_lived", "path_for", "EXTENSION", "WAITRESS_LIMITS"]

EXTENSION = "vnsearch.index"


def freeze_long_lived(app: Flask) -> None:
    """Freeze the collector's view of what is alive now (GC_FREEZE, on by default): called
    once the index is (re)opened and once the server has read what its first requests need.
    An open index is hundreds of thousands of long-lived objects, and scanning them again and
    again puts 30 ms pauses into queries."""
    if app.config["GC_FREEZE"]:
        gc.freeze()


def live_index(app: Flask) -> Index:
    """The app's Index, refreshed when the live data changed (then ``freeze_long_lived``)."""
    index: Index = app.extensions[EXTENSION]
    try:
        reopened = index.refresh()
    except (IndexMissing, StaleIndex, IndexDamaged, BackendUnavailable, OSError):
        return index  # the request reports it (503) when it uses the index
    if reopened:
        freeze_long_lived(app)
    return index


def path_for(endpoint: str, **values) -> str:
    """The path of an endpoint, built from the app's routes alone: unlike ``url_for`` it needs
    nothing of the request but its script root, so error pages render even for a request
    whose Host header Werkzeug refused."""
    adapter = current_app.url_map.bind("localhost", script_name=request.script_root or "/")
    return adapter.build(endpoint, values)


class TemplateCache(FileSystemBytecodeCache):
    """Jinja's compiled templates, kept between starts (by default in the user's own folder
    of the temporary directory, as Jinja chooses it): a server's first page then costs 3 ms
    of template loading instead of 90 ms of compiling. A stored template is used only for
    the same source, Jinja and Python. A cache that cannot be read or written is no cache:
    the page is compiled as it would be without one, never an error."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _template_cache(directory: str | None) -> TemplateCache | None:
    try:
        return TemplateCache(directory)
    except (OSError, RuntimeError):  # no safe folder of our own in the temporary directory
        return None


def create_app(config: dict | None = None) -> Flask:
    """Build the web app; `config` overrides the defaults (INDEX_DIR from VNSEARCH_INDEX)."""
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX_DIR=os.environ.get("VNSEARCH_INDEX", "index"),  # a folder, or a backend location
        GC_FREEZE=True,
        JSON_AS_ASCII=False,
        RESULTS_CHART=True,  # the results by month above the hits (False: no date histogram is asked)
        TEMPLATE_CACHE=True,  # compiled templates kept between starts: True (Jinja's folder), a folder, False
    )
    if config:
        app.config.from_mapping(config)
    if cache := app.config["TEMPLATE_CACHE"]:
        app.jinja_options = {**app.jinja_options,
                             "bytecode_cache": _template_cache(None if cache is True else str(cache))}
    app.extensions[EXTENSION] = Index(app.config["INDEX_DIR"])
    app.json.ensure_ascii = False
    app.json.sort_keys = False  # keep the documented field order

    from . import limits, views

    app.before_request(limits.check_request)
    app.register_blueprint(views.bp)
    views.register_error_pages(app)
    app.add_template_global(path_for)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
