"""The built book in a real browser: offline, typeset, accessible, navigable, animated.

Every page is discovered from _build/html (and the reading order from _toc.yml), so a
new chapter is tested without touching this file. Run `make book` first (`make test`
does). Fixtures (server, Chromium, screenshots on failure) are in conftest.py.
"""

import html.parser
import json
import re
import xml.etree.ElementTree as ET
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe
from PIL import Image

from conftest import HTML_DIR, PHONE, open_visit, screenshot_if_failed, site_pages

SOURCE_DIR = HTML_DIR.parent.parent  # _build/html -> the book's source folder
LANDING_PAGE = "index.html"
SEARCH_PAGE = "search.html"
SIGMOID_CHAPTER = "chapters/03_1_sigmoid_neuron.html"  # the chapter that teaches the sigmoid
RAW_TEX = ["$$", "\\frac", "\\partial", "\\(", "\\[", "\\begin{"]
BLOCKING_IMPACTS = {"serious", "critical"}
# (axe rule id, target selector) -> why it cannot be fixed in the book's config or CSS.
AXE_EXCLUSIONS = {}


def toc_order():
    """The book's pages in reading order, as built paths ("intro.html", ...)."""
    toc = yaml.safe_load((SOURCE_DIR / "_toc.yml").read_text(encoding="utf-8"))

    def files(entries):
        for entry in entries or []:
            if "file" in entry:
                yield entry["file"]
            yield from files(entry.get("sections"))
            yield from files(entry.get("chapters"))

    order = [toc["root"], *files(toc.get("chapters")), *files(toc.get("parts"))]
    return [str(PurePosixPath(f).with_suffix(".html")) for f in order]


def page_params(pages):
    # Without a build there is nothing to discover: one placeholder, which fails in
    # the html_dir fixture with "run make book first" rather than collecting nothing.
    return pages or [pytest.param(None, id="book-not-built")]


PAGES = site_pages(HTML_DIR)
TOC_PAGES = toc_order()[1:] if (SOURCE_DIR / "_toc.yml").is_file() else []
# The chapters, not the reference pages (glossary, rules) listed after them.
CHAPTERS = [page for page in TOC_PAGES if page.startswith("chapters/")]
# Every page made from a notebook offers it for download (chapters and rules.ipynb).
NOTEBOOK_PAGES = [
    page for page in TOC_PAGES if (SOURCE_DIR / page).with_suffix(".ipynb").is_file()
]
# The chapter pages made from notebooks (chapter 3's overview page is Markdown), and those
# of them that show an animation.
NOTEBOOK_CHAPTERS = [page for page in CHAPTERS if page in NOTEBOOK_PAGES]
ANIMATED = [
    page
    for page in NOTEBOOK_CHAPTERS
    if "animation_html(" in (SOURCE_DIR / page).with_suffix(".ipynb").read_text(encoding="utf-8")
]


def load(visit, path):
    """Open `path`, then wait for its fonts (the formulas' too) and every image to arrive.

    The formulas are MathML written when the book is built (_ext/mathml.py): no script
    typesets them, the browser draws them with the book's math font.
    """
    visit.goto(path)
    visit.path = path
    page = visit.page
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.evaluate(
        "() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
    )
    page.wait_for_function("() => [...document.images].every(i => i.complete)")


@pytest.fixture(scope="module")
def book_page(request, browser, base_url):
    """A page of the book (the parameter is its path), loaded once for every check on it:
    loading a chapter and typesetting its math is most of what these tests cost."""
    with open_visit(browser, base_url) as visit:
        load(visit, request.param)
        yield visit


@pytest.fixture
def shown(book_page, request):
    """The loaded page; on failure a full-page screenshot goes to test-output/."""
    yield book_page
    screenshot_if_failed(request, book_page.page)


def on_pages(pages):
    return pytest.mark.parametrize("book_page", page_params(pages), indirect=True)


# -- The built files: nothing is fetched from the network --------------------------------


class _RemoteReferences(html.parser.HTMLParser):
    """Collects every resource a page would fetch from outside the book."""

    LOADS = {
        ("script", "src"),
        ("link", "href"),
        ("img", "src"),
        ("iframe", "src"),
        ("source", "src"),
        ("video", "src"),
        ("audio", "src"),
        ("embed", "src"),
        ("object", "data"),
        ("img", "srcset"),
        ("source", "srcset"),
    }

    def __init__(self):
        super().__init__()
        self.remote, self.scripts, self._in = [], [], None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if (tag, name) in self.LOADS and value and _is_remote(value):
                self.remote.append(f"<{tag} {name}={value!r}>")
            if name == "style" and value and _css_remote(value):
                self.remote.append(f"<{tag} style=...{_css_remote(value)}>")
            if tag == "script" and name == "src" and value:
                self.scripts.append(value)
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script" and re.search(r"https?://", data):
            self.remote.append(f"inline <script> naming a URL: {data.strip()[:120]!r}")
        if self._in == "style" and _css_remote(data):
            self.remote.append(f"<style> {_css_remote(data)}")


def _is_remote(value):
    return any(urlsplit(v.strip().split(" ")[0]).netloc for v in value.split(","))


def _css_remote(css):
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    found = re.findall(r"(?:url\(\s*['\"]?|@import\s+['\"])((?:https?:)?//[^'\")\s]+)", css)
    return ", ".join(found)


def test_every_toc_entry_is_built(html_dir):
    missing = [page for page in toc_order() if page not in PAGES]
    assert not missing, f"in _toc.yml but not built: {missing} (run make book)"
    assert (html_dir / LANDING_PAGE).is_file() and (html_dir / SEARCH_PAGE).is_file()


@pytest.mark.parametrize("path", page_params(PAGES))
def test_page_references_nothing_remote(html_dir, path):
    source = (html_dir / path).read_text(encoding="utf-8")
    parser = _RemoteReferences()
    parser.feed(source)
    assert not parser.remote, f"{path} loads from the network:\n" + "\n".join(parser.remote)
    # The formulas are MathML in the page itself, written when the book is built
    # (_ext/mathml.py): no script typesets them, none may be left as TeX for one.
    scripts = [s for s in parser.scripts if re.search(r"mathjax|katex", s, re.IGNORECASE)]
    assert not scripts, f"{path} loads a script to typeset formulas: {scripts}"
    formulas = re.findall(r'<(?:span|div) class="math notranslate nohighlight"[^>]*>', source)
    assert source.count("<math ") >= len(formulas), (
        f"{path}: {len(formulas)} formulas, {source.count('<math ')} of them MathML"
    )


@pytest.mark.parametrize("path", page_params(NOTEBOOK_PAGES))
def test_chapter_offers_its_notebook_for_download(html_dir, path):
    """The page's download button serves the chapter's .ipynb, as a notebook."""
    source = (html_dir / path).read_text(encoding="utf-8")
    stem = PurePosixPath(path).stem
    links = set(re.findall(rf'href="([^"]*/{re.escape(stem)}\.ipynb)"', source))
    assert links, f"{path}: no link to download {stem}.ipynb"
    for link in links:
        target = html_dir / urlsplit(urljoin(f"http://book/{path}", link)).path.lstrip("/")
        notebook = json.loads(target.read_text(encoding="utf-8"))
        assert notebook["nbformat"] == 4 and notebook["cells"], f"{link} is not a notebook"


def test_stylesheets_reference_nothing_remote(html_dir):
    remote = {}
    for css in sorted(html_dir.rglob("*.css")):
        found = _css_remote(css.read_text(encoding="utf-8", errors="replace"))
        if found:
            remote[css.relative_to(html_dir).as_posix()] = found
    assert not remote, f"style sheets that fetch from the network: {remote}"


# -- Every page in the browser -------------------------------------------------------------


@on_pages(PAGES)
def test_page_loads_offline_without_errors(shown):
    shown.assert_clean()


@on_pages(PAGES)
def test_math_is_typeset(shown):
    visit, page = shown, shown.page
    path = visit.path
    formulas = page.locator(".math").count()
    # Typeset: every formula is a <math> element the browser lays out as MathML
    # (display "math" or "block math"; a browser without MathML would draw it inline).
    untypeset = page.evaluate(
        """() => [...document.querySelectorAll('.math')]
                 .filter(e => {
                   const m = e.querySelector('math');
                   return !m || !getComputedStyle(m).display.includes('math')
                          || (e.checkVisibility() && m.getBoundingClientRect().width === 0);
                 })
                 .map(e => e.textContent.trim().slice(0, 80))"""
    )
    assert not untypeset, f"{path}: formulas not typeset as MathML: {untypeset}"
    if formulas:
        font = page.evaluate(
            """() => [...document.fonts].filter(f => f.family.replace(/"/g, '') === 'Book Math')
                                        .map(f => f.status)"""
        )
        assert font == ["loaded"], f"{path}: the math font did not load: {font}"
    # A formula the converter could not read is a build warning (-W fails the build);
    # a macro it did not know would show as its name, an <merror> as an error.
    errors = page.evaluate(
        r"""() => [
             ...[...document.querySelectorAll('merror')].map(e => e.textContent),
             ...[...document.querySelectorAll('math mi, math mo, math mtext')]
                .map(e => e.textContent)
                .filter(t => t.startsWith('\\'))
                .map(t => 'undefined macro ' + t),
           ]"""
    )
    assert not errors, f"{path}: TeX errors: {errors}"
    # The text a reader sees, outside code (a LaTeX string in Python code is code).
    text = page.evaluate(
        """() => {
             const skip = 'pre, code, script, style, textarea, annotation';
             const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
             const parts = [];
             while (walker.nextNode()) {
               const el = walker.currentNode.parentElement;
               if (el && !el.closest(skip) && el.checkVisibility()) {
                 parts.push(walker.currentNode.data);
               }
             }
             return parts.join(' ');
           }"""
    )
    raw = [tex for tex in RAW_TEX if tex in text]
    assert not raw, f"{path}: raw TeX left in the visible text: {raw}"
    visit.assert_clean()


@on_pages(PAGES)
def test_images_load(shown):
    visit, path = shown, shown.path
    broken = visit.page.evaluate(
        """() => [...document.images]
                 .filter(i => !(i.naturalWidth > 0))
                 .map(i => (i.id ? '#' + i.id + ' ' : '')
                           + (i.getAttribute('src') || '(no src)').slice(0, 80))"""
    )
    assert not broken, f"{path}: images that did not load: {broken}"
    visit.assert_clean()


# A phone (Lighthouse's mobile screen) and a laptop.
SCREENS = {"phone": {"width": 412, "height": 823}, "laptop": {"width": 1280, "height": 900}}


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("path", page_params(PAGES))
def test_no_picture_in_the_first_screen_waits_for_a_scroll(visit, path, screen):
    """Pictures load lazily (_ext/output_images.py): right only if none is in view at once."""
    visit.page.set_viewport_size(SCREENS[screen])
    visit.goto(path)
    in_view = visit.page.evaluate(
        """() => [...document.querySelectorAll('img[loading=lazy]')]
                 .filter(i => i.getBoundingClientRect().top < window.innerHeight)
                 .map(i => (i.getAttribute('alt') || i.src).slice(0, 60))"""
    )
    assert not in_view, f"{path} on a {screen}: lazy pictures in the first screen: {in_view}"
    visit.assert_clean()


@pytest.mark.parametrize("path", page_params(NOTEBOOK_CHAPTERS))
def test_a_lazy_picture_arrives_when_scrolled_to(visit, path):
    visit.goto(path)
    pictures = visit.page.locator('.cell_output img[loading="lazy"][src$=".png"]')
    assert pictures.count() > 0, f"{path}: no lazily loaded figure"
    picture = pictures.first
    picture.scroll_into_view_if_needed()
    visit.page.wait_for_function(
        "(i) => i.complete && i.naturalWidth > 0", arg=picture.element_handle()
    )
    box = picture.bounding_box()
    width, height = (int(picture.get_attribute(a)) for a in ("width", "height"))
    assert box["width"] > 0 and abs(box["height"] / box["width"] - height / width) < 0.02, (
        f"{path}: the figure is drawn {box}, not in its {width}×{height} ratio"
    )
    visit.assert_clean()


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("scheme", ["light", "dark"])  # the theme follows the reader's system
@on_pages(PAGES)
def test_no_serious_accessibility_violations(shown, scheme, screen):
    visit, path = shown, shown.path
    visit.page.set_viewport_size(SCREENS[screen])
    visit.page.emulate_media(color_scheme=scheme)
    visit.page.wait_for_function(
        "(scheme) => document.documentElement.dataset.theme === scheme", arg=scheme
    )
    # The theme fades its colours from one scheme to the other: judge the end state.
    visit.page.wait_for_function(
        "() => document.getAnimations().every(a => a.playState !== 'running')"
    )
    visit.assert_clean()
    results = Axe().run(visit.page)
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING_IMPACTS:
            continue
        targets = [
            " ".join(map(str, node["target"]))
            for node in violation["nodes"]
            if (violation["id"], " ".join(map(str, node["target"]))) not in AXE_EXCLUSIONS
        ]
        if targets:
            lines.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']}\n    "
                + "\n    ".join(targets)
            )
    assert not lines, (
        f"{path} ({scheme}, {screen}): axe-core found serious or critical violations:\n"
        + "\n".join(lines)
    )


# -- On a phone ----------------------------------------------------------------------------


@pytest.fixture
def phone(browser, base_url, request):
    """A fresh tab on a phone's screen, with touch; a screenshot goes to test-output/ on
    failure."""
    with open_visit(browser, base_url, PHONE) as visit:
        yield visit
        screenshot_if_failed(request, visit.page)


MENU = ".primary-toggle"  # the theme's "Toggle primary sidebar" button
# On a narrow screen the theme moves the table of contents into this dialog.
CONTENTS = "dialog#pst-primary-sidebar-modal"


def _contents_open(page):
    return page.evaluate(
        "(sel) => { const d = document.querySelector(sel); return !!d && d.open; }", CONTENTS
    )


@pytest.mark.parametrize("path", page_params(PAGES))
def test_the_menu_opens_the_table_of_contents_on_a_phone(phone, path):
    """A reader on a phone reaches every page from the table of contents: the menu button
    opens it, and a link in it leads to another page of the book."""
    page = phone.page
    phone.goto(path)
    menu = page.locator(f"{MENU}:visible")
    assert menu.count() == 1, f"{path}: {menu.count()} visible menu buttons, not 1"
    assert not _contents_open(page)
    menu.tap()
    page.wait_for_function(
        "(sel) => { const d = document.querySelector(sel); return !!d && d.open; }",
        arg=CONTENTS,
        timeout=5_000,
    )
    here = urlsplit(page.url).path
    links = page.locator(f"{CONTENTS} a.reference.internal:visible")
    targets = [
        (i, href)
        for i, href in enumerate(links.evaluate_all("els => els.map(e => e.href)"))
        if urlsplit(href).path != here and not urlsplit(href).fragment
    ]
    assert targets, f"{path}: the opened table of contents shows no link to another page"
    index, href = targets[len(targets) // 2]
    box = links.nth(index).bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["viewport"]["width"], (
        f"{path}: the link to {href} is not on the screen: {box}"
    )
    links.nth(index).tap()
    page.wait_for_url(href)
    phone.assert_clean()


def test_the_table_of_contents_closes_and_opens_by_keyboard_on_a_phone(phone):
    page = phone.page
    phone.goto(CHAPTERS[0])
    menu = page.locator(f"{MENU}:visible")
    menu.tap()
    page.wait_for_function("(sel) => document.querySelector(sel).open", arg=CONTENTS)
    page.keyboard.press("Escape")
    page.wait_for_function("(sel) => !document.querySelector(sel).open", arg=CONTENTS)
    menu.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("(sel) => document.querySelector(sel).open", arg=CONTENTS)
    page.mouse.click(PHONE["viewport"]["width"] - 10, PHONE["viewport"]["height"] // 2)
    page.wait_for_function("(sel) => !document.querySelector(sel).open", arg=CONTENTS)
    phone.assert_clean()


def test_the_sidebar_stays_open_on_a_laptop(visit):
    """On a wide screen the table of contents is beside the page, as before."""
    visit.goto(CHAPTERS[0])
    box = visit.page.locator("#pst-primary-sidebar").bounding_box()
    assert box and box["x"] >= 0 and box["width"] > 150, f"the sidebar is not shown: {box}"
    assert not _contents_open(visit.page)


WIDER_THAN = """(width) => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5
                 && getComputedStyle(e).position !== 'fixed')
    .slice(0, 5)
    .map(e => `<${e.tagName.toLowerCase()} class="${e.className}"> to x = `
              + Math.round(e.getBoundingClientRect().right))"""


@pytest.mark.parametrize("width", [360, 390, 412])
@pytest.mark.parametrize("path", page_params(PAGES))
def test_no_page_is_wider_than_a_phone(phone, path, width):
    """Nothing makes the page scroll sideways; a wide figure scrolls inside its own box."""
    phone.page.set_viewport_size({"width": width, "height": 800})
    phone.goto(path)
    page_width = phone.page.evaluate("() => document.documentElement.scrollWidth")
    assert page_width <= width, f"{path} at {width} px is {page_width} px wide: " + "; ".join(
        phone.page.evaluate(WIDER_THAN, width)
    )


SHOWN = """() => [...document.querySelectorAll('.cell_output img, .animation img')]
    .map(i => ({src: i.getAttribute('src'), id: i.id,
                alt: (i.getAttribute('alt') || '').slice(0, 50),
                shown: i.getBoundingClientRect().width}))"""
CSS_PX_PER_INCH = 96


def drawn_width(html_dir, path, image):
    """The width, in CSS pixels (96 an inch), at which a figure on ``path`` was drawn, read
    from its file: an SVG's width in points (72 an inch), a PNG's pixels at the dpi it was
    drawn at (its pHYs; none: a pixel is a CSS pixel). An animation's is its first frame's."""
    src = image["src"]
    if image["id"].startswith("_anim_img"):  # the <img> holds a placeholder until it plays
        page = (html_dir / path).read_text(encoding="utf-8")
        after = page[page.index(f'id="{image["id"]}"') :]
        src = re.search(r'frames\[0\] = "([^"]+)"', after).group(1)
    if src.startswith("data:"):
        return None
    file = html_dir / urlsplit(urljoin(f"http://book/{path}", src)).path.lstrip("/")
    if file.suffix == ".svg":
        root = ET.fromstring(file.read_text(encoding="utf-8"))
        width = root.get("width") or root.get("viewBox").split()[2]
        number = float(re.match(r"[\d.]+", width).group())
        return number * CSS_PX_PER_INCH / 72 if width.endswith("pt") else number
    with Image.open(file) as picture:
        dpi = picture.info.get("dpi", (CSS_PX_PER_INCH,))[0] or CSS_PX_PER_INCH
        return picture.width * CSS_PX_PER_INCH / dpi


@pytest.mark.parametrize("path", page_params(NOTEBOOK_CHAPTERS))
def test_every_figure_is_shown_at_seventy_percent_of_its_drawn_size_on_a_laptop(
    visit, html_dir, path
):
    """At 1280 px no figure is scaled below 70% of the size it was drawn at (the SVG's
    points, the PNG's pixels at its dpi, in CSS pixels), so its text, drawn at 8 pt or
    more, stays readable."""
    visit.goto(path)
    figures = visit.page.evaluate(SHOWN)
    assert figures, f"{path}: no figure"
    small = []
    for figure in figures:
        drawn = drawn_width(html_dir, path, figure)
        if not drawn or figure["shown"] < 0.7 * drawn:
            small.append(
                f"{figure['alt'] or figure['src']!r}: {figure['shown']:.0f} of {drawn:.0f} px"
            )
    assert not small, f"{path}: figures shown below 70% of their size: " + "; ".join(small)


# -- Navigation and search -----------------------------------------------------------------


def test_next_and_previous_walk_the_book_in_toc_order(visit):
    order = toc_order()
    page = visit.page
    visit.goto(LANDING_PAGE)  # a redirect to the root page
    page.wait_for_url(visit.url(order[0]))
    for path in order[1:]:
        page.locator("a.right-next").click()
        page.wait_for_url(visit.url(path))
    assert page.locator("a.right-next").count() == 0, f"{order[-1]} links to a next page"
    for path in reversed(order[:-1]):
        page.locator("a.left-prev").click()
        page.wait_for_url(visit.url(path))
    assert page.locator("a.left-prev").count() == 0, f"{order[0]} links to a previous page"
    visit.assert_clean()


def test_search_finds_the_sigmoid_chapter(visit):
    assert SIGMOID_CHAPTER in toc_order()
    visit.goto(f"{SEARCH_PAGE}?q=sigmoid")
    hit = visit.page.locator(f'#search-results ul.search a[href^="{SIGMOID_CHAPTER}"]')
    hit.first.wait_for()
    visit.assert_clean()


# -- The step-through animations -------------------------------------------------------------


def _players(visit):
    path = visit.path
    players = visit.page.locator("div.animation")
    assert players.count() > 0, (
        f"{path}: no animation player (div.animation); chapters show one with "
        "animations.animation_html"
    )
    for i in range(players.count()):
        player = players.nth(i)
        frame = player.locator("img[id^='_anim_img']")
        assert frame.count() == 1, f"{path}: player {i} has {frame.count()} frame images"
        yield player, frame


def _wait_for_new_frame(visit, frame, before):
    visit.page.wait_for_function(
        "([img, before]) => img.getAttribute('src') !== before && img.naturalWidth > 0",
        arg=[frame.element_handle(), before],
    )


@on_pages(ANIMATED)
def test_animation_next_frame_changes_the_picture(shown):
    visit, path = shown, shown.path
    for player, frame in _players(visit):
        player.get_by_role("button", name="First frame", exact=True).click()
        first = frame.get_attribute("src")
        # The frames are image files beside the page (_ext/animation_frames.py).
        assert first and "_images/frame-" in first, f"{path}: no first frame ({first!r})"
        player.get_by_role("button", name="Next frame", exact=True).click()
        _wait_for_new_frame(visit, frame, first)
    visit.assert_clean()


@pytest.mark.parametrize("path", page_params(ANIMATED))
def test_the_animation_player_fits_a_small_phone_and_answers_a_tap(phone, path):
    """At 360 px the player fits the width it is given: its frame scaled in its ratio, its
    slider inside, every button at least 24 × 24 px, and a tap on "Next frame" works."""
    phone.page.set_viewport_size({"width": 360, "height": 800})
    load(phone, path)
    for player, frame in _players(phone):
        player.scroll_into_view_if_needed()
        column = player.evaluate("p => p.closest('.cell_output').getBoundingClientRect().right")
        for part in (player, frame, player.locator("input.anim-slider")):
            box = part.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= column + 0.5, (
                f"{path}: {part} runs past its column ({box}, column ends at {column})"
            )
        width, height = (int(frame.get_attribute(a)) for a in ("width", "height"))
        box = frame.bounding_box()
        assert abs(box["height"] / box["width"] - height / width) < 0.02, "the frame's ratio"
        buttons = player.locator("button")
        for i in range(buttons.count()):
            b = buttons.nth(i).bounding_box()
            assert b["width"] >= 24 and b["height"] >= 24, f"{path}: button {i} is {b}"
        player.get_by_role("button", name="First frame", exact=True).tap()
        first = frame.get_attribute("src")
        player.get_by_role("button", name="Next frame", exact=True).tap()
        _wait_for_new_frame(phone, frame, first)
    phone.assert_clean()


@on_pages(ANIMATED)
def test_animation_play_advances_frames(shown):
    visit = shown
    for player, frame in _players(visit):
        player.get_by_role("button", name="First frame", exact=True).click()
        first = frame.get_attribute("src")
        player.get_by_role("button", name="Play", exact=True).click()
        _wait_for_new_frame(visit, frame, first)
        player.get_by_role("button", name="Pause", exact=True).click()
    visit.assert_clean()


# Draws `text` in `font` on a canvas, next to a code point no font has: the same
# pixels mean the reader sees a missing-glyph box ("tofu") instead of an icon.
_MISSING_GLYPHS = """(buttons) => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 48;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const ink = (text, font) => {
    ctx.clearRect(0, 0, 48, 48);
    ctx.font = font;
    ctx.textBaseline = 'top';
    ctx.fillText(text, 4, 4);
    return ctx.getImageData(0, 0, 48, 48).data.join();
  };
  const problems = [];
  for (const button of buttons) {
    const label = button.getAttribute('aria-label');
    const font = getComputedStyle(button).font;
    const tofu = ink('\\u{10FFFD}', font);
    const text = button.textContent.trim();
    for (const ch of text) {
      if (ink(ch, font) === tofu) {
        problems.push(`${label}: U+${ch.codePointAt(0).toString(16)} has no glyph in ${font}`);
      }
    }
    const drawn = [...button.querySelectorAll('svg')].some(svg => {
      const box = svg.getBBox();
      return box.width > 0 && box.height > 0;
    });
    if (!text && !drawn) problems.push(`${label}: shows nothing`);
  }
  return problems;
}"""


@on_pages(ANIMATED)
def test_animation_buttons_show_their_icons(shown):
    path = shown.path
    for player, _ in _players(shown):
        buttons = player.locator("button")
        assert buttons.count() > 0, f"{path}: a player without buttons"
        problems = buttons.evaluate_all(_MISSING_GLYPHS)
        assert not problems, f"{path}: buttons a reader cannot see:\n" + "\n".join(problems)
    shown.assert_clean()


# -- Exercises: no answer in view without a click -------------------------------------------

IN_VIEW = """(needle) => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const found = [];
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (node.data.includes(needle) && node.parentElement.checkVisibility()) {
        found.push(node.data.trim().slice(0, 80));
      }
    }
    return found;
  }"""


@on_pages(NOTEBOOK_CHAPTERS)
def test_exercises_show_no_answer_until_clicked(shown):
    page, path = shown.page, shown.path
    solutions = page.get_by_text("Show the reference solution")
    assert solutions.count() >= 3, f"{path}: fewer than 3 collapsed reference solutions"
    # Code is highlighted token by token: "batched" is a keyword of every exercise's
    # (collapsed) set-up cell, "must_pass" a keyword of every reference solution.
    for needle in ("the reference solution matches autograd", "batched", "must_pass"):
        assert not page.evaluate(IN_VIEW, needle), f"{path}: {needle!r} is in view"
    discussions = page.locator("details", has_text="After you have solved it")
    assert discussions.count() >= 3, f"{path}: fewer than 3 'After you have solved it' toggles"
    assert not any(d.get_attribute("open") is not None for d in discussions.all())
    solutions.first.click()
    page.wait_for_function(
        f"() => ({IN_VIEW})('the reference solution matches autograd').length === 1"
    )
    assert page.evaluate(IN_VIEW, "must_pass"), f"{path}: the solution's code stays hidden"
    shown.assert_clean()


@on_pages(NOTEBOOK_CHAPTERS)
def test_a_not_attempted_exercise_says_where_to_run_it_in_the_book(shown):
    """The checker says "run this chapter in JupyterLab" in the book only: a hidden span of
    its HTML output that the book's stylesheet reveals (issue 26)."""
    page, path = shown.page, shown.path
    spans = page.locator("span.book-only")
    assert spans.count() >= 3, f"{path}: fewer than 3 not-attempted checks with the hint"
    assert all(span.is_visible() for span in spans.all()), f"{path}: the hint stays hidden"
    assert page.evaluate(IN_VIEW, "run this chapter in JupyterLab"), path
