"""The built book is valid HTML and its links lead somewhere.

- The Nu HTML checker (vnu.jar from npm's vnu-jar, installed by `make vnu`, run
  with Java) finds no error on any page of the build, index.html included.
- Every link, form action and resource inside the book points to a file of the
  build, and every #fragment to an id on that page.
- Sphinx's link checker (`jupyter-book build --builder linkcheck`) reports every
  link it checks as working. The book works offline, so it has no external link
  to fetch; one that it did have would be reported broken here, with no network.

Run `make book` first (`make test` does).
"""

import functools
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import HTML_DIR, ROOT, site_pages

VNU_JAR = ROOT / "tests" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = os.environ.get("JAVA", shutil.which("java") or "java")
BIN = Path(sys.executable).parent


PAGES = site_pages(HTML_DIR, redirects=True) or [pytest.param(None, id="book-not-built")]


@pytest.fixture(scope="module")
def built(html_dir):
    return html_dir


@pytest.fixture(scope="module")
def vnu_errors(built):
    """The Nu HTML checker's errors on every page, by page, from one run of vnu.jar."""
    if not VNU_JAR.is_file():
        pytest.fail(
            f"The Nu HTML checker is missing: {VNU_JAR}. Install it with: make vnu",
            pytrace=False,
        )
    if shutil.which(JAVA) is None:
        pytest.fail(
            "Java is missing, and the Nu HTML checker needs it. Install it with: make java "
            "(as root that runs `apt-get install -y default-jre-headless`)",
            pytrace=False,
        )
    files = [str(built / page) for page in site_pages(HTML_DIR, redirects=True)]
    result = subprocess.run(
        [JAVA, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors = {}
    for message in messages:
        page = Path(unquote(urlsplit(message.get("url", "")).path))
        page = page.relative_to(built).as_posix() if page.is_relative_to(built) else str(page)
        where = f"line {message.get('lastLine', '?')}"
        errors.setdefault(page, []).append(f"{where}: {message['message']}")
    if result.returncode not in (0, 1) or (result.returncode == 1 and not errors):
        pytest.fail(f"vnu.jar failed (exit {result.returncode}): {result.stderr[-2000:]}")
    return errors


@pytest.mark.parametrize("page", PAGES)
def test_page_is_valid_html(vnu_errors, page):
    errors = vnu_errors.get(page, [])
    assert not errors, f"{page}: the Nu HTML checker finds {len(errors)} errors:\n" + "\n".join(
        errors[:20]
    )


def test_the_checker_checks_every_page_and_finds_errors(built, tmp_path, vnu_errors):
    """The checker sees every page, and would report what the old markup had."""
    assert len(site_pages(HTML_DIR, redirects=True)) >= 5, site_pages(HTML_DIR, redirects=True)
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body>'
        "<details><summary><p>Show</p></summary></details><img alt=x>"
        "<div><p>a</p><style>p{}</style></div></body></html>",
        encoding="utf-8",
    )
    result = subprocess.run(
        [JAVA, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    messages = " | ".join(
        m["message"] for m in json.loads(result.stderr or result.stdout)["messages"]
    )
    for error in ("“p” not allowed as child of element “summary”", "“src”", "“style”"):
        assert error in messages, f"the checker missed {error}: {messages}"


# -- Links inside the book ------------------------------------------------------------------


class _Links(html.parser.HTMLParser):
    TARGETS = {("a", "href"), ("link", "href"), ("script", "src"), ("img", "src")}
    TARGETS |= {("form", "action"), ("source", "src"), ("iframe", "src")}

    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if (tag, name) in self.TARGETS and value is not None:
                self.links.append(f"<{tag} {name}={value!r}>")


def _parse(path):
    """The page's links and ids, parsed once per version of the file: a page links its own
    headings many times, and each link to an id would parse its target page again."""
    stat = path.stat()
    return _parse_file(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _parse_file(path, mtime_ns, size):
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def local_link_problems(html_dir, page):
    """Links from `page` to a file the build lacks, or to an id the target page lacks."""
    source = html_dir / page
    parsed = _parse(source)
    problems = []
    for link in parsed.links:
        value = re.search(r"=(['\"])(.*)\1>$", link).group(2)
        parts = urlsplit(value)
        if parts.scheme in ("data", "mailto", "javascript") or parts.netloc:
            continue  # not a file of the book (remote ones: test_browser.py)
        target = (source.parent / unquote(parts.path)).resolve() if parts.path else source
        if not target.is_relative_to(html_dir) or not target.exists():
            problems.append(f"{link}: no such file in the build")
        elif parts.fragment and target.suffix == ".html":
            if unquote(parts.fragment) not in _parse(target).ids:
                problems.append(f"{link}: no id {parts.fragment!r} on that page")
    return problems


@pytest.mark.parametrize("page", PAGES)
def test_local_links_resolve(built, page):
    problems = local_link_problems(built, page)
    assert not problems, f"{page}:\n" + "\n".join(problems)


def test_a_link_to_a_missing_anchor_is_found(tmp_path):
    (tmp_path / "a.html").write_text(
        '<form action="#n"></form><a href="b.html#x">b</a><a href="#top" id="top">t</a>',
        encoding="utf-8",
    )
    (tmp_path / "b.html").write_text('<p id="y">b</p>', encoding="utf-8")
    problems = local_link_problems(tmp_path, "a.html")
    assert len(problems) == 2 and "'n'" in problems[0] and "'x'" in problems[1], problems


# -- Sphinx's link checker -----------------------------------------------------------------


def test_sphinx_linkcheck_reports_no_problem(built, tmp_path):
    result = subprocess.run(
        [BIN / "jupyter-book", "build", str(ROOT), "--builder", "linkcheck"]
        + ["--path-output", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert not warnings, "linkcheck warnings:\n" + "\n".join(warnings)
    report = tmp_path / "_build" / "html" / "output.json"
    assert report.is_file(), f"linkcheck wrote no report at {report}"
    entries = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    # The course zip is the one link _config.yml tells linkcheck to ignore: it is written
    # into the built site, where test_local_links_resolve checks it.
    bad = [
        e
        for e in entries
        if e["status"] not in ("working", "unchecked")
        and not (e["status"] == "ignored" and e["uri"].endswith("backprop-by-hand.zip"))
    ]
    assert not bad, "linkcheck problems:\n" + "\n".join(
        f"{e['filename']}:{e['lineno']} {e['uri']} ({e['status']}: {e['info']})" for e in bad
    )
