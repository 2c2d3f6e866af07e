"""The Flask front end: ``create_app(config=None)`` builds the app; there is no module-level app."""

from __future__ import annotations

import os

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """Build the web app; `config` overrides the defaults (INDEX_DIR from VNSEARCH_INDEX)."""
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX_DIR=os.environ.get("VNSEARCH_INDEX", "index"),
        JSON_AS_ASCII=False,
    )
    if config:
        app.config.from_mapping(config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False  # keep the documented field order

    from . import views

    app.register_blueprint(views.bp)
    views.register_error_pages(app)

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
