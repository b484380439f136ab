"""Unit tests for the book's Sphinx extensions in _ext/: MathML formulas and their font.

The built pages are checked in a browser by tests/test_browser.py (every formula
typeset, the font loaded) and by the Nu HTML checker in tests/test_valid_pages.py.
"""

import base64
import importlib
import io
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))
mathml = importlib.import_module("mathml")
math_font = importlib.import_module("math_font")

NS = "{http://www.w3.org/1998/Math/MathML}"


def tree(tex, display=False):
    return ET.fromstring(mathml.tex_to_mathml(tex, display=display))


def texts(element, tag):
    return [e.text for e in element.iter(NS + tag)]


def test_formula_keeps_its_tex_as_annotation_and_display_mode():
    math = tree(r"\frac{\partial L}{\partial w}", display=True)
    assert math.get("display") == "block"
    annotation = math.find(f"{NS}semantics/{NS}annotation")
    assert annotation.get("encoding") == "application/x-tex"
    assert annotation.text == r"\frac{\partial L}{\partial w}"
    assert math.find(f".//{NS}mfrac") is not None and texts(math, "mo").count("∂") == 2
    assert tree("x").get("display") == "inline"


def test_chapter_constructs_become_mathml_core():
    relu = tree(r"\operatorname{relu}(s) + \max(s, 0)")
    assert "relu" in texts(relu, "mi") and "max" in texts(relu, "mi"), "names are upright mi"
    assert "relu" not in texts(relu, "mo")
    assert texts(tree(r"\mathbb{R}^{N}"), "mi")[0] == "ℝ"
    bold = tree(r"\mathbf{1}_N")
    assert "𝟏" in texts(bold, "mn") and not [e for e in bold.iter() if e.get("mathvariant")]
    assert "⊙" in texts(tree(r"a \odot b"), "mo")
    code = tree(r"\texttt{w.grad}").find(f".//{NS}mtext")
    assert code.text == "w.grad" and "monospace" in code.get("style")
    matrix = tree(r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}")
    assert len(matrix.findall(f".//{NS}mtr")) == 2 and len(matrix.findall(f".//{NS}mtd")) == 4
    total = tree(r"\sum_{i=1}^{N} x_i", display=True)
    assert total.find(f".//{NS}munderover") is not None


def test_lines_split_at_top_level_only():
    split = tree(r"a &= b \\ &= c", display=True)
    cells = split.findall(f".//{NS}mtd")
    assert len(split.findall(f".//{NS}mtr")) == 2
    assert {c.get("style") for c in cells if c.get("style")} <= {
        "text-align: right",
        "text-align: left",
    }
    assert not [c for c in cells if c.get("columnalign")], "columnalign is not MathML Core"
    assert mathml._top_level_row_break(r"a \\ b")
    assert not mathml._top_level_row_break(r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}")


def test_aligned_equations_become_a_table_of_rows():
    aligned = tree(
        r"\begin{aligned} S_1 &= XW_1, & H &= \sigma(S_1),\\ L &= 1 \end{aligned}", True
    )
    assert len(aligned.findall(f".//{NS}mtr")) == 2
    assert "&" not in texts(aligned, "mi") + texts(aligned, "mo")


def test_scripted_matrix_has_one_base():
    # latex2mathml writes \begin{pmatrix}..\end{pmatrix}_{ij} as an msub of four children.
    msub = tree(r"\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}_{ij}").find(f".//{NS}msub")
    assert len(msub) == 2 and msub[0].tag == NS + "mrow" and len(msub[0]) == 3


def test_special_characters_are_escaped():
    source = mathml.tex_to_mathml(r"a < b \text{ & } c > d")
    assert "&lt;" in source and "&amp;" in source
    assert ET.fromstring(source) is not None


@pytest.mark.parametrize(
    "tex, message",
    [
        (r"\foo x", "unknown macro"),
        ("", "empty formula"),
        (r"a & b", "outside an environment"),
        (r"\frac{1}", "<mfrac> with 1 parts, 2 expected"),
        (r"x^", "cannot read it"),
    ],
)
def test_bad_formulas_are_named_errors(tex, message):
    with pytest.raises(mathml.TeXError, match=message):
        mathml.tex_to_mathml(tex)


def test_font_subset_keeps_math_table_and_the_characters(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<p>text outside</p><math><semantics><mrow><mi>ℝ</mi><mo>&lt;</mo><mo>∑</mo></mrow>"
        "<annotation>\\mathbb{R} &lt; \\sum</annotation></semantics></math>",
        encoding="utf-8",
    )
    characters = math_font.characters_in_formulas(tmp_path)
    assert characters == {"ℝ", "<", "∑"}, "drawn characters only, entities decoded"
    out = tmp_path / "font.woff2"
    size = math_font.write_subset(characters, out)
    assert size < 60_000, f"{size} bytes"
    font = TTFont(io.BytesIO(out.read_bytes()))
    assert "MATH" in font and out.read_bytes()[:4] == b"wOF2"
    cmap = font.getBestCmap()
    assert {ord("ℝ"), ord("<"), ord("∑")} <= set(cmap) and ord("x") not in cmap
    family = font["name"].getDebugName(1)
    assert family == math_font.FAMILY, "a subset carries its own family name"
    variants = font["MATH"].table.MathVariants
    assert variants.VertGlyphCount > 0, "size variants (big sums, tall brackets) kept"


# -- The animations' frames and the icon font (_ext/animation_frames.py, _ext/icon_font.py) --

animation_frames = importlib.import_module("animation_frames")
icon_font = importlib.import_module("icon_font")

PNG = (  # a 1×1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9a"
    "wAAAABJRU5ErkJggg=="
)


def test_frames_leave_the_page_for_files_written_once(tmp_path):
    html = (
        f'frames[0] = "data:image/png;base64,{PNG[:40]}\\\n{PNG[40:]}";\n'
        f'frames[1] = "data:image/png;base64,{PNG}";'
    )
    out = animation_frames.frame_files(html, "chapters/01.html", tmp_path)
    assert "base64" not in out
    urls = re.findall(r'frames\[\d\] = "([^"]+)"', out)
    assert len(urls) == 2 and urls[0] == urls[1] and urls[0].startswith("../_images/frame-")
    files = list((tmp_path / "_images").iterdir())
    assert len(files) == 1 and files[0].read_bytes() == base64.b64decode(PNG)


def test_icon_font_keeps_the_icons_the_pages_and_the_theme_use():
    css = (
        '.fa-magnifying-glass:before,.fa-search:before{content:"\\f002"}'
        '.fa-sun:before{content:"\\f185"}.fa-moon:before{content:"\\f186"}'
        'html{--pst-icon-admonition-note:"\\f05a"}'
    )
    pages = ['<i class="fa-solid fa-magnifying-glass"></i>', '<i class="fa-solid fa-sun">']
    assert icon_font.code_points_used(css, pages) == {0xF002, 0xF185, 0xF05A}


def test_the_built_icon_font_has_every_icon_the_pages_show():
    root = Path(__file__).resolve().parents[1] / "_build" / "html"
    font_path = root / icon_font.FONTS / icon_font.SOLID[0]
    if not font_path.exists():
        pytest.fail("build the book first (make book)")
    css = (root / icon_font.THEME_CSS).read_text(encoding="utf-8")
    pages = [p.read_text(encoding="utf-8") for p in root.rglob("*.html")]
    wanted = icon_font.code_points_used(css, pages)
    assert 0xF002 in wanted, "the search icon is always shown"
    cmap = TTFont(font_path).getBestCmap()
    assert wanted <= set(cmap), f"icons without a glyph: {sorted(map(hex, wanted - set(cmap)))}"
    assert font_path.stat().st_size < 20_000, "the icon font was not cut down"
