"""A `<meta name="description">` on every page of the book, for search results and link previews.

Sphinx 7 dropped `html_meta`, and a notebook has no front matter to carry one, so the
descriptions come from `page_descriptions` in _config.yml (`sphinx: config:`), a page's
name -> its description. A page with no entry there is described by its first paragraph,
cut to about 160 characters; a generated page (search, index) by its title and the book's.
"""

import html
import re

from docutils import nodes

LIMIT = 160  # about what a search result shows


def shorten(text, limit=LIMIT):
    """`text` on one line, cut at a word boundary to at most `limit` characters."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def first_paragraph(doctree):
    for paragraph in doctree.findall(nodes.paragraph):
        text = paragraph.astext().strip()
        if text:
            return text
    return ""


def describe(app, pagename, context, doctree):
    given = app.config.page_descriptions.get(pagename)
    if given:
        return shorten(given, limit=len(given))
    if doctree is not None:
        text = first_paragraph(doctree)
        if text:
            return shorten(text)
    title = re.sub(r"<[^>]+>", "", context.get("title") or pagename)
    return f"{html.unescape(title)}: {app.config.html_title}"


def add_description(app, pagename, templatename, context, doctree):
    description = describe(app, pagename, context, doctree)
    tag = f'<meta name="description" content="{html.escape(description, quote=True)}" />\n'
    context["metatags"] = context.get("metatags", "") + tag


def setup(app):
    app.add_config_value("page_descriptions", {}, "html", types=[dict])
    app.connect("html-page-context", add_description)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
