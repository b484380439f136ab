"""A matplotlib animation as a self-contained HTML player.

The player works in a static page with no kernel and no network, reads well with
a screen reader, and is the same on every run, so nbval can compare it.
Importing it has no side effects.
"""

import base64
import html as html_escape
import io
import re
import struct

from matplotlib.layout_engine import PlaceHolderLayoutEngine
from PIL import Image

__all__ = ["animation_html"]

_CSS_PX_PER_INCH = 96

_PLAYER_ID = re.compile(r'id="_anim_img([0-9a-f]{32})"')
_FONT_AWESOME_LINK = re.compile(r"<link[^>]*font-awesome[^>]*>")
_FRAME = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)")
_STYLE = re.compile(r"<style>.*?</style>\n?", re.DOTALL)
_FIRST_FRAME = re.compile(r'frames\[0\] = "data:image/png;base64,([A-Za-z0-9+/=\\\n]+)"')
# What the frame shows until the player's script draws the first frame: one
# transparent pixel (an <img> needs a src), stretched to the frame's size.
_PLACEHOLDER = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
# matplotlib's player draws its buttons with Font Awesome, fetched from a CDN.
# Small inline SVG shapes need no network and no font (the buttons keep their
# aria-labels, so screen readers still read "Play", "Next frame", ...).
_LEFT, _RIGHT = "<polygon points='13,3 5,8 13,13'/>", "<polygon points='3,3 11,8 3,13'/>"
_BAR = "<rect x='{}' y='{}' width='{}' height='{}'/>".format
_BUTTON_SHAPES = {
    "fa-minus": _BAR(3, 7, 10, 2),
    "fa-fast-backward": _BAR(1, 3, 2, 10)
    + "<polygon points='9,3 3,8 9,13'/><polygon points='15,3 9,8 15,13'/>",
    "fa-step-backward": _BAR(3, 3, 2, 10) + _LEFT,
    "fa-play fa-flip-horizontal": _LEFT,
    "fa-pause": _BAR(4, 3, 3, 10) + _BAR(9, 3, 3, 10),
    "fa-play": _RIGHT,
    "fa-step-forward": _RIGHT + _BAR(11, 3, 2, 10),
    "fa-fast-forward": "<polygon points='1,3 7,8 1,13'/><polygon points='7,3 13,8 7,13'/>"
    + _BAR(13, 3, 2, 10),
    "fa-plus": _BAR(3, 7, 10, 2) + _BAR(7, 3, 2, 10),
}


def animation_html(animation, name, alt):
    """Return ``animation`` as HTML that plays in a static page.

    matplotlib's ``to_jshtml`` embeds every frame and the player's script in
    the page itself (no kernel needed). Three things are changed so that the
    page works offline, reads well with a screen reader, and is the same on
    every run (nbval compares stored outputs):

    - the random player id becomes ``name``;
    - the frame gets ``alt`` as its text, the slider a label;
    - the Font Awesome icons, which come from a CDN, become inline SVG shapes;
    - each frame becomes a 256-colour PNG, about a third of the bytes;
    - the markup is valid HTML (Nu HTML checker): the frame has a placeholder
      ``src`` and the frame's size (no layout shift when the first frame is
      drawn), the style sheet is its block's first child, and the form has no
      ``action="#n"`` (an anchor no page has);
    - that size is in CSS pixels, 96 an inch, so the frame is shown at the size it
      was drawn and its text at the points it was drawn at (each frame keeps its
      dpi, from which the book's tests read the drawn size).

    A layout fixed once with ``fig.tight_layout()`` is kept as it is: left in
    place, matplotlib would lay out (and so draw) every frame twice.
    """
    if not (isinstance(name, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name)):
        raise ValueError(
            f"animation_html: name must be letters, digits and underscores, got {name!r}"
        )
    if not (isinstance(alt, str) and alt.strip()):
        raise ValueError("animation_html: alt must describe the animation in words")
    fig = animation._fig  # matplotlib offers no public way back to the figure
    if isinstance(fig.get_layout_engine(), PlaceHolderLayoutEngine):
        fig.set_layout_engine(None)
    html = animation.to_jshtml(default_mode="once")
    ids = set(_PLAYER_ID.findall(html))
    if len(ids) != 1:
        raise RuntimeError(
            f"animation_html: expected one player in matplotlib's HTML, found {len(ids)}"
        )
    html = html.replace(ids.pop(), name)
    html = _FONT_AWESOME_LINK.sub("", html)
    for icon, shape in _BUTTON_SHAPES.items():
        svg = "<svg viewBox='0 0 16 16' width='14' height='14' fill='currentColor'"
        svg += f" aria-hidden='true'>{shape}</svg>"
        html = html.replace(f'<i class="fa {icon}"></i>', svg)
    html = _FRAME.sub(lambda m: "data:image/png;base64," + _palette_png(m.group(1)), html)
    alt_text = html_escape.escape(alt, quote=True)
    width, height = (round(n * _CSS_PX_PER_INCH / fig.dpi) for n in _first_frame_size(html))
    html = _replace_once(
        html,
        f'<img id="_anim_img{name}">',
        f'<img id="_anim_img{name}" alt="{alt_text}" src="{_PLACEHOLDER}"'
        f' width="{width}" height="{height}">',
    )
    html = _replace_once(
        html,
        f'<input id="_anim_slider{name}"',
        f'<input id="_anim_slider{name}" aria-label="Frame"',
    )
    # The radio buttons' form is never submitted; its action "#n" named a missing anchor.
    html = _replace_once(html, ' action="#n"', "")
    if html.count('<script language="javascript">') != 2:
        raise RuntimeError("animation_html: expected matplotlib's two player scripts")
    html = html.replace('<script language="javascript">', "<script>")  # an obsolete attribute
    # HTML allows <style> in the body only as its parent's first child.
    styles = _STYLE.findall(html)
    if len(styles) != 1:
        raise RuntimeError(f"animation_html: expected one <style>, found {len(styles)}")
    return f'<div class="animation-player">\n{styles[0]}{_STYLE.sub("", html)}</div>\n'


def _palette_png(data):
    """A frame (base64 PNG, as matplotlib writes it) as a 256-colour PNG, in base64.

    A plot has a few hundred colours, most of them the anti-aliased edges of its
    lines; 256 look the same and take about a third of the bytes, and the frames
    are most of a chapter page's weight.
    """
    image = Image.open(io.BytesIO(base64.b64decode(re.sub(r"[\\\n]", "", data))))
    image.load()
    if image.mode == "RGBA" and image.getextrema()[3][0] == 255:  # opaque: drop alpha
        image = image.convert("RGB")
    method = Image.Quantize.MEDIANCUT if image.mode == "RGB" else Image.Quantize.FASTOCTREE
    out = io.BytesIO()
    dpi = image.info.get("dpi")  # kept: the page reads the frame's drawn size from it
    extra = {"dpi": dpi} if dpi else {}
    image.quantize(256, method=method).save(out, format="PNG", optimize=True, **extra)
    return base64.b64encode(out.getvalue()).decode("ascii")


def _replace_once(html, old, new):
    if html.count(old) != 1:
        raise RuntimeError(f"animation_html: expected {old!r} once in matplotlib's HTML")
    return html.replace(old, new)


def _first_frame_size(html):
    """The first frame's width and height in pixels, from its PNG header."""
    match = _FIRST_FRAME.search(html)
    if match is None:
        raise RuntimeError("animation_html: no PNG first frame in matplotlib's HTML")
    png = base64.b64decode(re.sub(r"[\\\n]", "", match.group(1))[:64])
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise RuntimeError("animation_html: the first frame is not a PNG image")
    return struct.unpack(">II", png[16:24])
