"""Sliders that recompute a readout (a loss, a hand gradient, autograd's gradient).

In JupyterLab the sliders are widgets, and ``readout`` (a Python function) recomputes
every row. The book has no kernel: there, the rows given as ``formulas`` (in the language
of ``formulas.py``, the formulas the page derived) move with the sliders, recomputed in
the page by ``_ext/question_static/formulas.js``; rows without a formula (autograd's) are
JupyterLab's only. When the notebook runs, each formula is asserted equal to the
readout's row of the same label, at the sliders' start and at random settings, so the
book's numbers are the page's.

Importing it has no side effects; ipywidgets is imported when sliders are made.
"""

import html as html_escape
import json
import random

import torch
from formulas import evaluate

__all__ = ["explore"]

SETTINGS_CHECKED = 8  # random slider settings at which each formula meets the readout


class _Explorer:
    """Sliders and a readout. JupyterLab shows the live widget; a page without
    a kernel (the book, nbval) gets the readout at the sliders' start values."""

    def __init__(self, widget, initial_html):
        self.widget, self.initial_html = widget, initial_html

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.initial_html
        bundle["text/plain"] = "Sliders: run this notebook in JupyterLab to move them."
        return bundle


def _number(value):
    """Four decimals; tiny values in scientific notation, so they do not read as 0."""
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.3e}"
    return f"{value + 0.0:.4f}"  # + 0.0 turns -0.0 into 0.0


def _formula_values(steps, formulas, constants, settings):
    """The formulas' values at ``settings``: the steps first, each a name the next may use."""
    names = {key: torch.as_tensor(v, dtype=torch.float64) for key, v in constants.items()}
    names.update({key: torch.tensor(float(v), dtype=torch.float64) for key, v in settings.items()})
    for name, formula in steps.items():
        names[name] = evaluate(formula, names)
    return {label: evaluate(formula, names) for label, formula in formulas.items()}


def _checked_formulas(readout, steps, formulas, constants, sliders):
    """Assert that every formula gives its readout row, at the start and at random settings."""
    missing = set(formulas) - set(readout(**{k: spec[2] for k, spec in sliders.items()}))
    if missing:
        raise ValueError(f"explore: the readout has no row {sorted(missing)} for its formula")
    rng = random.Random(0)
    settings = [{k: spec[2] for k, spec in sliders.items()}]
    settings += [
        {k: rng.uniform(low, high) for k, (low, high, _) in sliders.items()}
        for _ in range(SETTINGS_CHECKED)
    ]
    for setting in settings:
        rows = readout(**setting)
        for label, value in _formula_values(steps, formulas, constants, setting).items():
            torch.testing.assert_close(
                value.reshape(()),
                torch.tensor(float(rows[label]), dtype=torch.float64),
                rtol=1e-9,
                atol=1e-12,
                msg=lambda m, label=label, setting=setting: (
                    f"explore: the formula for {label!r} is not the readout's at {setting}: {m}"
                ),
            )


def _book_html(sliders, steps, formulas, constants, table):
    """Range inputs and the table, with what the book's script needs to recompute it."""
    e = html_escape.escape
    data = {
        "kind": "explore",
        "constants": json.dumps(
            {k: torch.as_tensor(v, dtype=torch.float64).tolist() for k, v in constants.items()}
        ),
        "steps": json.dumps(list(steps.items()), ensure_ascii=False),
        "formulas": json.dumps(list(formulas.items()), ensure_ascii=False),
    }
    attributes = " ".join(f'data-{key}="{e(value)}"' for key, value in data.items())
    inputs = "".join(
        f'<label class="explore-slider"><span>{e(key)}</span><input type="range" '
        f'name="{e(key)}" min="{low!r}" max="{high!r}" step="{(high - low) / 100!r}" '
        f'value="{start!r}"></label>'
        for key, (low, high, start) in sliders.items()
    )
    return f'<div class="explore" {attributes}>{inputs}{table}</div>'


def explore(readout, formulas=None, steps=None, constants=None, **sliders):
    """Sliders for the inputs of ``readout``, and a table of what it returns.

    ``readout`` takes one float per slider (by name) and returns a dict from
    label to number. Each slider is given as ``name=(low, high, start)``.
    ``formulas`` (optional) maps some of the readout's labels to the formula that
    gives them, in the language of ``formulas.py``, over the sliders' names, the
    ``constants`` (name -> number or tensor) and the ``steps`` (name -> formula,
    each one's value a name for the next): those rows move in the book too.
    """
    import ipywidgets

    if not callable(readout):
        raise TypeError(f"explore: readout must be a function, got a {type(readout).__name__}")
    for key, spec in sliders.items():
        if not (isinstance(spec, tuple) and len(spec) == 3 and spec[0] <= spec[2] <= spec[1]):
            raise ValueError(f"explore: slider {key} must be (low, high, start), got {spec!r}")
    steps, constants = steps or {}, constants or {}
    if formulas:
        _checked_formulas(readout, steps, formulas, constants, sliders)

    def table(values, only=None):
        rows = "".join(
            f"<tr><th scope='row'>{html_escape.escape(label)}</th><td>{_number(value)}</td></tr>"
            for label, value in readout(**values).items()
            if only is None or label in only
        )
        inputs = ", ".join(f"{key} = {value:g}" for key, value in values.items())
        return f"<table><caption>{html_escape.escape(inputs)}</caption>{rows}</table>"

    controls = {
        key: ipywidgets.FloatSlider(
            value=start, min=low, max=high, step=(high - low) / 100, description=key
        )
        for key, (low, high, start) in sliders.items()
    }
    initial = table({key: control.value for key, control in controls.items()})
    output = ipywidgets.HTML(initial)

    def update(_change):
        output.value = table({key: control.value for key, control in controls.items()})

    for control in controls.values():
        control.observe(update, names="value")
    shown = initial
    if formulas:
        start = {key: control.value for key, control in controls.items()}
        shown = _book_html(sliders, steps, formulas, constants, table(start, only=formulas))
    return _Explorer(ipywidgets.VBox([*controls.values(), output]), shown)
