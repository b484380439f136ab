"""The pictures in the chapters' outputs as files, fetched when the reader gets to them.

A notebook keeps its pictures inside itself, so a downloaded notebook shows them on
its own; some reach the page the same way, as base64 in an <img>'s data: URL (the
computation graphs, about 10 KiB each). Every picture on a page is also fetched
with the page, though the first is a screen or more below its top. After the HTML
build this

- writes each data: picture of 1 KiB or more once to _images/ and points the <img>
  at that file (smaller ones cost less inline than a request);
- marks every <img> `loading="lazy"`: the browser fetches it when it nears the
  screen. No page of the book has a picture in its first screen, which
  tests/test_browser.py checks, so none is held back from it;
- gives a PNG from _images/ its width and height, so the page keeps the picture's
  room before it arrives and nothing below it moves when it does (custom.css keeps
  the ratio when the picture is narrowed to fit the screen). They are CSS pixels, 96 an
  inch: a PNG's pixels at the resolution matplotlib drew it at (its pHYs chunk; 96 when it
  has none), so a figure is shown at the size it was drawn and its 8 pt text at 8 pt.
"""

import base64
import hashlib
import posixpath
import re
import struct
from pathlib import Path

from built_pages import rewrite_pages

INLINE_LIMIT = 1024  # bytes: a data: picture at least this big becomes a file
IMG = re.compile(r"<img\b[^>]*>")
DATA_SRC = re.compile(r'src="data:image/(png|svg\+xml|jpeg|gif);base64,([A-Za-z0-9+/=]+)"')
SUFFIX = {"png": ".png", "svg+xml": ".svg", "jpeg": ".jpg", "gif": ".gif"}


CSS_PX_PER_INCH = 96


def png_size(data):
    """(width, height) of a PNG, from its header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def png_dpi(data):
    """The resolution a PNG was drawn at, in pixels an inch (its pHYs chunk), or None."""
    at = 8
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        if kind == b"pHYs" and length == 9:
            x, _, unit = struct.unpack(">IIB", data[at + 8 : at + 17])
            return x * 0.0254 if unit == 1 and x else None  # unit 1: pixels a metre
        if kind in (b"IDAT", b"IEND"):  # pHYs comes before the image data
            return None
        at += 12 + length
    return None


def css_size(data):
    """(width, height) in CSS pixels at which a PNG shows at the size it was drawn."""
    size = png_size(data)
    if size is None:
        return None
    scale = CSS_PX_PER_INCH / (png_dpi(data) or CSS_PX_PER_INCH)
    return tuple(round(n * scale) for n in size)


def image_file(data, prefix, suffix, page, outdir):
    """The URL, from ``page``, of _images/<prefix>-<hash><suffix> holding ``data``,
    written the first time it is asked for."""
    images = Path(outdir) / "_images"
    name = f"{prefix}-{hashlib.sha256(data).hexdigest()[:20]}{suffix}"
    if not (images / name).exists():
        images.mkdir(parents=True, exist_ok=True)
        (images / name).write_bytes(data)
    return posixpath.relpath(f"_images/{name}", posixpath.dirname(page) or ".")


def page_images(html, page, outdir):
    """``html`` with its pictures as lazily loaded files, each written once."""
    folder = posixpath.dirname(page) or "."

    def to_file(match):
        data = base64.b64decode(match.group(2))
        if len(data) < INLINE_LIMIT:
            return match.group(0)
        return f'src="{image_file(data, "output", SUFFIX[match.group(1)], page, outdir)}"'

    def rewrite(match):
        tag = DATA_SRC.sub(to_file, match.group(0))
        extra = []
        if "loading=" not in tag:
            extra.append('loading="lazy"')
        source = re.search(r'src="([^"]+\.png)"', tag)
        if source and "width=" not in tag and "height=" not in tag:
            file = Path(outdir) / posixpath.normpath(posixpath.join(folder, source.group(1)))
            size = css_size(file.read_bytes()) if file.is_file() else None
            if size:
                extra.append(f'width="{size[0]}" height="{size[1]}"')
        return tag if not extra else f"<img {' '.join(extra)}{tag[4:]}"

    return IMG.sub(rewrite, html)


def on_build_finished(app, exception):
    rewrite_pages(app, exception, lambda html, page: page_images(html, page, app.outdir))


def setup(app):
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
