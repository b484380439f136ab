"""A math font for the MathML formulas, cut down to the characters the book uses.

Browsers draw MathML with an OpenType MATH font: its table tells them how to
build tall brackets, big sums and fraction bars. Windows and macOS have one;
many Linux and Android systems do not, and without it brackets do not stretch.
So the book ships STIX Two Math (SIL Open Font License 1.1; the copy inside the
ziamath package), subset when the book is built to the characters found in its
formulas plus every size variant and part of them (fontTools keeps the MATH
table's closure), about 32 KB as WOFF 2. The subset carries its own family name,
as the license asks of a modified font; its copyright and license stay in it.
_static/custom.css declares it as "Book Math" for <math>.
"""

import importlib.util
import re
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from sphinx.util import logging

logger = logging.getLogger(__name__)

FONT_FILE = "math-font.woff2"  # in _static/, where custom.css looks for it
FAMILY = "Book Math"
_MATH = re.compile(r"<math\b.*?</math>", re.DOTALL)
_NOT_DRAWN = re.compile(r"<annotation\b.*?</annotation>|<[^>]+>", re.DOTALL)
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"'}


def source_font():
    spec = importlib.util.find_spec("ziamath")
    if spec is None:
        raise RuntimeError("the math font comes from ziamath: pip install -r requirements.txt")
    return Path(spec.submodule_search_locations[0]) / "fonts" / "STIXTwoMath-Regular.ttf"


def characters_in_formulas(html_dir):
    """Every character drawn in a formula on any page of the build."""
    found = set()
    for page in Path(html_dir).rglob("*.html"):
        for formula in _MATH.findall(page.read_text(encoding="utf-8")):
            text = _NOT_DRAWN.sub("", formula)
            for entity, char in _ENTITIES.items():
                text = text.replace(entity, char)
            found.update(text)
    return found


def write_subset(characters, out_path):
    font = TTFont(source_font())
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted({ord(c) for c in characters} | {0x20, 0xA0}))
    subsetter.subset(font)
    if "MATH" not in font:
        raise RuntimeError("the subset lost the font's MATH table")
    names = font["name"]
    for name_id in (1, 4, 6, 16, 21):  # family, full name, PostScript name, typographic family
        for record in list(names.names):
            if record.nameID == name_id:
                value = FAMILY.replace(" ", "") if name_id == 6 else FAMILY
                names.setName(value, name_id, record.platformID, record.platEncID, record.langID)
    font.flavor = "woff2"  # Brotli-compressed: about 3/4 of the WOFF size
    font.save(out_path)
    return Path(out_path).stat().st_size


def on_build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    html_dir = Path(app.outdir)
    characters = characters_in_formulas(html_dir)
    size = write_subset(characters, html_dir / "_static" / FONT_FILE)
    logger.info(f"math font: {len(characters)} characters, {size / 1024:.0f} KiB")


def preload_on_pages_with_math(app, pagename, templatename, context, doctree):
    """Fetch the font with the style sheets, so the formulas are laid out once, in it.

    Found only through custom.css, the font arrives after the first layout, and the
    formulas move when it does (a layout shift Lighthouse counts).
    """
    if "<math" not in context.get("body", ""):
        return
    href = context["pathto"](f"_static/{FONT_FILE}", 1)
    link = f'<link rel="preload" href="{href}" as="font" type="font/woff2" crossorigin>\n'
    context["metatags"] = context.get("metatags", "") + link


def setup(app):
    app.connect("build-finished", on_build_finished)
    app.connect("html-page-context", preload_on_pages_with_math)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
