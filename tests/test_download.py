"""From reading to running: the course as one download, the repository and launch buttons,
the favicon and the meta descriptions (issue 12).

The zip, the favicon and the descriptions are checked in the built book (_build/html, or
BOOK_HTML: run `make book` first, as `make test` does). The repository and launch buttons are
checked in two builds of their own, into temporary folders: one with BOOK_REPOSITORY_URL,
one without. The chapters' own downloads are checked by running each chapter's first code
cell alone, in an empty folder, as a learner who downloaded one notebook would.
"""

import html
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

import nbformat
import pytest
from docutils.core import publish_doctree
from nbclient import NotebookClient
from sphinx.errors import ConfigError

from conftest import ROOT, site_pages

sys.path.insert(0, str(ROOT / "_ext"))  # the book's own Sphinx extensions
import course_download  # noqa: E402
import course_repository  # noqa: E402
import page_descriptions  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
# The helper modules beside the chapters: a module (chapters/<name>.py) or a package
# (chapters/<name>/, such as the exercise checker); a chapter imports either by <name>.
HELPERS = sorted(
    [p for p in (ROOT / "chapters").glob("*.py") if not course_download.is_test(p)]
    + [p.parent for p in (ROOT / "chapters").glob("*/__init__.py")]
)
HELPER_FILES = course_download.helper_files(ROOT / "chapters")
ZIP = course_download.ZIP_NAME
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# -- Reading the built pages ---------------------------------------------------------------


class _Head(html.parser.HTMLParser):
    """The <link rel=icon>, <meta name=description> and <a href> of one page."""

    def __init__(self):
        super().__init__()
        self.icons, self.descriptions, self.links = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and "icon" in (attrs.get("rel") or "").split():
            self.icons.append(attrs.get("href"))
        elif tag == "meta" and (attrs.get("name") or "").lower() == "description":
            self.descriptions.append(attrs.get("content"))
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def read_page(path):
    head = _Head()
    head.feed(path.read_text(encoding="utf-8"))
    return head


def resolve(html_dir, page, href):
    """The file a relative link on `page` points at, or None for a link leaving the book."""
    url = urljoin(f"http://book.invalid/{page}", href)
    parts = urlsplit(url)
    if parts.hostname != "book.invalid":
        return None
    return html_dir / PurePosixPath(parts.path).relative_to("/")


@pytest.fixture(scope="module")
def pages(html_dir):
    found = site_pages(html_dir)
    assert {"intro.html", *(f"chapters/{c.stem}.html" for c in CHAPTERS)} <= set(found)
    return found


# -- The course as one download --------------------------------------------------------------


@pytest.fixture(scope="module")
def course_zip(html_dir):
    path = html_dir / ZIP
    assert path.is_file(), f"the book build wrote no {ZIP} beside index.html"
    return path


def zip_content(course_zip):
    with zipfile.ZipFile(course_zip) as archive:
        return {
            name.removeprefix("backprop-by-hand/"): archive.read(name)
            for name in archive.namelist()
        }


def test_zip_holds_the_notebooks_their_helpers_requirements_and_a_readme(course_zip):
    content = zip_content(course_zip)
    expected = [(p.name, p) for p in CHAPTERS] + HELPER_FILES
    assert HELPERS, "no helper module found beside the chapters"
    assert "exercises/__init__.py" in dict(HELPER_FILES), "the checker package is not packed"
    assert sorted(content) == sorted(
        [name for name, _ in expected]
        + ["README.md", "requirements.txt", "LICENSE", "LICENSE-CONTENT"]
    )
    for name, path in expected:
        assert content[name] == path.read_bytes(), name
    readme = content["README.md"].decode("utf-8")
    for needed in ("venv", "requirements.txt", "jupyter lab", "download.pytorch.org/whl/cpu"):
        assert needed in readme, f"the zip's README does not mention {needed!r}"


def test_zip_holds_both_licences_and_its_readme_says_which_covers_what(course_zip):
    """MIT for the code, CC BY 4.0 for the text and figures: the repository's own files,
    byte for byte, and the README names both and the copyright holder."""
    content = zip_content(course_zip)
    for name in course_download.LICENCES:
        assert name in content, f"the zip has no {name}"
        assert content[name] == (ROOT / name).read_bytes(), f"the zip's {name} differs"
    assert content["LICENSE"].startswith(b"MIT License")
    assert (
        b"Creative Commons Attribution 4.0 International Public License"
        in (content["LICENSE-CONTENT"])
    )
    readme = content["README.md"].decode("utf-8")
    for needed in (
        "MIT",
        "`LICENSE`",
        "CC BY 4.0",
        "`LICENSE-CONTENT`",
        "Backprop by Hand authors",
    ):
        assert needed in readme, f"the zip's README does not mention {needed!r}"


def test_zip_requirements_pin_only_what_the_notebooks_need(course_zip):
    """The zip's requirements.txt: torch, matplotlib, JupyterLab, the kernel, ipywidgets and
    jupyterlab-myst, at the repository's exact pins; not the book build, not the tests."""
    listed = zip_content(course_zip)["requirements.txt"].decode("utf-8")
    pins = course_download.pinned_versions(listed)
    needed = ["torch", "matplotlib", "jupyterlab", "ipykernel", "ipywidgets", "jupyterlab-myst"]
    assert sorted(pins) == sorted(needed), listed
    repository = course_download.pinned_versions((ROOT / "requirements.txt").read_text())
    assert pins == {name: repository[name] for name in needed}
    code = [line for line in listed.splitlines() if line.strip() and not line.startswith("#")]
    assert len(code) == len(needed), f"lines other than the pins: {code}"
    readme = zip_content(course_zip)["README.md"].decode("utf-8")
    for name in (
        "PyTorch",
        "matplotlib",
        "JupyterLab",
        "ipykernel",
        "ipywidgets",
        "jupyterlab-myst",
    ):
        assert name in readme, f"the zip's README does not say that it installs {name}"
    assert "pytest" not in readme.lower() and "jupyter book" not in readme.lower(), readme


def test_notebook_requirements_name_a_missing_pin():
    with pytest.raises(ValueError, match=r"\['ipywidgets'\]"):
        course_download.notebook_requirements(
            "torch==2.0  # a comment\nmatplotlib==3.0\njupyterlab==4.0\nipykernel==7.0\n"
            "ipywidgets>=8\njupyterlab-myst==2.0\n"
        )
    assert course_download.pinned_versions("jsonschema[format-nongpl]==4.24.1\n# x==1\n") == {
        "jsonschema": "4.24.1"
    }


def test_zip_leaves_out_the_tests_beside_the_chapters():
    assert course_download.is_test(Path("test_exercises.py"))
    assert course_download.is_test(Path("exercises_test.py"))
    assert course_download.is_test(Path("conftest.py"))
    assert not course_download.is_test(Path("exercises.py"))
    assert not course_download.is_test(Path("testing_helpers.py"))


def test_zip_is_reproducible(course_zip, tmp_path):
    with zipfile.ZipFile(course_zip) as archive:
        stamps = {info.date_time for info in archive.infolist()}
    assert stamps == {course_download.TIMESTAMP}
    again = course_download.write_zip(ROOT, tmp_path / ZIP)
    assert again.read_bytes() == course_zip.read_bytes()


# The slowest test by far, and a real install that nothing can share: `make test-slow`
# runs it (CI runs that after `make test`), `make test` leaves it out.
@pytest.mark.slow
def test_every_notebook_runs_in_a_fresh_venv_from_the_zips_own_requirements(course_zip):
    """Unpacked in an empty folder, with a new venv that has only the zip's requirements.txt
    installed (`pip install -r`, as the zip's README says), every notebook runs top to bottom
    with no error, in a kernel from that venv, importing the helper modules that came in
    the zip. The venv (about 1.6 GB) is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="backprop-zip-") as temporary:
        tmp_path = Path(temporary)
        with zipfile.ZipFile(course_zip) as archive:
            archive.extractall(tmp_path)
        folder = tmp_path / "backprop-by-hand"
        venv = tmp_path / "venv"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        python = venv / "bin" / "python"
        install = [str(python), "-m", "pip", "install", "-q", "-r", "requirements.txt"]
        result = subprocess.run(
            install, cwd=folder, env=env, capture_output=True, text=True, timeout=1800
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        installed = subprocess.run(
            [str(python), "-m", "pip", "list", "--format=freeze"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.lower()
        for tool in ("jupyter-book", "pytest", "nbval", "ruff", "playwright", "mutmut"):
            assert f"\n{tool}==" not in f"\n{installed}", f"{tool} came with the notebooks"
        notebooks = sorted(folder.glob("*.ipynb"))
        assert [p.name for p in notebooks] == [p.name for p in CHAPTERS]
        where = (
            "import sys, animations, exercises\n"
            "print(sys.executable, animations.__file__, exercises.__file__)"
        )
        for path in notebooks:
            notebook = nbformat.read(path, as_version=4)
            notebook.cells.append(nbformat.v4.new_code_cell(where))
            ran = folder / f"ran-{path.name}"  # beside the helpers: the kernel runs here
            nbformat.write(notebook, ran)
            command = [
                str(venv / "bin" / "jupyter"),
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--ExecutePreprocessor.timeout=600",
                "--ExecutePreprocessor.kernel_name=python3",
                "--output",
                str(ran),
                str(ran),
            ]
            result = subprocess.run(
                command, cwd=folder, env=env, capture_output=True, text=True, timeout=1800
            )
            assert result.returncode == 0, f"{path.name}:\n{result.stderr[-4000:]}"
            last = nbformat.read(ran, as_version=4).cells[-1]
            kernel, *helpers = last.outputs[0]["text"].split()
            assert Path(kernel).parent == venv / "bin", f"{path.name} ran in {kernel}"
            # a helper is a module beside the notebooks, or a package there (exercises/)
            assert all(Path(p).is_relative_to(folder) for p in helpers), helpers


# -- Every page: a favicon and a description -------------------------------------------------


def test_every_page_links_a_favicon_that_exists(html_dir, pages):
    for page in pages:
        icons = read_page(html_dir / page).icons
        assert len(icons) == 1, f"{page}: {len(icons)} <link rel=icon>"
        target = resolve(html_dir, page, icons[0])
        assert target is not None and target.is_file(), f"{page}: {icons[0]} is not in the build"
        root = target.read_text(encoding="utf-8")
        assert re.search(r"<svg[\s>]", root), f"{target} is not an SVG image"


FOOTER = re.compile(r'<div class="extra_footer">(.*?)</div>', re.DOTALL)
PAGE_FOOTER = re.compile(r"<footer class=\"bd-footer-content\">(.*?)</footer>", re.DOTALL)


def test_every_page_says_its_licences_in_the_footer(html_dir, pages):
    """The footer of every page: CC BY 4.0 for the text and figures, MIT for the code, and
    the copyright holder, each licence a link to its text."""
    for page in pages:
        text = (html_dir / page).read_text(encoding="utf-8")
        footers = FOOTER.findall(text)
        assert len(footers) == 1, f"{page}: {len(footers)} licence footers"
        footer = read_page_text(footers[0])
        assert "Text and figures: CC BY 4.0" in footer and "Code: MIT" in footer, (
            f"{page}: the footer says {footer!r}"
        )
        match = PAGE_FOOTER.search(text)
        assert match, f"{page} has no footer"
        whole = read_page_text(match.group(1))
        assert "By The Backprop by Hand authors © Copyright 2026" in whole, f"{page}: {whole!r}"
        links = _Head()
        links.feed(footers[0])
        assert links.links == [
            "https://creativecommons.org/licenses/by/4.0/",
            "https://opensource.org/license/mit",
        ], f"{page}: the footer links {links.links}"


def read_page_text(markup):
    """The words of an HTML fragment, its tags dropped and its white space made single."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split()).replace(" .", ".")


def test_every_page_has_one_description_of_its_own(html_dir, pages):
    descriptions = {}
    for page in pages:
        found = read_page(html_dir / page).descriptions
        assert len(found) == 1, f'{page}: {len(found)} <meta name="description">'
        assert found[0] and found[0].strip(), f"{page}: the description is empty"
        assert len(found[0]) <= 200, f"{page}: a {len(found[0])}-character description"
        descriptions[page] = found[0]
    twins = {d for d in descriptions.values() if list(descriptions.values()).count(d) > 1}
    assert not twins, f"pages share a description: {twins}"


def test_a_page_without_a_given_description_is_described_by_its_first_paragraph():
    doctree = publish_doctree(
        "A title\n=======\n\n"
        + "The first paragraph says what the page is about, " * 6
        + "\n\nThe second one does not count."
    )

    class App:
        class config:
            page_descriptions = {"given": "A description from the config."}
            html_title = "The book"

    assert page_descriptions.describe(App, "given", {}, doctree) == (
        "A description from the config."
    )
    found = page_descriptions.describe(App, "other", {}, doctree)
    assert found.startswith("The first paragraph says what the page is about,")
    assert found.endswith("…") and len(found) <= page_descriptions.LIMIT
    assert "second" not in found
    generated = page_descriptions.describe(App, "search", {"title": "Search"}, None)
    assert generated == "Search: The book"


# -- Links to the download ---------------------------------------------------------------------


def zip_links(html_dir, page):
    links = read_page(html_dir / page).links
    return [href for href in links if resolve(html_dir, page, href) == html_dir / ZIP]


def test_the_intro_links_the_zip(html_dir):
    assert zip_links(html_dir, "intro.html"), f"intro.html has no link to {ZIP}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_links_the_zip(html_dir, chapter):
    page = f"chapters/{chapter.stem}.html"
    assert zip_links(html_dir, page), f"{page} has no link to {ZIP}"


# -- The repository and launch buttons, only when the build knows the repository ------------

REPOSITORY = "https://github.com/example-org/example-course"
BRANCH = "trunk"


def build(tmp_path, repository):
    """Build the book into tmp_path with (or without) a repository; its _build/html."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOK_REPOSITORY_")}
    if repository:
        env.update(BOOK_REPOSITORY_URL=repository, BOOK_REPOSITORY_BRANCH=BRANCH)
    result = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(ROOT), "--path-output", str(tmp_path), "-W", "-n"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tmp_path / "_build" / "html"


UNWANTED_WITHOUT_A_REPOSITORY = (
    "btn-source-repository-button",
    "mybinder.org",
    "colab.research.google.com",
    "github.com",  # Jupyter Book's default repository among them
    "this repository",
    "OWNER",
    "{{",
)


def unwanted_in(html_dir):
    """(page, what) for each trace of a repository on a page of the build in html_dir."""
    found = []
    for page in site_pages(html_dir):
        text = (html_dir / page).read_text(encoding="utf-8")
        found += [
            (page, unwanted) for unwanted in UNWANTED_WITHOUT_A_REPOSITORY if unwanted in text
        ]
    return found


@pytest.fixture(scope="module")
def without_repository(tmp_path_factory, html_dir):
    """A build that knows no repository. The book's own build is one when no repository
    is given here and it shows none (`make test` builds it in the same environment), so it
    is not built again; otherwise a build of its own, which the test then reads."""
    if not os.environ.get("BOOK_REPOSITORY_URL", "").strip() and not unwanted_in(html_dir):
        return html_dir
    return build(tmp_path_factory.mktemp("book-without-repository"), None)


@pytest.fixture(scope="module")
def with_repository(tmp_path_factory):
    return build(tmp_path_factory.mktemp("book-with-repository"), REPOSITORY)


def test_without_a_repository_no_button_no_launch_and_no_placeholder(without_repository):
    found = unwanted_in(without_repository)
    assert not found, "; ".join(f"{page}: {unwanted!r}" for page, unwanted in found)
    assert (without_repository / ZIP).is_file()


def test_with_a_repository_each_chapter_has_its_button_binder_and_colab(with_repository):
    org_repo = REPOSITORY.removeprefix("https://github.com/")
    for chapter in CHAPTERS:
        page = f"chapters/{chapter.stem}.html"
        links = set(read_page(with_repository / page).links)
        notebook = f"chapters/{chapter.name}"
        assert REPOSITORY in links, f"{page}: no repository button"
        binder = f"https://mybinder.org/v2/gh/{org_repo}/{BRANCH}?urlpath=lab/tree/{notebook}"
        assert binder in links, f"{page}: no Binder button ({sorted(links)})"
        colab = f"https://colab.research.google.com/github/{org_repo}/blob/{BRANCH}/{notebook}"
        assert colab in links, f"{page}: no Colab button ({sorted(links)})"
    assert REPOSITORY in read_page(with_repository / "intro.html").links


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", (None, None)),
        ("  ", (None, None)),
        ("https://github.com/a-b/c.d", ("https://github.com/a-b/c.d", "main")),
        ("https://github.com/a/c.git", ("https://github.com/a/c", "main")),
        ("https://github.com/a/c/", ("https://github.com/a/c", "main")),
    ],
)
def test_repository_from_the_environment(given, expected):
    environ = {"BOOK_REPOSITORY_URL": given}
    assert course_repository.repository_from_environment(environ) == expected


def test_repository_branch_from_the_environment():
    environ = {"BOOK_REPOSITORY_URL": REPOSITORY, "BOOK_REPOSITORY_BRANCH": BRANCH}
    assert course_repository.repository_from_environment(environ) == (REPOSITORY, BRANCH)


@pytest.mark.parametrize(
    "given", ["github.com/a/b", "https://gitlab.com/a/b", "https://github.com/a", "<repo>"]
)
def test_a_repository_that_is_not_on_github_is_refused_clearly(given):
    with pytest.raises(ConfigError, match="https://github.com/OWNER/REPO"):
        course_repository.repository_from_environment({"BOOK_REPOSITORY_URL": given})


# -- A chapter downloaded alone -------------------------------------------------------------


def first_code_cell(chapter):
    notebook = json.loads(chapter.read_text(encoding="utf-8"))
    return next("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")


def imported_helpers(chapter):
    """The helper modules (chapters/*.py) that a chapter's code imports."""
    notebook = json.loads(chapter.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    names = set(re.findall(r"^\s*(?:from|import)\s+(\w+)", code, re.MULTILINE))
    return sorted(p for p in HELPERS if p.stem in names)


def run_first_cell(chapter, folder, env=None):
    """The chapter's first code cell as a script, in `folder`: (exit code, what it printed)."""
    script = folder / "first_cell.py"
    script.write_text(first_code_cell(chapter), encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, script.name],
        cwd=folder,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_a_lone_notebook_says_what_to_fetch_and_from_where(chapter, tmp_path):
    """Downloaded alone, a chapter stops at its first cell with one sentence that names the
    course zip and where it is, shown by Jupyter without a traceback."""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(first_code_cell(chapter))]
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.allow_errors = True
    client.execute(env=env)
    errors = [o for o in notebook.cells[0].outputs if o["output_type"] == "error"]
    assert errors, "the first cell ran with no helper module beside it"
    shown = ANSI.sub("", "\n".join(errors[0]["traceback"])).strip()
    assert "No module named" not in shown and "Traceback" not in shown, shown
    assert "\n" not in shown, f"more than one line: {shown}"
    assert ZIP in shown and "book" in shown, shown
    assert len(re.findall(r"[.!?](?:\s|$)", shown)) == 1, f"not one sentence: {shown}"


def copy_helper(helper, folder):
    """Put a helper module, or a helper package's folder, into `folder`."""
    if helper.is_dir():
        shutil.copytree(helper, folder / helper.name, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy(helper, folder)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_the_first_cell_names_each_missing_helper(chapter, tmp_path):
    """With every helper module but one beside it, the first cell names the missing one;
    with all of them, it runs."""
    needed = imported_helpers(chapter)
    assert needed, f"{chapter.name} imports no helper module"
    for missing in needed:
        folder = tmp_path / missing.stem
        folder.mkdir()
        for helper in HELPERS:
            if helper != missing:
                copy_helper(helper, folder)
        code, printed = run_first_cell(chapter, folder)
        assert code != 0 and missing.name in printed, f"without {missing.name}: {printed}"
        assert "No module named" not in printed, printed
    folder = tmp_path / "all"
    folder.mkdir()
    for helper in HELPERS:
        copy_helper(helper, folder)
    code, printed = run_first_cell(chapter, folder)
    assert code == 0, printed


FAKE_COLAB = textwrap.dedent(
    """
    # Stands in for Colab's own module: the first cell only asks whether it is loaded.
    """
)
FAKE_GIT = textwrap.dedent(
    """\
    #!{python}
    # Stands in for `git clone URL FOLDER`: records the call, copies the course's chapters.
    import shutil, sys
    from pathlib import Path
    Path("git-calls.txt").open("a").write(" ".join(sys.argv[1:]) + "\\n")
    shutil.copytree({chapters!r}, Path(sys.argv[-1]) / "chapters")
    """
)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_on_colab_the_first_cell_fetches_the_helpers_and_installs_nothing(chapter, tmp_path):
    """On Colab (simulated: a `google.colab` module and a `git` that copies the chapters),
    the first cell clones the course's repository and puts its chapters on the path; it
    installs no package, since Colab has torch, matplotlib and ipywidgets (as this
    environment has). With no repository named in the cell it says what to fetch instead."""
    fakes = tmp_path / "fakes"
    (fakes / "google" / "colab").mkdir(parents=True)
    (fakes / "google" / "__init__.py").write_text("")
    (fakes / "google" / "colab" / "__init__.py").write_text(FAKE_COLAB)
    git = fakes / "git"
    git.write_text(FAKE_GIT.format(python=sys.executable, chapters=str(ROOT / "chapters")))
    git.chmod(0o755)
    pip_guard = fakes / "sitecustomize.py"
    pip_guard.write_text(
        "import google.colab, subprocess, sys\n"
        "_run = subprocess.run\n"
        "def run(args, *a, **k):\n"
        "    assert 'pip' not in args, f'installed on Colab: {args}'\n"
        "    return _run(args, *a, **k)\n"
        "subprocess.run = run\n"
    )
    folder = tmp_path / "content"
    folder.mkdir()
    env = {"PYTHONPATH": str(fakes), "PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}"}
    code, printed = run_first_cell(chapter, folder, env)
    calls = folder / "git-calls.txt"
    if calls.exists():  # the cell names a repository: it was cloned
        assert code == 0, printed
        assert calls.read_text().startswith("clone"), calls.read_text()
        assert "https://github.com/" in calls.read_text()
    else:
        assert code != 0 and ZIP in printed, printed
    assert "No module named" not in printed and "installed on Colab" not in printed, printed


def test_every_chapter_imports_only_helpers_the_zip_holds():
    """The zip packs chapters/*.py by globbing; a chapter importing a module from elsewhere
    in the repository would break in the unpacked folder."""
    local = {p.stem for p in ROOT.glob("*.py")} | {p.stem for p in (ROOT / "tests").glob("*.py")}
    for chapter in CHAPTERS:
        notebook = json.loads(chapter.read_text(encoding="utf-8"))
        code = "\n".join(
            "".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"
        )
        names = set(re.findall(r"^\s*(?:from|import)\s+(\w+)", code, re.MULTILINE))
        assert not names & local, f"{chapter.name} imports {names & local} from outside chapters/"
