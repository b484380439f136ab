"""The build's rewrites of its pages: _ext/built_pages.py, the loop they share, and the
three that make the pages lighter (_ext/deferred_scripts.py, _ext/output_images.py,
_ext/code_tokens.py), on small pages and on the built book."""

import base64
import importlib
import re
import struct
import sys
import zlib
from types import SimpleNamespace

import pytest
from PIL import Image

from conftest import HTML_DIR, ROOT, site_pages

sys.path.insert(0, str(ROOT / "_ext"))

built_pages = importlib.import_module("built_pages")
deferred_scripts = importlib.import_module("deferred_scripts")
output_images = importlib.import_module("output_images")
code_tokens = importlib.import_module("code_tokens")


def built_site(redirects=True):
    """{page: its HTML} for the built book (the redirect stubs too, unless told)."""
    if not (HTML_DIR / "intro.html").is_file():
        pytest.fail("build the book first (make book)")
    return {
        page: (HTML_DIR / page).read_text(encoding="utf-8")
        for page in site_pages(HTML_DIR, redirects=redirects)
    }


# -- built_pages -------------------------------------------------------------------------


def test_rewrite_pages_rewrites_a_finished_html_build_only(tmp_path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01.html").write_text("<p>one</p>", encoding="utf-8")
    (tmp_path / "intro.html").write_text("<p>intro</p>", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("<p>not a page</p>", encoding="utf-8")
    seen = []

    def shout(html, page):
        seen.append(page)
        return html.upper() if page.startswith("chapters/") else html

    html_build = SimpleNamespace(outdir=str(tmp_path), builder=SimpleNamespace(format="html"))
    built_pages.rewrite_pages(html_build, RuntimeError("the build failed"), shout)
    other_build = SimpleNamespace(outdir=str(tmp_path), builder=SimpleNamespace(format="text"))
    built_pages.rewrite_pages(other_build, None, shout)
    assert seen == [], "a failed build and a non-HTML build are left alone"

    before = (tmp_path / "intro.html").stat().st_mtime_ns
    built_pages.rewrite_pages(html_build, None, shout)
    assert seen == ["chapters/01.html", "intro.html"]
    assert (tmp_path / "chapters" / "01.html").read_text(encoding="utf-8") == "<P>ONE</P>"
    assert (tmp_path / "intro.html").stat().st_mtime_ns == before, "unchanged: not written"
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "<p>not a page</p>"


# -- deferred_scripts ------------------------------------------------------------------

HEAD = """<!DOCTYPE html><html><head>
<script data-cfasync="false">document.documentElement.dataset.mode = "auto";</script>
<script src="../_static/documentation_options.js?v=1"></script>
<script src="../_static/doctools.js?v=2"></script>
<script>DOCUMENTATION_OPTIONS.pagename = 'chapters/01';</script>
<script data-sd-tabs-storage-prefix="x-" src="../_static/design-tabs.js"></script>
<script async src="../_static/a.js"></script>
<script type="module" src="../_static/m.js"></script>
<script defer src="../_static/d.js"></script>
<script src="../searchindex.js"></script>
</head><body><script src="../_static/in-body.js"></script></body></html>"""


def test_head_scripts_are_deferred_in_their_order():
    out = deferred_scripts.defer_head_scripts(HEAD)
    tags = re.findall(r"<script\b[^>]*>", out.split("</head>")[0])
    assert tags == [
        '<script data-cfasync="false">',  # inline: runs where it is
        '<script src="../_static/documentation_options.js?v=1">',  # the inline ones need it
        '<script defer src="../_static/doctools.js?v=2">',
        "<script>",
        '<script defer data-sd-tabs-storage-prefix="x-" src="../_static/design-tabs.js">',
        '<script async src="../_static/a.js">',  # already not blocking: as it was
        '<script type="module" src="../_static/m.js">',
        '<script defer src="../_static/d.js">',
        '<script defer src="../searchindex.js">',
    ]
    assert '<body><script src="../_static/in-body.js">' in out, "the body is left alone"
    assert deferred_scripts.defer_head_scripts(out) == out, "a second build changes nothing"


def test_no_built_page_has_a_blocking_script_in_its_head():
    for page, html in built_site().items():
        head = html.split("</head>")[0]
        blocking = [
            tag
            for tag in re.findall(r"<script\b[^>]*\bsrc=[^>]*>", head)
            if not re.search(r"\b(defer|async)\b", tag) and "documentation_options.js" not in tag
        ]
        assert not blocking, f"{page}: {blocking}"


# -- output_images ----------------------------------------------------------------------


def png(width, height):
    """A real PNG of one grey colour."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def data_url(kind, data):
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


def test_png_size_reads_the_header():
    assert output_images.png_size(png(7, 3)) == (7, 3)
    assert output_images.png_size(b"GIF89a" + bytes(30)) is None
    assert output_images.png_size(b"") is None


def test_a_png_gets_its_size_in_css_pixels_at_the_resolution_it_was_drawn_at(tmp_path):
    """matplotlib's PNGs say their dpi (pHYs): 72 dpi pixels are 4/3 CSS pixels each."""
    for dpi, expected in [(72, (400, 200)), (80, (360, 180)), (100, (288, 144))]:
        image = tmp_path / f"fig-{dpi}.png"
        Image.new("L", (300, 150)).save(image, dpi=(dpi, dpi))
        assert output_images.png_dpi(image.read_bytes()) == pytest.approx(dpi, abs=0.01)
        assert output_images.css_size(image.read_bytes()) == expected, dpi
        html = '<img alt="a" src="../_images/x.png" />'.replace("x.png", image.name)
        (tmp_path / "_images").mkdir(exist_ok=True)
        (tmp_path / "_images" / image.name).write_bytes(image.read_bytes())
        out = output_images.page_images(html, "chapters/page.html", tmp_path)
        assert f'width="{expected[0]}" height="{expected[1]}"' in out
    assert output_images.png_dpi(png(7, 3)) is None  # no pHYs: a pixel is a CSS pixel
    assert output_images.css_size(png(7, 3)) == (7, 3)


def test_big_data_pictures_become_files_written_once(tmp_path):
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' + " " * 2000).encode()
    tiny = b"GIF89a" + bytes(20)
    html = (
        f'<figure><img src="{data_url("svg+xml", svg)}" width="553" height="137" alt="a"></figure>'
        f'<img src="{data_url("svg+xml", svg)}" alt="the same">'
        f'<img id="player" alt="b" src="{data_url("gif", tiny)}">'
    )
    out = output_images.page_images(html, "chapters/02.html", tmp_path)
    sources = re.findall(r'src="([^"]+)"', out)
    assert sources[0] == sources[1] and re.fullmatch(
        r"\.\./_images/output-[0-9a-f]{20}\.svg", sources[0]
    )
    assert sources[2].startswith("data:image/gif"), "a picture under 1 KiB stays inline"
    files = list((tmp_path / "_images").iterdir())
    assert len(files) == 1 and files[0].read_bytes() == svg
    assert 'width="553" height="137"' in out, "the sizes it had are kept"


def test_every_picture_is_lazy_and_a_png_gets_its_size(tmp_path):
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "fig.png").write_bytes(png(543, 371))
    html = (
        '<img alt="a curve" src="../_images/fig.png" />'
        '<img alt="missing" src="../_images/gone.png" />'
        '<img loading="eager" alt="kept" src="../_images/fig.png" width="20" height="10" />'
    )
    out = output_images.page_images(html, "chapters/01.html", tmp_path)
    tags = re.findall(r"<img\b[^>]*>", out)
    assert (
        tags[0]
        == '<img loading="lazy" width="543" height="371" alt="a curve" src="../_images/fig.png" />'
    )
    assert tags[1] == '<img loading="lazy" alt="missing" src="../_images/gone.png" />'
    assert (
        tags[2]
        == '<img loading="eager" alt="kept" src="../_images/fig.png" width="20" height="10" />'
    )
    assert output_images.page_images(out, "chapters/01.html", tmp_path) == out, "idempotent"


def test_built_pages_carry_no_big_picture_and_no_eager_one():
    for page, html in built_site().items():
        for tag in re.findall(r"<img\b[^>]*>", html):
            assert 'loading="lazy"' in tag, f"{page}: {tag[:120]}"
            data = re.search(r'src="data:[^;]+;base64,([^"]+)"', tag)
            assert data is None or len(base64.b64decode(data.group(1))) < 1024, (
                f"{page}: {tag[:120]}"
            )
            source = re.search(r'src="([^"]+\.png)"', tag)
            if source and "frame-" not in source.group(1):
                assert re.search(r'width="\d+" height="\d+"', tag), f"{page}: {tag[:120]}"


# -- code_tokens -----------------------------------------------------------------------

CSS = """\
html[data-theme="light"] .highlight pre { line-height: 125%; }
html[data-theme="light"] .highlight .hll { background-color: #fae4c2 }
html[data-theme="light"] .highlight { background: #fefefe; color: #080808 }
html[data-theme="light"] .highlight .n { color: #080808 } /* Name */
html[data-theme="light"] .highlight .p { color: #080808 } /* Punctuation */
html[data-theme="light"] .highlight .k { color: #6730C5 } /* Keyword */
html[data-theme="light"] .highlight .nb { color: #080808 } /* Name.Builtin */
html[data-theme="light"] .highlight .gs { color: #080808; font-weight: bold }
html[data-theme="light"] .highlight .w { color: #080808 } /* Text.Whitespace */
html[data-theme="dark"] .highlight { background: #2b2b2b; color: #F8F8F2 }
html[data-theme="dark"] .highlight .n { color: #F8F8F2 } /* Name */
html[data-theme="dark"] .highlight .p { color: #F8F8F2 } /* Punctuation */
html[data-theme="dark"] .highlight .k { color: #DCC6E0 } /* Keyword */
html[data-theme="dark"] .highlight .nb { color: #FFD900 } /* Name.Builtin */
html[data-theme="dark"] .highlight .gs { color: #F8F8F2; font-weight: bold }
html[data-theme="dark"] .highlight .w { color: #F8F8F2 } /* Text.Whitespace */
.highlight .w { text-decoration: underline }
"""


def test_plain_classes_are_those_in_the_blocks_colour_in_both_schemes():
    # nb: the block's colour in light mode only; gs: bold too; w: styled by another rule;
    # k: a colour of its own.
    assert code_tokens.plain_classes(CSS) == {"n", "p"}
    light_only = "\n".join(line for line in CSS.splitlines() if "dark" not in line)
    assert code_tokens.plain_classes(light_only) == {"n", "p", "nb"}
    assert code_tokens.plain_classes("") == set(), "no theme colours: nothing is unwrapped"


def test_plain_spans_are_unwrapped_in_code_blocks_only():
    block = (
        '<div class="highlight"><pre><span></span><span class="n">dL_dw</span>'
        '<span class="p">(</span><span class="n">x</span><span class="o">&lt;</span>'
        '<span class="mi">2</span><span class="p">)</span>\n</pre></div>'
    )
    outside = '<p><span class="n">a name in prose</span></p>'
    out = code_tokens.unwrap_plain_tokens(outside + block, {"n", "p"})
    assert out == outside + (
        '<div class="highlight"><pre><span></span>dL_dw(x<span class="o">&lt;</span>'
        '<span class="mi">2</span>)\n</pre></div>'
    )
    assert re.sub(r"<[^>]+>", "", out) == re.sub(r"<[^>]+>", "", outside + block), "same text"
    assert code_tokens.unwrap_plain_tokens(block, set()) == block


def test_built_code_blocks_keep_only_spans_that_colour():
    css = (HTML_DIR / "_static" / "pygments.css").read_text(encoding="utf-8")
    plain = code_tokens.plain_classes(css)
    assert {"n", "p"} <= plain, f"the theme's pygments.css changed: {sorted(plain)}"
    for page, html in built_site().items():
        for block in code_tokens.BLOCK.findall(html):
            left = re.findall(rf'<span class="({"|".join(sorted(plain))})">', block)
            assert not left, f"{page}: {left[:5]}"


# -- _templates/layout.html ------------------------------------------------------------


def test_every_page_sets_its_colour_scheme_before_it_is_styled():
    """The theme's first script, changed by _templates/layout.html: a first visit gets
    "light" or "dark" at once, never "auto" (which no style rule matches); the replace()
    there finds nothing to change if the theme rewrites that script, and this fails."""
    for page, html in built_site(redirects=False).items():  # index.html is never shown
        head = html.split("</head>")[0]
        first = re.search(r'<script data-cfasync="false">(.*?)</script>', head, re.DOTALL)
        assert first, f"{page}: the theme's colour-scheme script is missing"
        assert 'localStorage.getItem("theme") || "auto"' not in first.group(1), page
        assert 'matchMedia("(prefers-color-scheme: dark)")' in first.group(1), page
        assert head.index("data-cfasync") < head.index('rel="stylesheet"'), page


def test_the_table_of_contents_toggles_get_a_name():
    from sidebar_toggle import name_toggles

    toggle = '<summary><span class="toctree-toggle" role="presentation"><i></i></span></summary>'
    named = name_toggles(f"<ul><li>{toggle}</li></ul>")
    assert '<summary aria-label="Show or hide the sections"><span class="toctree-toggle"' in named
    assert name_toggles("<summary>Show code</summary>") == "<summary>Show code</summary>"
