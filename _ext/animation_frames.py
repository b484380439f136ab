"""The animations' frames as image files beside the page, not inside it.

matplotlib's player (chapters/animations.py) carries every frame in the notebook's
output as a base64 PNG in a script: `frames[3] = "data:image/png;base64,..."`.
Written into the page as they are, they make up most of a chapter's HTML (about
100 KiB of its 130 KiB gzipped), which a phone must download and parse before it
can show the first line. After the HTML build, each frame is written once to
_images/frame-<hash>.png and the script points at that file, relative to the page;
the browser fetches a frame when the player shows it. The notebooks keep their
frames, so a downloaded notebook still plays on its own.
"""

import base64
import re

from built_pages import rewrite_pages
from output_images import image_file

FRAME = re.compile(r'(frames\[\d+\] = ")data:image/png;base64,([A-Za-z0-9+/=\\\n]+)(")')


def frame_files(html, page, outdir):
    """``html`` with each embedded frame replaced by the URL of its file (written once)."""

    def to_file(match):
        data = base64.b64decode(match.group(2).replace("\\\n", "").replace("\n", ""))
        url = image_file(data, "frame", ".png", page, outdir)
        return f"{match.group(1)}{url}{match.group(3)}"

    return FRAME.sub(to_file, html)


def on_build_finished(app, exception):
    rewrite_pages(app, exception, lambda html, page: frame_files(html, page, app.outdir))


def setup(app):
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
