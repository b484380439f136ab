"""Questions to check yourself: a number or a choice, answered on paper, checked on the page.

``ask`` asks for a number, ``choose`` offers options. Each question knows its right
answer, the value (or option) that each common slip gives with the message that names
it, and one sentence of advice for anything else. Both return an object that shows, in
the book, a small HTML form checked by one script the book adds to the page
(``_ext/question_assets.py``), and in JupyterLab a widget that checks in Python with
the same rules. The HTML is the same on every run: ids come from the question's id,
numbers are written to 12 significant digits.

Rules for a number: the page says how precise it must be (``decimals``: by default a
whole number when the answer is one, else 2 decimal places); a value within half a unit
of the last decimal of the right answer is right; "16", "16.0", "+16", "1.6e1", "−16" (a
Unicode minus) and "1/4" (a fraction of two such numbers) are read as numbers. Slips
whose values coincide with each other at that precision (their accepted ranges overlap)
are named together, since a typed number cannot tell them apart; slips whose value is
not finite are dropped. A slip that coincides with the right answer is refused: the
question then shows, instead of its form, one sentence saying which mistake would pass
for the answer with these values (a learner who changed the page's inputs may meet it;
the pages as published never show it, which tests/test_questions.py checks).

Options of a choice are shown in an order shuffled by the question's id: the same on
every run, and not the order they were written in (so the right one is not always
first). ``check`` and the form take the position of an option as shown.

Why not ``jupyterquiz``: it loads MathJax from a CDN, gives its containers random ids
(so nbval's stored outputs and the page change on every run), offers fixed answer
lists that do not say which slip a value comes from, and ships its own script in every
output; this module is small enough to test in full.

In a chapter, a question's cell is best tagged ``remove-input``: the book then shows
the question alone, and JupyterLab the code that computes its values.

Importing it has no side effects; ipywidgets is imported when a question is shown.
"""

import hashlib
import html as html_escape
import json
import math
import re
import sys
import sysconfig

__all__ = ["ask", "choose"]

ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_DECIMALS = 6
# The words the reader sees. _ext/question_static/questions.js holds the same ones.
TITLE = "Check yourself"
CHECK = "Check"
CORRECT = "Correct."
NOT_QUITE = "Not quite."
NOT_A_NUMBER = "Type a number, such as 2.5, −0.5, 1/4 or 1e-3 (with a point for decimals)."
NO_CHOICE = "Pick one of the options first."
VERDICTS = ("correct", "slip", "advice", "invalid")  # what Question.check can find
# A typed number: optional sign (ASCII or a Unicode minus), digits with at most one
# point, an optional exponent. The script uses the same pattern.
MINUSES = "\u2212\u2012\u2013\ufe63\uff0d"
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# A fraction: two such numbers around a slash, with spaces allowed beside it.
FRACTION = re.compile(r"\s*/\s*")
# Said in place of the form when a slip would pass for the answer with these values.
REFUSED = (
    "With the values this page now holds, this question cannot tell a mistake from the "
    "answer ({slips} gives the same number). Put the page's own values back in its "
    "parameters cell to try it."
)
OR = " Or: "  # between the messages of slips that give the same number

# Which questions this kernel has made: id -> (prompt, where it was made). Running the
# same cell again remakes its question; another cell may not take its id.
_made = {}


def _float(value, what):
    """``value`` (a number, or a tensor or array with one entry) as a float."""
    if isinstance(value, bool) or isinstance(value, str):
        raise TypeError(f"{what} must be a number, got {value!r}")
    if hasattr(value, "numel") and value.numel() != 1:
        raise ValueError(f"{what} must be one number, got a tensor of shape {tuple(value.shape)}")
    if hasattr(value, "size") and not callable(value.size) and value.size != 1:
        raise ValueError(f"{what} must be one number, got an array of shape {value.shape}")
    try:
        number = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number, got {value!r}") from None
    return number


def _text(value, what):
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a sentence of text, got {value!r}")
    return value.strip()


def _g(number):
    """A float written the same way on every run: 12 significant digits."""
    return f"{number + 0.0:.12g}"  # + 0.0 turns -0.0 into 0.0


def parse_number(text):
    """The number typed in ``text``, or None when it is not one."""
    text = text.strip()
    for minus in MINUSES:
        text = text.replace(minus, "-")
    parts = FRACTION.split(text)
    if len(parts) > 2 or not all(NUMBER.fullmatch(part) for part in parts):
        return None
    numbers = [float(part) for part in parts]
    if len(numbers) == 2:
        if numbers[1] == 0:
            return None
        numbers = [numbers[0] / numbers[1]]
    return numbers[0] if math.isfinite(numbers[0]) else None


def _tolerance(decimals):
    """Half a unit of the last decimal asked for."""
    return 0.5 * 10.0**-decimals


def precision_words(decimals):
    if decimals == 0:
        return "Answer with a whole number."
    return f"Answer to {decimals} decimal place{'s' if decimals > 1 else ''}."


class Question:
    """One question: its form for the book, its widget for JupyterLab, its checking."""

    def __init__(self, id, kind, prompt, answer, slips, advice, decimals=None, options=()):
        self.id, self.kind, self.prompt = id, kind, prompt
        self.answer, self.slips, self.advice = answer, slips, advice
        self.decimals, self.options = decimals, list(options)
        self.refused = None  # the sentence shown instead of the form, when refused

    @property
    def tolerance(self):
        """How far a typed number may be from a value and still be that value."""
        return _tolerance(self.decimals)

    def _near(self, typed, value):
        return abs(typed - value) <= self.tolerance * (1 + 1e-9)

    def check(self, typed):
        """(verdict, message) for what the reader typed (a number question) or picked
        (the option's index, or None, for a choice): verdict is "correct", "slip",
        "advice" or "invalid"."""
        if self.kind == "number":
            typed = parse_number(str(typed))
            if typed is None:
                return "invalid", NOT_A_NUMBER
            if self._near(typed, self.answer):
                return "correct", CORRECT
            for value, message in self.slips:
                if self._near(typed, value):
                    return "slip", f"{NOT_QUITE} {message}"
            return "advice", f"{NOT_QUITE} {self.advice}"
        if typed is None:
            return "invalid", NO_CHOICE
        if typed == self.answer:
            return "correct", CORRECT
        for index, message in self.slips:
            if typed == index:
                return "slip", f"{NOT_QUITE} {message}"
        return "advice", f"{NOT_QUITE} {self.advice}"

    # -- the book: a form the page's script checks --------------------------------------

    def html(self):
        e = html_escape.escape
        name = f"question-{self.id}"
        if self.refused:
            return (
                f'<div class="question question-refused" id="{name}">'
                f'<p class="question-title">{TITLE}</p>'
                f'<p class="question-prompt">{e(self.prompt)}</p>'
                f"<p>{e(self.refused)}</p></div>"
            )
        data = {
            "kind": self.kind,
            "answer": _g(self.answer),  # an option's index is a whole number: "2"
            "slips": json.dumps(
                [[_g(v) if self.kind == "number" else v, m] for v, m in self.slips],
                ensure_ascii=False,
            ),
            "advice": self.advice,
        }
        if self.kind == "number":
            data["decimals"] = str(self.decimals)
        attributes = " ".join(f'data-{key}="{e(value)}"' for key, value in data.items())
        if self.kind == "number":
            body = (
                f'<label class="question-prompt" for="{name}-answer">{e(self.prompt)}</label>'
                f'<p class="question-precision" id="{name}-precision">'
                f"{precision_words(self.decimals)}</p>"
                # No inputmode="decimal": a phone's decimal keypad may have no minus key.
                f'<div class="question-row"><input type="text" id="{name}-answer" '
                f'autocomplete="off" spellcheck="false" '
                f'aria-describedby="{name}-precision">'
                f'<button type="submit">{CHECK}</button></div>'
            )
        else:
            options = "".join(
                f'<label class="question-option"><input type="radio" name="{name}" '
                f'value="{index}"> {e(option)}</label>'
                for index, option in enumerate(self.options)
            )
            body = (
                f'<fieldset><legend class="question-prompt">{e(self.prompt)}</legend>'
                f"{options}</fieldset>"
                f'<div class="question-row"><button type="submit">{CHECK}</button></div>'
            )
        return (
            f'<form class="question" id="{name}" {attributes}>'
            f'<p class="question-title">{TITLE}</p>{body}'
            f'<p class="question-feedback" id="{name}-feedback" role="status" '
            f'aria-live="polite"></p></form>'
        )

    # -- JupyterLab: a widget that checks in Python --------------------------------------

    def widget(self):
        import ipywidgets

        if self.refused:
            return ipywidgets.HTML(
                f"<b>{TITLE}</b><br>{html_escape.escape(self.prompt)}<br>"
                f"{html_escape.escape(self.refused)}"
            )
        feedback = ipywidgets.HTML()  # empty until the reader answers
        button = ipywidgets.Button(description=CHECK)
        if self.kind == "number":
            # The value changes when the reader presses Enter (or leaves the field).
            field = ipywidgets.Text(continuous_update=False)
            field.observe(lambda _change: show(), names="value")
        else:
            field = ipywidgets.RadioButtons(
                options=[(option, index) for index, option in enumerate(self.options)],
                value=None,
                layout=ipywidgets.Layout(width="max-content"),
            )

        def show(_button=None):
            _verdict, message = self.check(field.value)
            feedback.value = f"<b>{html_escape.escape(message)}</b>"

        button.on_click(show)
        prompt = ipywidgets.HTML(
            f"<b>{TITLE}</b><br>{html_escape.escape(self.prompt)}"
            + (f" {precision_words(self.decimals)}" if self.kind == "number" else "")
        )
        return ipywidgets.VBox([prompt, field, button, feedback])

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.html()
        bundle["text/plain"] = f"{TITLE}: {self.prompt}"
        return bundle


# Where installed packages and the standard library live: a frame there is not the asker.
_LIBRARIES = tuple({sysconfig.get_path(name) for name in ("stdlib", "purelib", "platlib")})


def _asker(frame):
    """(file, line) of the code that asked: the first frame out of this module and out of
    any library between them (a wrapper, a decorator), such as a notebook cell."""
    while frame.f_back is not None and (
        frame.f_code.co_filename == __file__ or frame.f_code.co_filename.startswith(_LIBRARIES)
    ):
        frame = frame.f_back
    return frame.f_code.co_filename, frame.f_lineno


def _register(id, prompt):
    """Refuse an id another question of this kernel already has (a cell run again may
    remake its own question, even with other values in its prompt)."""
    caller = _asker(sys._getframe())
    made = _made.get(id)
    if made is not None and made[0] != prompt and made[1] != caller:
        raise ValueError(
            f"question id {id!r} is already used by another question ({made[0]!r}); "
            "each question needs its own id"
        )
    _made[id] = (prompt, caller)


def _checked_id(id):
    if not isinstance(id, str) or not ID.fullmatch(id):
        raise ValueError(
            f"question id must be lowercase letters, digits and single hyphens, got {id!r}"
        )
    return id


def _whole(number):
    return abs(number - round(number)) <= 1e-9 * max(1.0, abs(number))


def ask(id, prompt, answer, slips=None, advice=None, decimals=None):
    """A question whose answer is a number, right to ``decimals`` decimal places (by
    default a whole number when ``answer`` is one, else 2).

    ``slips`` maps the message that names a slip to the value that slip gives;
    ``advice`` is the one sentence shown for any other number. Slips whose value is not
    finite are dropped; slips that coincide with each other at this precision are named
    together; a slip that coincides with the answer refuses the question (see the
    module's docstring).
    """
    id = _checked_id(id)
    prompt = _text(prompt, "prompt")
    advice = _text(advice, "advice")
    answer = _float(answer, "answer")
    if not math.isfinite(answer):
        raise ValueError(f"answer must be a finite number, got {answer}")
    if decimals is None:
        decimals = 0 if _whole(answer) else 2
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise TypeError(f"decimals must be a whole number, got {decimals!r}")
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be from 0 to {MAX_DECIMALS}, got {decimals}")
    if slips is None:
        slips = {}
    if not isinstance(slips, dict):
        raise TypeError(f"slips must be a dict from message to value, got {slips!r}")
    named = [
        (_float(value, f"the value of slip {message!r}"), _text(message, "a slip's message"))
        for message, value in slips.items()
    ]
    named = [(value, message) for value, message in named if math.isfinite(value)]
    # Two values are told apart when their accepted ranges (± tolerance) at most touch: 4 and
    # 5 asked as whole numbers are two answers, 16.004 and 16.006 at two decimals are one.
    apart = 2 * _tolerance(decimals) * (1 - 1e-9)
    passing = [message for value, message in named if abs(value - answer) < apart]
    groups = []  # [value, [messages]]: slips a typed number cannot tell apart, together
    for value, message in named:
        if abs(value - answer) < apart:
            continue
        group = next((g for g in groups if abs(g[0] - value) < apart), None)
        if group is None:
            groups.append([value, [message]])
        else:
            group[1].append(message)
    slips = [(value, OR.join(messages)) for value, messages in groups]
    question = Question(id, "number", prompt, answer, slips, advice, decimals=decimals)
    if passing:
        question.refused = REFUSED.format(slips=" and ".join(f"“{m}”" for m in passing))
    _register(id, prompt)
    return question


def _order(id, count):
    """The options' order as shown: shuffled by the id, the same on every run."""
    return sorted(range(count), key=lambda i: hashlib.sha256(f"{id}/{i}".encode()).digest())


def choose(id, prompt, options, answer, slips=None, advice=None):
    """A question with options: ``answer`` is the right option's index in ``options``,
    ``slips`` maps the index of a wrong option to the message that names its slip,
    ``advice`` is the sentence shown for any other wrong option. A slip on the right
    option is dropped. The options are shown in the order ``_order`` gives, and the
    question's answer and slips are kept as positions in that order."""
    id = _checked_id(id)
    prompt = _text(prompt, "prompt")
    advice = _text(advice, "advice")
    if not isinstance(options, list | tuple) or len(options) < 2:
        raise ValueError(f"options must be a list of at least two, got {options!r}")
    options = [_text(option, "an option") for option in options]
    if len(set(options)) != len(options):
        raise ValueError(f"options must differ from each other, got {options!r}")
    count = len(options)

    def index(value, what):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
            raise ValueError(f"{what} must be an option's index, 0 to {count - 1}, got {value!r}")
        return value

    answer = index(answer, "answer")
    if slips is None:
        slips = {}
    if not isinstance(slips, dict):
        raise TypeError(f"slips must be a dict from option index to message, got {slips!r}")
    named = []
    for key, message in slips.items():
        key, message = index(key, "a slip's key"), _text(message, "a slip's message")
        if key != answer:  # an answer computed by code may land on a slip's option
            named.append((key, message))
    order = _order(id, count)
    shown = [order.index(index) for index in range(count)]  # index written -> position shown
    question = Question(
        id,
        "choice",
        prompt,
        shown[answer],
        sorted((shown[key], message) for key, message in named),
        advice,
        options=[options[index] for index in order],
    )
    _register(id, prompt)
    return question
