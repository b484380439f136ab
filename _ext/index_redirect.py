"""index.html as a valid HTML page that sends the reader to the book's first page.

sphinx-external-toc writes index.html (when the book has no page of that name) as
one <meta> refresh line: no doctype, no <title>, which the Nu HTML checker reports.
This writes it first, as a whole page with the same refresh, a title and a link for
a reader whose browser does not follow it; sphinx-external-toc then leaves it be.
"""

from html import escape
from pathlib import Path

PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta http-equiv="refresh" content="0; url={url}">
</head>
<body>
<p><a href="{url}">{title}</a></p>
</body>
</html>
"""


def write_index(app, exception):
    index = Path(app.outdir) / "index.html"
    if exception is not None or app.builder.format != "html" or app.config.root_doc == "index":
        return
    url = escape(app.builder.get_target_uri(app.config.root_doc), quote=True)
    title = escape(app.config.html_title or app.config.project)
    index.write_text(
        PAGE.format(lang=app.config.language or "en", title=title, url=url), encoding="utf-8"
    )


def setup(app):
    # Before sphinx-external-toc's own handler (priority 500), which skips an existing file.
    app.connect("build-finished", write_index, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
