"""The course as one download: backprop-by-hand.zip, written by every HTML build.

A local Sphinx extension (named in _config.yml), so the zip comes out of the ordinary
`jupyter-book build .`. It lands at the root of the built site, beside index.html, so its
address is stable: `backprop-by-hand.zip` from the intro, `../backprop-by-hand.zip` from a
chapter. Inside, one folder holds everything a learner needs to run the notebooks:

- every notebook in chapters/ (chapters/*.ipynb), with its stored outputs, found by
  globbing, so a new page is packed without touching this file;
- every helper module beside them (chapters/*.py, tests excepted), found the same way,
  and every helper package (a folder chapters/<name>/ with an __init__.py, such as the
  exercise checker chapters/exercises/), its modules packed under <name>/;
- requirements.txt with only what the notebooks need (NOTEBOOK_PACKAGES), each at the
  exact version the repository's requirements.txt pins: not the book build, not the tests;
- a README on setting up and starting JupyterLab (_ext/download_README.md);
- the licences, as in the repository: LICENSE (MIT, the code) and LICENSE-CONTENT
  (CC BY 4.0, the text and figures).

A page links it with an ordinary Markdown link to where the zip lands, relative to the page:
`[the course](backprop-by-hand.zip)` in intro.md, `[the course](../backprop-by-hand.zip)` in a
chapter. The zip is not a source file, so MyST cannot resolve such a link and warns; the
post-transform below turns it into a plain link to the built zip first.

The zip is deterministic: entries sorted, one fixed timestamp and mode, so the same sources
give the same bytes.
"""

import os
import posixpath
import zipfile
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.osutil import relative_uri

ZIP_NAME = "backprop-by-hand.zip"
FOLDER = "backprop-by-hand"  # the one folder the zip unpacks to
README = Path(__file__).with_name("download_README.md")
LICENCES = ("LICENSE", "LICENSE-CONTENT")  # at the repository's top, packed as they are
# The earliest time a zip entry can hold; a fixed one keeps the bytes reproducible.
TIMESTAMP = (1980, 1, 1, 0, 0, 0)
# What the notebooks need, and why: the zip's requirements.txt lists these and nothing
# else, each pinned as the repository's requirements.txt pins it.
NOTEBOOK_PACKAGES = {
    "torch": "autograd, which every hand-derived gradient is compared with",
    "matplotlib": "the figures and the step-through animations",
    "jupyterlab": "where you open and run the notebooks",
    "ipykernel": "the Python kernel the notebooks run in",
    "ipywidgets": "the sliders",
    "jupyterlab-myst": "JupyterLab shows the notebooks' notes, dropdowns and formulas",
}
REQUIREMENTS_HEADER = (
    "# Backprop by Hand: what the notebooks need, each at the exact version the course\n"
    "# is developed with. On Linux, see README.md for PyTorch's smaller CPU-only build.\n\n"
)

logger = logging.getLogger(__name__)


def is_test(path):
    """Test files beside the chapters stay out of the learner's download."""
    return (
        path.name.startswith("test_") or path.stem.endswith("_test") or path.name == "conftest.py"
    )


def pinned_versions(requirements):
    """{package: version} of the `package==version` lines of a requirements file's text."""
    pins = {}
    for line in requirements.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = (part.strip() for part in line.split("==", 1))
            pins.setdefault(name.split("[", 1)[0].lower(), version)
    return pins


def notebook_requirements(requirements):
    """The zip's requirements.txt: NOTEBOOK_PACKAGES, pinned as `requirements` (the text of
    the repository's requirements.txt) pins them, each under a comment saying why."""
    pins = pinned_versions(requirements)
    missing = sorted(set(NOTEBOOK_PACKAGES) - set(pins))
    if missing:
        raise ValueError(f"requirements.txt pins no version (==) of {missing}")
    lines = [REQUIREMENTS_HEADER]
    for name, why in NOTEBOOK_PACKAGES.items():
        lines.append(f"# {why[0].upper()}{why[1:]}.\n{name}=={pins[name]}\n")
    return "".join(lines)


def helper_files(chapters):
    """(name in the zip's folder, path) of every helper module and every helper package's
    module beside the chapters, tests excepted, sorted."""
    chapters = Path(chapters)
    files = [(p.name, p) for p in chapters.glob("*.py") if not is_test(p)]
    for package in chapters.glob("*/__init__.py"):
        files += [
            (f"{package.parent.name}/{p.name}", p)
            for p in package.parent.glob("*.py")
            if not is_test(p)
        ]
    return sorted(files)


def course_files(srcdir):
    """(name in the zip's folder, its bytes) for every file of the download, sorted."""
    srcdir = Path(srcdir)
    chapters = srcdir / "chapters"
    entries = [(path.name, path.read_bytes()) for path in sorted(chapters.glob("*.ipynb"))]
    entries += [(name, path.read_bytes()) for name, path in helper_files(chapters)]
    requirements = (srcdir / "requirements.txt").read_text(encoding="utf-8")
    entries.append(("requirements.txt", notebook_requirements(requirements).encode("utf-8")))
    entries.append(("README.md", README.read_bytes()))
    entries += [(name, (srcdir / name).read_bytes()) for name in LICENCES]
    names = [name for name, _ in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"two files of the course download share a name: {duplicates}")
    return sorted(entries)


def write_zip(srcdir, target):
    """Write the course download to `target` (a Path), replacing it in one step."""
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name, data in course_files(srcdir):
            info = zipfile.ZipInfo(f"{FOLDER}/{name}", date_time=TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # -rw-r--r--, whoever built it
            info.create_system = 3  # Unix, so the mode above is read on every system
            archive.writestr(info, data, compresslevel=9)
    os.replace(partial, target)
    return target


class LinkToZip(SphinxPostTransform):
    """A Markdown link to the zip's place in the built site becomes a link to the zip."""

    default_priority = 8  # before MyST resolves (and warns about) its links, at 9
    # Every builder: the link checker reads the same links, and warns about this one
    # (a target MyST does not know) unless it is turned into a plain link there too.

    def run(self, **kwargs):
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("reftype") != "myst" or node.get("refdomain"):
                continue
            refdoc = node.get("refdoc", self.env.docname)
            target = posixpath.normpath(
                posixpath.join(posixpath.dirname(refdoc), node["reftarget"])
            )
            if target != ZIP_NAME:
                continue
            page = self.app.builder.get_target_uri(refdoc)
            link = nodes.reference("", "", refuri=relative_uri(page, ZIP_NAME), internal=False)
            link += node.children
            node.replace_self(link)


def on_build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    target = write_zip(app.srcdir, Path(app.outdir) / ZIP_NAME)
    logger.info(f"the course download: {target}")


def setup(app):
    app.add_post_transform(LinkToZip)
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
