"""How fast the book's pages are on a phone, next to the plain Jupyter Book 1 template's.

Lighthouse 12.2.3 (mobile preset, its default) measures every page of the built
book and every page of the template that `jupyter-book create` writes, built in
this run with this environment. Both are served with gzip on 127.0.0.1, as GitHub
Pages serves them, and Chromium resolves no other host, so a request off the
machine fails and is counted. The pages take turns, round after round, so that a
slow spell of the machine reaches every page alike; each figure is the median of
its runs, and the chapter pages are checked against the targets:

- performance >= 90, and >= the template's notebook page in the same run;
- total blocking time <= 200 ms; cumulative layout shift <= 0.02;
- accessibility 100; no request off the machine.

Usage (from the repository root, after `make book` and `make lighthouse`):
    .venv/bin/python bench/page_speed.py [--runs N] [--before DIR] [--json FILE]
                                         [--chapters-only] [--pages PAGE ...]
--before DIR adds the pages of another build (say, of the main branch) as "before".
It exits 1 when a chapter page misses a target.
"""

import argparse
import contextlib
import functools
import gzip
import http.server
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LIGHTHOUSE = ROOT / "bench" / "node_modules" / ".bin" / "lighthouse"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
COMPRESSED = {".html", ".js", ".css", ".svg", ".json", ".txt", ".inv", ".map"}
TEMPLATE_NOTEBOOK = "notebooks.html"  # the template's notebook page, the yardstick
TARGETS = {"performance": 90, "tbt_ms": 200, "cls": 0.02, "accessibility": 100}


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, text ones gzip-compressed when the browser accepts it."""

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.suffix in COMPRESSED and path.is_file()):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return _Body(body)


class _Body:
    def __init__(self, data):
        self.data = data

    def read(self, *_):
        data, self.data = self.data, b""
        return data

    def close(self):
        pass


@contextlib.contextmanager
def serve(directory):
    handler = functools.partial(GzipHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def pages_of(html_dir):
    """Every page of a build: not the assets, not the redirect stubs (index.html)."""
    pages = []
    for path in sorted(html_dir.rglob("*.html")):
        relative = path.relative_to(html_dir).as_posix()
        head = path.read_text(encoding="utf-8", errors="replace")[:2000]
        if relative.startswith(("_static/", "_sources/", "_images/")):
            continue
        if re.search(r'<meta\s+http-equiv="refresh"', head, re.IGNORECASE):
            continue
        pages.append(relative)
    return pages


def build_template(workdir):
    """The plain Jupyter Book 1 template, built with this environment."""
    source = workdir / "template"
    subprocess.run([BIN / "jupyter-book", "create", str(source)], check=True, capture_output=True)
    subprocess.run(
        [BIN / "jupyter-book", "build", str(source)], check=True, capture_output=True, text=True
    )
    return source / "_build" / "html"


def lighthouse(url, out):
    env = {**os.environ, "CHROME_PATH": CHROME}
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        "--only-categories=performance,accessibility",
        "--chrome-flags=" + " ".join(CHROME_FLAGS),
    ]
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    report = json.loads(Path(out).read_text(encoding="utf-8"))
    audits = report["audits"]
    requests = audits["network-requests"]["details"]["items"]
    hosts = [urlsplit(r["url"]).hostname for r in requests if not r["url"].startswith("data:")]
    off_machine = [host for host in hosts if host != "127.0.0.1"]
    return {
        "performance": round(100 * report["categories"]["performance"]["score"]),
        "accessibility": round(100 * report["categories"]["accessibility"]["score"]),
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "fcp_ms": audits["first-contentful-paint"]["numericValue"],
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "weight_kib": audits["total-byte-weight"]["numericValue"] / 1024,
        "off_machine": len(off_machine),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each page (default 3)")
    parser.add_argument("--book", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--before", type=Path, help="another build, measured as 'before'")
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    parser.add_argument(
        "--chapters-only",
        action="store_true",
        help="only the pages the targets are for: the book's chapter pages and the "
        "template's notebook page",
    )
    parser.add_argument(
        "--pages",
        nargs="+",
        metavar="PAGE",
        help="only these pages of the book (such as rules.html), beside the template's "
        "notebook page",
    )
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is missing: install it with `make lighthouse`")
    if not (args.book / "index.html").is_file():
        sys.exit(f"no built book in {args.book}: run `make book` first")

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        print("building the Jupyter Book template with this environment ...", file=sys.stderr)
        builds = {"book": args.book, "template": build_template(Path(tmp))}
        if args.before:
            builds = {"before": args.before, **builds}
        sites = {name: (stack.enter_context(serve(d)), pages_of(d)) for name, d in builds.items()}
        if args.chapters_only:
            sites = {
                name: (
                    url,
                    [p for p in pages if p.startswith("chapters/") or p == TEMPLATE_NOTEBOOK],
                )
                for name, (url, pages) in sites.items()
            }
        if args.pages:
            sites = {
                name: (url, [p for p in pages if p in args.pages or p == TEMPLATE_NOTEBOOK])
                for name, (url, pages) in sites.items()
            }
        runs = {(name, page): [] for name, (_, pages) in sites.items() for page in pages}
        for round_ in range(args.runs):
            for name, page in runs:
                print(f"round {round_ + 1}/{args.runs}: {name} {page}", file=sys.stderr)
                result = lighthouse(sites[name][0] + page, Path(tmp) / "report.json")
                runs[name, page].append(result)
        shutil.rmtree(Path(tmp) / "template", ignore_errors=True)

    if args.json:
        args.json.write_text(
            json.dumps({f"{n} {p}": r for (n, p), r in runs.items()}, indent=1), encoding="utf-8"
        )
    medians = {
        key: {m: statistics.median(r[m] for r in results) for m in results[0]}
        for key, results in runs.items()
    }
    yardstick = medians["template", TEMPLATE_NOTEBOOK]
    print(
        f"\nLighthouse 12.2.3, mobile; median of {args.runs} runs; ratios against the "
        f"template's notebook page ({TEMPLATE_NOTEBOOK}) in this run\n"
    )
    print(
        "| build | page | performance | × template | TBT | × template | CLS | LCP "
        "| weight | accessibility | off-machine requests |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (name, page), m in medians.items():
        tbt_ratio = m["tbt_ms"] / yardstick["tbt_ms"] if yardstick["tbt_ms"] else float("nan")
        print(
            f"| {name} | {page} | {m['performance']:.0f} "
            f"| {m['performance'] / yardstick['performance']:.2f} | {m['tbt_ms']:.0f} ms "
            f"| {tbt_ratio:.2f} | {m['cls']:.3f} | {m['lcp_ms'] / 1000:.1f} s "
            f"| {m['weight_kib']:.0f} KiB | {m['accessibility']:.0f} | {m['off_machine']:.0f} |"
        )
    misses = []
    for (name, page), m in medians.items():
        if name != "book" or not page.startswith("chapters/"):
            continue
        if m["performance"] < max(TARGETS["performance"], yardstick["performance"]):
            misses.append(f"{page}: performance {m['performance']:.0f}")
        if m["tbt_ms"] > TARGETS["tbt_ms"]:
            misses.append(f"{page}: total blocking time {m['tbt_ms']:.0f} ms")
        if m["cls"] > TARGETS["cls"]:
            misses.append(f"{page}: layout shift {m['cls']:.3f}")
        if m["accessibility"] < TARGETS["accessibility"]:
            misses.append(f"{page}: accessibility {m['accessibility']:.0f}")
    misses += [
        f"{name} {page}: {m['off_machine']:.0f} requests off the machine"
        for (name, page), m in medians.items()
        if name == "book" and m["off_machine"]
    ]
    print("\nchapter pages: " + ("every target met" if not misses else "targets missed:"))
    for miss in misses:
        print(f"- {miss}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
