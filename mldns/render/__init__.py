"""Views of a Plan: text for terminals, JSON for machines, Markdown for pull requests, HTML for
browsers and notebooks. Each is one renderer over the same layout (`model.build`)."""

from __future__ import annotations

from mldns.render.html import render_html
from mldns.render.jsonview import render_json
from mldns.render.markdown import render_markdown
from mldns.render.model import summary
from mldns.render.text import render_text

FORMATS = ("text", "json", "markdown", "html")

__all__ = ["FORMATS", "render_html", "render_json", "render_markdown", "render_text", "summary"]
