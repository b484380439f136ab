"""The "Check yourself" questions in the built book (chapters/questions.py writes them,
_ext/question_assets.py adds their script): every question on every page answered in
Chromium, by mouse and by keyboard, in light and dark mode, on a 360 px phone, offline.

What each answer should get is the module's own Question.check on the form's data, so
the page's script and the JupyterLab widget are held to the same rules. Run `make book`
first (`make test` does); fixtures (server, Chromium, screenshots) are in conftest.py.
"""

import json
import re

import pytest
import questions
from axe_playwright_python.sync_playwright import Axe

from conftest import HTML_DIR, site_pages

SOURCE_DIR = HTML_DIR.parent.parent  # _build/html -> the book's source folder
FORM = re.compile(r'<form class="question" id="([^"]+)"')
SCRIPT = re.compile(r'<script\b[^>]*\bsrc="[^"]*_static/questions\.js(?:\?[^"]*)?"[^>]*>')
STYLE = re.compile(r'<link\b[^>]*\bhref="[^"]*_static/questions\.css(?:\?[^"]*)?"[^>]*>')
PHONE = {"width": 360, "height": 740}
BLOCKING_IMPACTS = {"serious", "critical"}


def built(page):
    return (HTML_DIR / page).read_text(encoding="utf-8")


PAGES = site_pages(HTML_DIR)
QUESTION_PAGES = [page for page in PAGES if FORM.search(built(page))]
# A chapter page made from a notebook (a Markdown page runs no code, so it has none).
CHAPTER_PAGES = [
    page
    for page in PAGES
    if page.startswith("chapters/") and (SOURCE_DIR / page).with_suffix(".ipynb").is_file()
]


def params(pages, none_reason):
    if not PAGES:  # not built: one case, which fails in html_dir with "run make book"
        return [pytest.param(None, id="book-not-built")]
    return pages or [pytest.param(None, id="none", marks=pytest.mark.skip(reason=none_reason))]


on_question_pages = pytest.mark.parametrize(
    "path", params(QUESTION_PAGES, "no page of this build has a question")
)


# -- The built pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", params(PAGES, "no pages"))
def test_the_script_is_on_a_page_once_when_it_has_questions_and_never_otherwise(html_dir, path):
    source = built(path)
    expected = 1 if FORM.search(source) else 0
    scripts, styles = SCRIPT.findall(source), STYLE.findall(source)
    assert len(scripts) == expected and len(styles) == expected, (
        f"{path}: {len(FORM.findall(source))} questions, {len(scripts)} question scripts, "
        f"{len(styles)} question style sheets"
    )
    assert all(re.search(r"\bdefer\b", script) for script in scripts), scripts
    inline = re.findall(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", source, re.DOTALL)
    assert not [s for s in inline if "question" in s], f"{path}: an inline question script"


def test_question_ids_are_unique_in_the_book(html_dir):
    seen = {}
    for page in PAGES:
        for form_id in FORM.findall(built(page)):
            seen.setdefault(form_id, []).append(page)
    repeated = {form_id: pages for form_id, pages in seen.items() if len(pages) > 1}
    assert not repeated, f"question ids used more than once: {repeated}"


@pytest.mark.parametrize("path", params(CHAPTER_PAGES, "no chapter pages"))
def test_every_chapter_page_has_three_to_six_questions(html_dir, path):
    count = len(FORM.findall(built(path)))
    assert 3 <= count <= 6, f"{path}: {count} questions, not 3 to 6"


# -- What each question should say ----------------------------------------------------------

READ_FORMS = """() => [...document.querySelectorAll('form.question')].map(f => ({
    id: f.id, ...f.dataset,
    options: f.querySelectorAll('input[type=radio]').length,
}))"""


def _question(form):
    """The module's Question for a form of the page, from the data its script reads."""
    if form["kind"] == "number":
        slips = [(float(value), message) for value, message in json.loads(form["slips"])]
        return questions.Question(
            form["id"], "number", "", float(form["answer"]), slips, form["advice"],
            decimals=int(form["decimals"]),
        )  # fmt: skip
    return questions.Question(
        form["id"], "choice", "", int(form["answer"]),
        [(int(value), message) for value, message in json.loads(form["slips"])],
        form["advice"], options=range(form["options"]),
    )  # fmt: skip


def _typed(value, spelling, unicode_minus=False):
    text = f"{value:{spelling}}"
    return text.replace("-", "−") if unicode_minus else text


def cases(form, unicode_minus=False):
    """(what to type or pick, the verdict, the message) for the right answer (for a number
    also in scientific notation, and just inside and just outside the precision the page
    asks for), each slip, an unrelated value, and a non-answer. The messages come from
    the module's Question.check; the verdicts are asserted here. Negative numbers are
    typed with a Unicode minus (−) when told, with an ASCII hyphen otherwise."""
    question = _question(form)
    wanted = []
    if question.kind == "number":
        d = question.decimals
        unit, answer = 10.0**-d, question.answer

        def typed(value, spelling=f".{d}f"):
            return _typed(value, spelling, unicode_minus)

        values = [answer] + [value for value, _ in question.slips]
        far = 10 * (1 + max(abs(v) for v in values)) + 0.37
        wanted += [(typed(answer), "correct"), (typed(answer, f".{d + 2}e"), "correct")]
        wanted += [(typed(answer + 0.45 * unit, f".{d + 2}f"), "correct")]
        wanted += [(typed(answer - 0.7 * unit, f".{d + 2}f"), "not correct")]
        wanted += [(typed(value), message) for value, message in question.slips]
        wanted += [(typed(far), "advice"), ("two", "invalid")]
    else:
        taken = {question.answer} | {index for index, _ in question.slips}
        wanted += [(question.answer, "correct")]
        wanted += [(index, message) for index, message in question.slips]
        wanted += [(i, "advice") for i in range(len(question.options)) if i not in taken][:1]
        wanted += [(None, "invalid")]
    found = []
    for typed, expected in wanted:
        verdict, message = question.check(typed)
        if expected in questions.VERDICTS:
            assert verdict == expected, f"{form['id']}: {typed!r} is {verdict}, not {expected}"
        elif expected == "not correct":
            assert verdict != "correct", f"{form['id']}: {typed!r} is {verdict}"
        else:  # a slip's value gets that slip's message
            assert (verdict, message) == ("slip", f"{questions.NOT_QUITE} {expected}"), typed
        found.append((typed, verdict, message))
    return found


def load(visit, path, scheme="light", kinds=("number", "choice")):
    visit.page.emulate_media(color_scheme=scheme)
    visit.goto(path)
    visit.path = path
    page = visit.page
    page.wait_for_function(
        "(scheme) => document.documentElement.dataset.theme === scheme", arg=scheme
    )
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")
    forms = page.evaluate(READ_FORMS)
    assert forms, f"{path}: no question in the page"
    # Formula questions have tests of their own (tests/test_formula_questions_browser.py).
    return [form for form in forms if form["kind"] in kinds]


def answer_by_mouse(page, form, typed):
    """Type the number, or pick the option (None: pick none), then click Check."""
    locator = page.locator(f"#{form['id']}")
    locator.evaluate("(form) => form.reset()")
    if form["kind"] == "number":
        locator.locator("input").fill(typed)
    elif typed is not None:
        locator.locator(f"input[value='{typed}']").check()
    locator.get_by_role("button", name=questions.CHECK).click()


def feedback(page, form_id):
    form = page.locator(f"#{form_id}")
    return form.get_attribute("data-verdict"), form.locator(".question-feedback").inner_text()


# -- In the browser ---------------------------------------------------------------------------


@on_question_pages
def test_every_answer_gets_its_message_by_mouse(visit, path):
    page = visit.page
    for form in load(visit, path):
        for typed, verdict, message in cases(form):
            answer_by_mouse(page, form, typed)
            assert feedback(page, form["id"]) == (verdict, message), (form["id"], typed)
    visit.assert_clean()


FOCUS_RING = """(el) => el === document.activeElement && el.matches(':focus-visible')
    && getComputedStyle(el).outlineStyle !== 'none'
    && parseFloat(getComputedStyle(el).outlineWidth) >= 2"""


@on_question_pages
def test_every_answer_gets_its_message_by_keyboard_alone(visit, path):
    page = visit.page
    keyboard = page.keyboard
    for form in load(visit, path):
        locator = page.locator(f"#{form['id']}")
        button = locator.get_by_role("button", name=questions.CHECK)
        controls = locator.locator("input")
        assert all(c.evaluate("(el) => el.tabIndex >= 0") for c in controls.all())
        for typed, verdict, message in cases(form, unicode_minus=True):
            # A fresh form; from a button just before it, Tab enters it.
            page.evaluate(
                "(form) => { form.reset(); const stop = document.createElement('button');"
                " stop.id = 'stop'; form.before(stop); stop.focus(); }",
                locator.element_handle(),
            )
            keyboard.press("Tab")
            page.evaluate("() => document.getElementById('stop').remove()")
            if form["kind"] == "number":
                assert controls.first.evaluate(FOCUS_RING), f"{form['id']}: no focus ring"
                keyboard.press("Control+A")
                keyboard.type(typed)
                keyboard.press("Enter")
            else:  # Tab enters the group; the arrow keys pick an option, Enter checks.
                if typed is not None:
                    keyboard.press("Space")
                    for _ in range(typed):
                        keyboard.press("ArrowDown")
                    assert controls.nth(typed).is_checked()
                    keyboard.press("Enter")
                else:
                    keyboard.press("Tab")  # to the button, nothing picked
                    keyboard.press("Enter")
            assert feedback(page, form["id"]) == (verdict, message), (form["id"], typed)
            if form["kind"] == "number" or typed is not None:
                keyboard.press("Tab")
            assert button.evaluate(FOCUS_RING), f"{form['id']}: the button shows no focus"
            keyboard.press("Enter")  # the button checks the same answer again
            assert feedback(page, form["id"]) == (verdict, message), (form["id"], typed)
    visit.assert_clean()


# The colour a reader sees behind an element: its own background or the nearest opaque
# one of its ancestors; and WCAG's contrast ratio of its text on that.
CONTRAST = """(el) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const background = (e) => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] === 1) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const luminance = (c) => {
    const [r, g, b] = c.map(v => v / 255).map(
      v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [luminance(rgb(getComputedStyle(el).color).slice(0, 3)),
                  luminance(background(el))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""
TEXTS = (
    ".question-title, .question-prompt, .question-precision, .question-feedback,"
    " .question-option, input[type=text], button"
)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@on_question_pages
def test_questions_read_well_in_light_and_dark_mode(visit, path, scheme):
    page = visit.page
    for form in load(visit, path, scheme):
        locator = page.locator(f"#{form['id']}")
        typed, _, _ = cases(form)[1]  # a slip's value, or else the unrelated one
        answer_by_mouse(page, form, typed)
        # No panel of the theme's around the question's own (dark mode draws HTML output
        # on a light one).
        behind = locator.evaluate("(form) => getComputedStyle(form.parentElement).background")
        assert behind.startswith("rgba(0, 0, 0, 0)"), f"{form['id']} ({scheme}): {behind}"
        texts = locator.locator(TEXTS)
        for i in range(texts.count()):
            ratio = texts.nth(i).evaluate(CONTRAST)
            assert ratio >= 4.5, f"{form['id']} ({scheme}): contrast {ratio:.2f} of " + (
                texts.nth(i).evaluate("(el) => el.outerHTML.slice(0, 80)")
            )
    results = Axe().run(page, context="form.question")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']}: "
        + ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]
    assert not serious, f"{path} ({scheme}): axe-core on the questions:\n" + "\n".join(serious)
    visit.assert_clean()


@on_question_pages
def test_questions_fit_a_360_px_phone(visit, path):
    page = visit.page
    page.set_viewport_size(PHONE)
    for form in load(visit, path):
        locator = page.locator(f"#{form['id']}")
        # The longest message a question can show, so the widest the form can get.
        typed, _, _ = max(cases(form), key=lambda case: len(case[2]))
        answer_by_mouse(page, form, typed)
        outside = locator.evaluate(
            """(form) => [form, ...form.querySelectorAll('*')]
                 .filter(e => { const r = e.getBoundingClientRect();
                                return r.width > 0 && (r.left < 0 || r.right > innerWidth); })
                 .map(e => e.tagName + '.' + e.className)"""
        )
        assert not outside, f"{form['id']}: wider than a 360 px phone: {outside}"
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path}: the page scrolls sideways ({width} px wide)"
    visit.assert_clean()


ODD_INPUTS = ["", "  ", "16,0", ".5", "5.", "+.5e-1", "1e", "1E1", "--1", "−", "+−1", "0x10",
              "Infinity", "NaN", "1e400", "1_000", "½", "٣", " −0.0 ", "1/4", " −3 / 4 ", "1/0",
              "1/2/3", "/4", "4/", "1e400/1e300", "2e1/5"]  # fmt: skip


@on_question_pages
def test_the_page_reads_what_is_typed_as_the_module_does(visit, path):
    """Odd spellings typed into each number question get what Question.check says."""
    page = visit.page
    forms = [form for form in load(visit, path) if form["kind"] == "number"]
    if not forms:
        pytest.skip(f"{path} has no number question")
    for form in forms:
        question = _question(form)
        # Each spelling typed into the field and sent with the Check button, in the page
        # itself: the mouse's own path is the test above, and this one is about reading.
        seen = page.locator(f"#{form['id']}").evaluate(
            """(form, typed) => typed.map((text) => {
                 form.reset();
                 form.querySelector("input").value = text;
                 form.querySelector("button").click();
                 return [form.dataset.verdict,
                         form.querySelector(".question-feedback").innerText];
               })""",
            ODD_INPUTS,
        )
        for typed, (verdict, message) in zip(ODD_INPUTS, seen, strict=True):
            assert (verdict, message) == question.check(typed), (form["id"], typed)
    visit.assert_clean()
