"""The theme's icon font, cut down to the icons the book shows.

pydata-sphinx-theme draws its icons (search, menu, download, light and dark mode,
...) with Font Awesome's solid font: 153 KiB that every page fetches with high
priority, next to the style sheets, before its first paint on a slow phone
connection. The book shows about twenty of its 1400 icons. After the HTML build
this keeps, in the same files, only the glyphs that can appear: every icon class
(`fa-...`) used in a built page, and every icon the theme's style sheet names by
code point itself (admonition and link icons). Nothing changes for the reader but
the size.
"""

import re
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

THEME_CSS = Path("_static") / "styles" / "pydata-sphinx-theme.css"
FONTS = Path("_static") / "vendor" / "fontawesome" / "webfonts"
SOLID = ("fa-solid-900.woff2", "fa-solid-900.ttf")
# `.fa-magnifying-glass:before,.fa-search:before{content:"\f002"}`
ICON_RULE = re.compile(r'((?:\.fa-[a-z0-9-]+:before,?)+)\{content:"\\([0-9a-f]{4})"\}')
CODE_POINT = re.compile(r'"\\([0-9a-f]{4})"')
ICON_CLASS = re.compile(r"\bfa-[a-z0-9-]+")


def icon_map(css):
    """{icon class: code point} from the theme's style sheet."""
    icons = {}
    for classes, code in ICON_RULE.findall(css):
        for name in re.findall(r"fa-[a-z0-9-]+", classes):
            icons[name] = int(code, 16)
    return icons


def code_points_used(css, pages):
    """The code points the pages can show: their icon classes, and the sheet's own."""
    icons = icon_map(css)
    own = {int(code, 16) for code in CODE_POINT.findall(ICON_RULE.sub("", css))}
    used = {name for page in pages for name in ICON_CLASS.findall(page)}
    return own | {icons[name] for name in used if name in icons}


def subset_font(path, code_points):
    font = TTFont(path)
    options = subset.Options()
    options.flavor = font.flavor  # woff2 stays woff2, a TTF stays a TTF
    options.layout_features = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(code_points))
    subsetter.subset(font)
    font.save(path)


def on_build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    css_path = outdir / THEME_CSS
    if not css_path.exists():
        return
    css = css_path.read_text(encoding="utf-8")
    pages = [p.read_text(encoding="utf-8") for p in outdir.rglob("*.html")]
    code_points = code_points_used(css, pages)
    for name in SOLID:
        path = outdir / FONTS / name
        if path.exists():
            subset_font(path, code_points)


def setup(app):
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
