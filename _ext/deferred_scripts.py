"""The scripts in a page's <head> run after the page is parsed, not before it is drawn.

Sphinx and the theme's extensions (doctools, the copy button, the toggles, the
tabs, the search tools and the search index) write their scripts into <head> with
no `defer`: a browser stops parsing at each, and a phone on a slow connection
draws nothing until every one has arrived. None of them needs to run before the
page is parsed: each starts its work when the document is ready. After the HTML
build this adds `defer` to them, which keeps their order among themselves.

documentation_options.js stays as it is: the inline scripts after it in <head>
set fields of the DOCUMENTATION_OPTIONS object it defines.
"""

import re

from built_pages import rewrite_pages

STAYS = ("documentation_options.js",)
HEAD = re.compile(r"<head>.*?</head>", re.DOTALL)
SCRIPT = re.compile(r"<script\b([^>]*)>")


def defer_head_scripts(html):
    """``html`` with `defer` on each external, synchronous script in its <head>."""

    def defer(match):
        attributes = match.group(1)
        source = re.search(r'\bsrc="([^"]+)"', attributes)
        if source is None or re.search(r"\b(defer|async)\b|type=\"module\"", attributes):
            return match.group(0)
        if source.group(1).split("?")[0].endswith(STAYS):
            return match.group(0)
        return f"<script defer{attributes}>"

    return HEAD.sub(lambda head: SCRIPT.sub(defer, head.group(0)), html, count=1)


def on_build_finished(app, exception):
    rewrite_pages(app, exception, lambda html, page: defer_head_scripts(html))


def setup(app):
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
