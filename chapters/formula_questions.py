"""Questions answered with a formula: the reader types a derived formula, the page says
whether it is right, which common mistake it is, or what does not fit.

``ask_formula`` makes one. When the notebook runs, the right formula is evaluated on the
page's own tensors (``on``) and asserted equal to the page's own result (``equals``,
which the page has checked against autograd). Then every name is drawn at random, twice,
with sizes that all differ and none equal to 1, so that no coincidence of the page's
example can pass a wrong formula; the right formula's values, and the values of each
mistake, on those draws go into the page. In the book, ``_ext/question_static/
formulas.js`` evaluates what the reader types on the same draws and compares; in
JupyterLab, the widget does the same with ``formulas.evaluate``. The same text gets the
same verdict in both (``tests/test_formulas_browser.py``).

A mistake is either one of the question's own (a formula, such as ``G @ W`` for a
transpose on the wrong side) or one of the usual ones, found from the answer's values:
a sign, a factor 2, half, ÷N, ×N, the transpose, a missing sum over the batch, a lost
dimension. Mistakes whose values coincide with the answer's on the draws are dropped;
mistakes that coincide with each other are named together.

Importing it has no side effects; ipywidgets is imported when a question is shown.
"""

import html as html_escape
import json

import torch
from formulas import SYNTAX, FormulaError, evaluate, size_letters
from questions import (
    CHECK,
    CORRECT,
    NOT_QUITE,
    OR,
    TITLE,
    Question,
    _checked_id,
    _register,
    _text,
)

__all__ = ["ask_formula"]

SIZES = {"N": 5, "D": 3, "K": 4, "J": 6, "V": 7}  # distinct, none 1: no coincidence
DRAWS = 2  # random draws of every name
DECIMALS = 2  # a drawn entry's decimals: short pages, the same floats in both evaluators
RTOL = 1e-9  # agreement of two evaluations of equal formulas, in float64
USUAL = {
    "sign": "Your formula gives the answer with the wrong sign: check the sign of each factor.",
    "twice": "Your formula gives twice the answer: is a factor 2 counted twice?",
    "half": "Your formula gives half the answer: a factor 2 is missing.",
    "divided by N": "Your formula gives the answer divided by N: a sum does not divide by N "
    "(only a mean does).",
    "times N": "Your formula gives N times the answer: a mean divides by N.",
    "transpose": "Your formula gives the transpose of the answer: a transpose is on the wrong "
    "side, or missing.",
}
DROPDIM = (
    "The numbers are right, but the shape is {got} where the answer is {want}: leave out "
    "keepdim=True, or reshape."
)
BATCH_SUM = (
    "Your formula gives one row per sample, and their sum is the answer: the parameter is "
    "shared by every sample, so add up their contributions over the batch with .sum(0)."
)
KEEPDIM = (
    "The numbers are right, but the shape is {got} where the answer is {want}: keep the "
    "dimension (.sum(0, keepdim=True)), or reshape."
)
WRONG_AXIS = (
    "Your formula gives {got}, and the answer is {want}: the sum is over the wrong axis "
    "(0 adds up the rows, 1 the entries of each row)."
)
WRONG_SHAPE = (
    "Your formula gives {got}, and the answer is {want}: a gradient has the shape of what "
    "it is taken with respect to."
)


def _shape_words(shape, letters):
    named = [letters.get(size, str(size)) for size in shape]
    if not named:
        return "a number"
    if len(named) == 1:
        return f"a vector of {named[0]} (one axis)"
    return "×".join(named)


def _other_axis(shape, wanted):
    """A sum kept over the other axis: N×1 where the answer is 1×K, or the reverse."""
    if len(shape) != 2 or len(wanted) != 2 or (wanted[0] == 1) == (wanted[1] == 1):
        return False
    kept = wanted.index(1)  # the axis the right sum runs over
    return shape[kept] != 1 and shape[1 - kept] == 1


def _close(got, want):
    return got.shape == want.shape and bool(
        (torch.abs(got - want) <= RTOL * (1 + torch.abs(want))).all()
    )


def _draw(shapes, sizes, unit, generator):
    """One random value of every name: entries with DECIMALS decimals, none 0; the names in
    ``unit`` between 0 and 1 (such as a sigmoid's output), the others around 0."""
    values = {}
    for name, shape in shapes.items():
        size = [sizes[letter] for letter in shape]
        if name in unit:
            value = 0.05 + 0.9 * torch.rand(size, generator=generator, dtype=torch.float64)
        else:
            value = torch.randn(size, generator=generator, dtype=torch.float64)
        value = torch.round(value, decimals=DECIMALS)
        values[name] = torch.where(value == 0, torch.full_like(value, 0.01), value)
    for letter in sorted({letter for shape in shapes.values() for letter in shape}):
        values.setdefault(letter, torch.tensor(float(sizes[letter]), dtype=torch.float64))
    return values


def _page_sizes(shapes, on):
    """The page's own size of each letter, read off its tensors; they must agree."""
    sizes = {}
    for name, shape in shapes.items():
        value = on[name]
        if value.dim() != len(shape) or any(
            sizes.setdefault(letter, n) != n for letter, n in zip(shape, value.shape, strict=True)
        ):
            raise ValueError(f"{name} on the page has shape {tuple(value.shape)}, not {shape}")
    return sizes


def _usual(answer, letters):
    """The usual mistakes' values, from the answer's: (name, value) pairs."""
    found = [("sign", -answer), ("twice", 2 * answer), ("half", answer / 2)]
    size_n = next((size for size, letter in letters.items() if letter == "N"), None)
    if size_n is not None:
        found += [("divided by N", answer / size_n), ("times N", answer * size_n)]
    if answer.dim() == 2:
        found.append(("transpose", answer.T))
    return found


def _grouped(named, answers):
    """(message, values) for each mistake, those the answer's values hide dropped, those
    that coincide with each other named together."""
    groups = []
    for message, values in named:
        if all(_close(v, a) for v, a in zip(values, answers, strict=True)):
            continue
        same = next(
            (g for g in groups if all(_close(v, w) for v, w in zip(values, g[1], strict=True))),
            None,
        )
        if same is None:
            groups.append([[message], values])
        else:
            same[0].append(message)
    return [(OR.join(messages), values) for messages, values in groups]


def ask_formula(id, prompt, names, answer, on, equals, slips=None, advice=None, unit=()):
    """A question answered with a formula.

    ``names`` maps each name the reader may use to its shape in size letters
    (``{"G": ("N", "K"), "W": ("D", "K")}``; ``()`` for a number); the sizes' letters are
    names too, for their sizes (``/ N``). ``answer`` is the right formula, in the
    language of ``formulas``; ``on`` holds the page's own tensor for each name, and
    ``equals`` the page's own result there, which the right formula must give.
    ``slips`` maps the message that names a mistake to the formula that makes it;
    ``advice`` is the sentence for any other formula; ``unit`` lists the names drawn
    between 0 and 1.
    """
    id = _checked_id(id)
    prompt = _text(prompt, "prompt")
    advice = _text(advice, "advice")
    if not isinstance(names, dict) or not names:
        raise TypeError(f"names must map each name to its shape, got {names!r}")
    unknown = {letter for shape in names.values() for letter in shape} - set(SIZES)
    if unknown:
        raise ValueError(f"shapes use the size letters {sorted(SIZES)}, not {sorted(unknown)}")
    page = {name: torch.as_tensor(on[name]).detach().to(torch.float64) for name in names}
    page_sizes = _page_sizes(names, page)
    page.update({k: torch.tensor(float(n), dtype=torch.float64) for k, n in page_sizes.items()})
    got = evaluate(answer, page)
    torch.testing.assert_close(
        got,
        torch.as_tensor(equals).detach().to(torch.float64),
        rtol=1e-5,
        atol=1e-7,
        msg=lambda m: f"the formula {answer} does not give the page's own result: {m}",
    )
    used = {letter for shape in names.values() for letter in shape}
    sizes = {letter: SIZES[letter] for letter in sorted(used)}  # sorted: one page on every run
    letters = size_letters(sizes) if sizes else {}
    generator = torch.Generator().manual_seed(int.from_bytes(id.encode()[:8].ljust(8, b"-")))
    draws = [_draw(names, sizes, set(unit), generator) for _ in range(DRAWS)]
    answers = [evaluate(answer, draw, letters) for draw in draws]
    named = []
    for message, formula in (slips or {}).items():
        message = _text(message, "a slip's message")
        try:
            named.append((message, [evaluate(formula, draw, letters) for draw in draws]))
        except FormulaError as error:
            raise ValueError(
                f"the slip formula {formula!r} cannot be evaluated: {error}"
            ) from None
    values = [_usual(a, letters) for a in answers]
    for index, (name, _) in enumerate(values[0]):
        named.append((USUAL[name], [draw[index][1] for draw in values]))
    question = FormulaQuestion(
        id, prompt, names, letters, draws, answers, _grouped(named, answers), advice
    )
    _register(id, prompt)
    return question


class FormulaQuestion:
    """One formula question: its form for the book, its widget for JupyterLab."""

    def __init__(self, id, prompt, names, letters, draws, answers, slips, advice):
        self.id, self.prompt, self.names, self.letters = id, prompt, names, letters
        self.draws, self.answers, self.slips, self.advice = draws, answers, slips, advice

    def check(self, typed):
        """(verdict, message) for a typed formula: "correct", "slip", "advice" or "invalid"."""
        try:
            got = [evaluate(typed, draw, self.letters) for draw in self.draws]
        except FormulaError as error:
            return "invalid", str(error)
        if all(_close(g, a) for g, a in zip(got, self.answers, strict=True)):
            return "correct", CORRECT
        for message, values in self.slips:
            if all(_close(g, v) for g, v in zip(got, values, strict=True)):
                return "slip", f"{NOT_QUITE} {message}"
        pairs = list(zip(got, self.answers, strict=True))
        want = _shape_words(self.answers[0].shape, self.letters)
        have = _shape_words(got[0].shape, self.letters)
        if all(g.numel() == a.numel() and _close(g.reshape(a.shape), a) for g, a in pairs):
            words = DROPDIM if got[0].dim() > self.answers[0].dim() else KEEPDIM
            return "slip", f"{NOT_QUITE} {words.format(got=have, want=want)}"
        if all(
            g.dim() == 2
            and a.numel() == g.shape[1]
            and g.shape[0] != 1
            and _close(g.sum(0).reshape(a.shape), a)
            for g, a in pairs
        ):
            return "slip", f"{NOT_QUITE} {BATCH_SUM}"
        shape, wanted = tuple(got[0].shape), tuple(self.answers[0].shape)
        if _other_axis(shape, wanted):
            return "advice", f"{NOT_QUITE} {WRONG_AXIS.format(got=have, want=want)}"
        if shape != wanted:
            return "advice", f"{NOT_QUITE} {WRONG_SHAPE.format(got=have, want=want)}"
        return "advice", f"{NOT_QUITE} {self.advice}"

    def listed_names(self):
        """ "G (N×K), W (D×K)": the names the reader may use, with their shapes."""
        return ", ".join(
            f"{name} ({_shape_words(value.shape, self.letters)})"
            for name, value in self.draws[0].items()
        )

    def html(self):
        e = html_escape.escape
        name = f"question-{self.id}"

        data = {
            "kind": "formula",
            "names": json.dumps(
                {key: [draw[key].tolist() for draw in self.draws] for key in self.draws[0]}
            ),
            "letters": json.dumps({str(size): letter for size, letter in self.letters.items()}),
            "answer": json.dumps([a.tolist() for a in self.answers]),
            "slips": json.dumps(
                [[m, [v.tolist() for v in values]] for m, values in self.slips],
                ensure_ascii=False,
            ),
            "advice": self.advice,
        }
        attributes = " ".join(f'data-{key}="{e(value)}"' for key, value in data.items())
        return (
            f'<form class="question" id="{name}" {attributes}>'
            f'<p class="question-title">{TITLE}</p>'
            f'<label class="question-prompt" for="{name}-answer">{e(self.prompt)}</label>'
            f'<p class="question-names" id="{name}-names">{e(self.listed_names())}</p>'
            f'<p class="question-precision" id="{name}-syntax">{e(SYNTAX)}</p>'
            f'<div class="question-row"><input type="text" class="question-formula" '
            f'id="{name}-answer" autocomplete="off" autocapitalize="off" autocorrect="off" '
            f'spellcheck="false" aria-describedby="{name}-names {name}-syntax">'
            f'<button type="submit">{CHECK}</button></div>'
            f'<p class="question-feedback" id="{name}-feedback" role="status" '
            f'aria-live="polite"></p></form>'
        )

    def widget(self):
        import ipywidgets

        feedback = ipywidgets.HTML("")
        field = ipywidgets.Text(continuous_update=False, placeholder="G @ W.T")
        button = ipywidgets.Button(description=CHECK)

        def show(_change=None):
            _verdict, message = self.check(field.value)
            feedback.value = f"<b>{html_escape.escape(message)}</b>"

        field.observe(show, names="value")
        button.on_click(show)
        prompt = ipywidgets.HTML(
            f"<b>{TITLE}</b><br>{html_escape.escape(self.prompt)}<br>"
            f"{html_escape.escape(self.listed_names())}<br>{html_escape.escape(SYNTAX)}"
        )
        return ipywidgets.VBox([prompt, field, button, feedback])

    # Shown as every question is: the form in the book, the widget in JupyterLab.
    _repr_mimebundle_ = Question._repr_mimebundle_
