"""The built HTML pages, rewritten in place once the HTML build is done.

Several of the book's extensions change every page after Sphinx has written it
(the animation frames, the pictures, the scripts, the code markup); this is the
one loop they share.
"""

from pathlib import Path


def rewrite_pages(app, exception, rewrite):
    """Apply ``rewrite(html, page)`` to every page of a finished HTML build.

    ``page`` is the page's path in the site ("chapters/01_1_chain_rule.html"); a page
    is written back only when ``rewrite`` changed it.
    """
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for path in sorted(outdir.rglob("*.html")):
        html = path.read_text(encoding="utf-8")
        rewritten = rewrite(html, path.relative_to(outdir).as_posix())
        if rewritten != html:
            path.write_text(rewritten, encoding="utf-8")
