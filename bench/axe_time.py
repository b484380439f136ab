"""How long axe-core takes on one built page, and how much of it is colour contrast and the
formulas.

Usage (from the repository root, after `make book`):
    .venv/bin/python bench/axe_time.py [PAGE]    # default chapters/02_1_matrix_product.html

Serves the built book as the tests do, opens PAGE in Chromium on a laptop's screen, and
prints its number of elements (and of MathML ones), then the seconds of: a whole axe run
(as tests/test_browser.py runs it); a run with axe's own performance timer on (slower, for
its console output) and the colour-contrast rule's part of it; and the colour-contrast rule
run alone, with and without the page's formulas (`math` excluded).
"""

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, HTML_DIR, LAPTOP, served  # noqa: E402

RULE_TIME = re.compile(r"^Measure rule_color-contrast took ([\d.]+)ms$")


def timed(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(path="chapters/02_1_matrix_product.html"):
    axe = Axe()
    with served(HTML_DIR) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(**LAPTOP)
        messages = []
        page.on("console", lambda message: messages.append(message.text))
        page.goto(url + path, wait_until="load")
        count = page.evaluate("() => document.querySelectorAll('*').length")
        maths = page.evaluate("() => document.querySelectorAll('math, math *').length")
        print(f"{path}: {count} elements, {maths} of them MathML")
        axe.run(page)  # once to warm up
        whole = timed(lambda: axe.run(page))
        print(f"a whole axe run: {whole:.2f} s")
        timed_run = timed(lambda: axe.run(page, options={"performanceTimer": True}))
        contrast = [float(found[1]) / 1000 for found in map(RULE_TIME.match, messages) if found]
        print(f"with axe's timer on: colour contrast {contrast[-1]:.2f} s of {timed_run:.2f} s")
        alone = {"runOnly": ["color-contrast"]}
        for context, words in ((None, "on the page"), ({"exclude": [["math"]]}, "without math")):
            seconds = timed(lambda context=context: axe.run(page, context, alone))
            print(f"colour contrast alone, {words}: {seconds:.2f} s")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
