"""The repository's own documents link each other correctly (issue 26).

README.md (for learners and teachers), CONTRIBUTING.md (the maintainer's reference), the
files in docs/ and bench/README.md (the measurements) link each other and the course's
files. Every relative link among them must resolve: to a file or folder of the repository,
and, with a `#fragment`, to a heading of the Markdown file it names (GitHub's anchors).
Links that leave the repository (http, https, mailto) are not followed: nothing here
reaches the network. The README stays short, and leads to the other three.
"""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted(
    [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "bench" / "README.md"]
    + list((ROOT / "docs").glob("*.md")),
)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")


def links(text):
    """The targets of a Markdown text's links, outside code blocks and inline code."""
    return LINK.findall(CODE.sub("", FENCE.sub("", text)))


def anchors(markdown):
    """GitHub's anchors for a Markdown file's headings: lower case, punctuation dropped,
    spaces as hyphens, a repeated heading numbered -1, -2, ..."""
    found, seen = set(), {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", markdown), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", "")).replace(" ", "-")
        found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return found


def problems(document):
    """What is wrong with each relative link of `document`, in words."""
    found = []
    for target in links(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        path, _, fragment = unquote(target).partition("#")
        file = (document.parent / path).resolve() if path else document
        name = document.relative_to(ROOT)
        if not file.is_relative_to(ROOT):
            found.append(f"{name}: {target} leaves the repository")
        elif not file.exists():
            found.append(f"{name}: {target} does not exist")
        elif fragment and file.suffix == ".md":
            if fragment not in anchors(file.read_text(encoding="utf-8")):
                found.append(f"{name}: {target}: {file.name} has no heading #{fragment}")
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document):
    assert document.is_file(), f"{document.relative_to(ROOT)} is missing"
    assert not problems(document), "\n".join(problems(document))


def test_the_documents_checked_are_the_ones_expected():
    names = {str(p.relative_to(ROOT)) for p in DOCUMENTS}
    assert {"README.md", "CONTRIBUTING.md", "bench/README.md"} <= names, names


def test_the_readme_is_short_and_leads_to_the_maintainers_documents():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = readme.count("\n")
    assert lines < 200, f"README.md is {lines} lines: move a maintainer's detail out of it"
    targets = set(links(readme))
    for needed in ("CONTRIBUTING.md", "bench/README.md", "LICENSE", "LICENSE-CONTENT"):
        assert needed in targets, f"README.md does not link {needed}"
    reachable = targets | set(links((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")))
    for document in (ROOT / "docs").glob("*.md"):
        assert f"docs/{document.name}" in reachable, f"nothing links docs/{document.name}"


def test_a_broken_link_and_a_missing_heading_are_found(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "CONTRIBUTING.md").write_text("# Contributing\n\n## Mutation testing\n")
    readme = tmp_path / "README.md"
    readme.write_text(
        "[ok](CONTRIBUTING.md#mutation-testing) [gone](docs/missing.md) "
        "[no heading](CONTRIBUTING.md#layout) [web](https://example.org/x) `[code](nowhere)`\n"
        "```\n[fenced](nowhere.md)\n```\n"
    )
    assert problems(readme) == [
        "README.md: docs/missing.md does not exist",
        "README.md: CONTRIBUTING.md#layout: CONTRIBUTING.md has no heading #layout",
    ]
