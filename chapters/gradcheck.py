"""Tools the chapters use but do not teach.

The lessons themselves (forward pass, derivation, backward pass) live in the
notebooks, in plain sight. This module holds only the plumbing around them:

- ``numerical_gradient``: central finite differences in float64, the third
  witness next to the hand derivation and autograd;
- ``animation_html``: a matplotlib animation as self-contained HTML with a
  stable id, so the stored notebook output is the same on every run;
- ``Exercise`` and ``check_gradient``: the exercise checker, which compares a
  learner's derivative with autograd and answers in plain words;
- ``explore``: sliders that recompute a readout (a loss, a hand gradient,
  autograd's gradient) as the learner moves them.

Importing it has no side effects.
"""

import html as html_escape
import re
from dataclasses import dataclass, field

import torch
from matplotlib.layout_engine import PlaceHolderLayoutEngine

__all__ = [
    "Exercise",
    "Verdict",
    "animation_html",
    "check_gradient",
    "explore",
    "numerical_gradient",
]


def numerical_gradient(f, x, eps=1e-6):
    """Estimate the gradient of the scalar function ``f`` at ``x``.

    Each entry of ``x`` is nudged by ``+eps`` and ``-eps`` in turn and the
    slope ``(f(x + eps) - f(x - eps)) / (2 eps)`` is recorded. The work is
    done in float64, where this estimate is good to about 1e-8.

    ``f`` takes a tensor shaped like ``x`` and returns a one-element tensor
    (or a Python number). The result has the shape of ``x``, in float64.
    """
    if not callable(f):
        raise TypeError(f"numerical_gradient: f must be a function, got {type(f).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"numerical_gradient: x must be a torch.Tensor, got {type(x).__name__}")
    if not (x.is_floating_point() and torch.isfinite(x).all()):
        raise ValueError(f"numerical_gradient: x must hold finite floating-point numbers, got {x}")
    x = x.detach().to(torch.float64)
    grad = torch.zeros_like(x)
    flat_x, flat_grad = x.view(-1), grad.view(-1)
    for i in range(flat_x.numel()):
        original = flat_x[i].item()
        flat_x[i] = original + eps
        up = _scalar(f(x))
        flat_x[i] = original - eps
        down = _scalar(f(x))
        flat_x[i] = original
        flat_grad[i] = (up - down) / (2 * eps)
    return grad


def _scalar(value):
    """``value`` as a Python float, or a clear error if it is not one number."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                "numerical_gradient: f must return a single number (a loss), "
                f"got a tensor of shape {tuple(value.shape)}; did you forget .sum()?"
            )
        return value.item()
    return float(value)


_PLAYER_ID = re.compile(r'id="_anim_img([0-9a-f]{32})"')
_FONT_AWESOME_LINK = re.compile(r"<link[^>]*font-awesome[^>]*>")
# matplotlib's player draws its buttons with Font Awesome, fetched from a CDN.
# Small inline SVG shapes need no network and no font (the buttons keep their
# aria-labels, so screen readers still read "Play", "Next frame", ...).
_LEFT, _RIGHT = "<polygon points='13,3 5,8 13,13'/>", "<polygon points='3,3 11,8 3,13'/>"
_BAR = "<rect x='{}' y='{}' width='{}' height='{}'/>".format
_BUTTON_SHAPES = {
    "fa-minus": _BAR(3, 7, 10, 2),
    "fa-fast-backward": _BAR(1, 3, 2, 10)
    + "<polygon points='9,3 3,8 9,13'/><polygon points='15,3 9,8 15,13'/>",
    "fa-step-backward": _BAR(3, 3, 2, 10) + _LEFT,
    "fa-play fa-flip-horizontal": _LEFT,
    "fa-pause": _BAR(4, 3, 3, 10) + _BAR(9, 3, 3, 10),
    "fa-play": _RIGHT,
    "fa-step-forward": _RIGHT + _BAR(11, 3, 2, 10),
    "fa-fast-forward": "<polygon points='1,3 7,8 1,13'/><polygon points='7,3 13,8 7,13'/>"
    + _BAR(13, 3, 2, 10),
    "fa-plus": _BAR(3, 7, 10, 2) + _BAR(7, 3, 2, 10),
}


def animation_html(animation, name, alt):
    """Return ``animation`` as HTML that plays in a static page.

    matplotlib's ``to_jshtml`` embeds every frame and the player's script in
    the page itself (no kernel needed). Three things are changed so that the
    page works offline, reads well with a screen reader, and is the same on
    every run (nbval compares stored outputs):

    - the random player id becomes ``name``;
    - the frame gets ``alt`` as its text, the slider a label;
    - the Font Awesome icons, which come from a CDN, become inline SVG shapes.

    A layout fixed once with ``fig.tight_layout()`` is kept as it is: left in
    place, matplotlib would lay out (and so draw) every frame twice.
    """
    if not (isinstance(name, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name)):
        raise ValueError(
            f"animation_html: name must be letters, digits and underscores, got {name!r}"
        )
    if not (isinstance(alt, str) and alt.strip()):
        raise ValueError("animation_html: alt must describe the animation in words")
    fig = animation._fig  # matplotlib offers no public way back to the figure
    if isinstance(fig.get_layout_engine(), PlaceHolderLayoutEngine):
        fig.set_layout_engine(None)
    html = animation.to_jshtml(default_mode="once")
    ids = set(_PLAYER_ID.findall(html))
    if len(ids) != 1:
        raise RuntimeError(
            f"animation_html: expected one player in matplotlib's HTML, found {len(ids)}"
        )
    html = html.replace(ids.pop(), name)
    html = _FONT_AWESOME_LINK.sub("", html)
    for icon, shape in _BUTTON_SHAPES.items():
        svg = "<svg viewBox='0 0 16 16' width='14' height='14' fill='currentColor'"
        svg += f" aria-hidden='true'>{shape}</svg>"
        html = html.replace(f'<i class="fa {icon}"></i>', svg)
    alt_text = html_escape.escape(alt, quote=True)
    html = html.replace(
        f'<img id="_anim_img{name}">', f'<img id="_anim_img{name}" alt="{alt_text}">'
    )
    return html.replace(
        f'<input id="_anim_slider{name}"',
        f'<input id="_anim_slider{name}" aria-label="Frame"',
    )


# --- Exercises -------------------------------------------------------------

RTOL, ATOL = 1e-6, 1e-8  # float64 agreement asked of an answer


@dataclass
class Exercise:
    """A derivative for the learner to write.

    ``loss`` maps named tensors to a one-element tensor; the learner writes a
    function taking the same names and returning the gradient of ``loss`` with
    respect to the one named ``wrt``. ``cases`` are the inputs it is checked
    on: dicts of numbers, lists or tensors, converted to float64.
    """

    name: str
    loss: object
    wrt: str
    cases: list
    hint: str = ""
    inputs: list = field(init=False)

    def __post_init__(self):
        if not self.cases:
            raise ValueError(f"Exercise {self.name!r}: give at least one case")
        self.inputs = [
            {key: torch.as_tensor(value, dtype=torch.float64) for key, value in case.items()}
            for case in self.cases
        ]
        for case in self.inputs:
            if self.wrt not in case:
                raise ValueError(f"Exercise {self.name!r}: a case has no input {self.wrt!r}")

    def expected(self, case):
        """Autograd's gradient of the loss with respect to ``wrt`` on ``case``."""
        leaves = {
            key: value.clone().requires_grad_(key == self.wrt) for key, value in case.items()
        }
        (grad,) = torch.autograd.grad(self.loss(**leaves), leaves[self.wrt])
        return grad

    def call_signature(self):
        return ", ".join(self.inputs[0])


class Verdict:
    """What the checker says: true when the answer is correct, shown as plain words."""

    def __init__(self, passed, message):
        self.passed, self.message = passed, message

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return self.message


def check_gradient(exercise, answer, must_pass=False):
    """Compare ``answer`` (the learner's derivative) with autograd on every case.

    Returns a ``Verdict``: shown in a notebook it reads as a sentence, and it is
    true only when the answer is correct. It never raises on a learner's
    mistake; with ``must_pass=True`` (used for reference solutions) a wrong
    answer raises AssertionError with the same sentence.
    """
    verdict = _judge(exercise, answer)
    if must_pass and not verdict:
        raise AssertionError(verdict.message)
    return verdict


def _judge(exercise, answer):
    name, wrt = exercise.name, exercise.wrt
    signature = exercise.call_signature()
    if answer is None:
        return Verdict(False, f"{name}: not attempted yet. Write your function and run its cell.")
    if not callable(answer):
        return Verdict(
            False,
            f"{name}: expected a function of ({signature}) that returns dL/d{wrt}, "
            f"got {_kind(answer)}. Pass the function itself, without calling it.",
        )
    for number, case in enumerate(exercise.inputs, start=1):
        where = f"on case {number} of {len(exercise.inputs)} ({_describe(case)})"
        arguments = {key: value.clone() for key, value in case.items()}
        try:
            got = answer(**arguments)
        except NotImplementedError:
            return Verdict(
                False,
                f"{name}: not attempted yet. Replace `raise NotImplementedError` "
                "with your formula and run the cell again.",
            )
        # The learner's code: whatever it raises is reported in words, never re-raised.
        except Exception as error:  # noqa: BLE001
            return Verdict(
                False,
                f"{name}: your function raised {type(error).__name__}: {error}\n"
                f"It is called as answer({signature}) with float64 tensors; {where}.",
            )
        expected = exercise.expected(case)
        problem = _problem(got, expected, wrt)
        if problem:
            return Verdict(False, f"{name}: {problem} ({where}).")
        error = (got - expected).abs()
        if not torch.allclose(got, expected, rtol=RTOL, atol=ATOL):
            index = _index(error.argmax(), expected.shape)
            hint = _hint(got, expected, case) or exercise.hint
            return Verdict(
                False,
                f"{name}: not yet. {where[0].upper() + where[1:]}, the largest error is "
                f"{error.max().item():.4g} at index {index}: expected "
                f"{expected[index].item():.6g}, got {got[index].item():.6g}."
                + (f"\nHint: {hint}" if hint else ""),
            )
    return Verdict(
        True,
        f"{name}: correct. Your gradient matches autograd on all {len(exercise.inputs)} cases.",
    )


def _kind(value):
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, bool | int | float):
        return f"a number ({value!r})"
    return f"a {type(value).__name__}"


def _describe(case):
    """Small inputs by value, large ones by shape."""
    parts = []
    for key, value in case.items():
        if value.numel() <= 4:
            parts.append(f"{key}={_rounded(value.tolist())}")
        else:
            parts.append(f"{key} of shape {tuple(value.shape)}")
    return ", ".join(parts)


def _rounded(values):
    """Nested lists of floats with four significant digits, for messages."""
    if isinstance(values, list):
        return [_rounded(value) for value in values]
    return float(f"{values:.4g}")


def _problem(got, expected, wrt):
    """What makes ``got`` unusable as a gradient, in words; None if nothing does."""
    want = tuple(expected.shape)
    if got is None:
        return "your function returned None: did you forget `return`?"
    if not isinstance(got, torch.Tensor):
        return (
            f"expected a torch.Tensor of shape {want}, got {_kind(got)}. "
            "Build the gradient from the input tensors so it stays a tensor"
        )
    if not got.is_floating_point():
        return (
            f"expected a float64 tensor, got dtype {got.dtype}. "
            "Integer or boolean tensors cannot hold a gradient"
        )
    if got.dtype != torch.float64:
        return (
            f"expected a float64 tensor (the inputs are float64), got dtype {got.dtype}. "
            "Compute it from the inputs instead of writing torch.tensor(...)"
        )
    if tuple(got.shape) != want:
        return f"expected a gradient of shape {want} for {wrt}, got {tuple(got.shape)}" + (
            _shape_hint(tuple(got.shape), want)
        )
    if not torch.isfinite(got).all():
        index = _index((~torch.isfinite(got)).int().argmax(), got.shape)
        return f"your gradient holds {got[index].item()} at index {index}"
    return None


def _shape_hint(got, want):
    if len(got) == len(want) and got[1:] == want[1:] and got[0] > want[0] == 1:
        return ": did you forget to sum over the batch (the rows)?"
    if got == want[::-1] and len(want) == 2:
        return ": did you forget a transpose, or sum over the wrong dimension?"
    return ": a gradient has the shape of what it is taken with respect to"


def _hint(got, expected, case):
    """A guess at a common slip, from how ``got`` relates to ``expected``."""
    if torch.allclose(got, -expected, rtol=RTOL, atol=ATOL):
        return "every entry has the wrong sign. Check the sign of each factor of the chain rule."
    batch = max((value.shape[0] for value in case.values() if value.dim()), default=1)
    # The batch size first: with two rows, a mean where a sum belongs is also "half".
    for factor, words in [
        (batch, f"{batch} times the answer: a mean divides by the batch size."),
        (1 / batch, f"1/{batch} of the answer: a sum does not divide by the batch size."),
        (2.0, "twice the answer: is a factor 2 counted twice?"),
        (0.5, "half the answer: did you drop the 2 from the square's derivative?"),
    ]:
        if factor != 1 and torch.allclose(got, factor * expected, rtol=RTOL, atol=ATOL):
            return f"your gradient is {words}"
    return ""


def _index(flat, shape):
    """The position of flat index ``flat`` in a tensor of ``shape``, as a tuple."""
    return tuple(int(i) for i in torch.unravel_index(flat, tuple(shape)))


# --- Widgets ---------------------------------------------------------------


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


def explore(readout, **sliders):
    """Sliders for the inputs of ``readout``, and a table of what it returns.

    ``readout`` takes one float per slider (by name) and returns a dict from
    label to number. Each slider is given as ``name=(low, high, start)``.
    """
    import ipywidgets

    if not callable(readout):
        raise TypeError(f"explore: readout must be a function, got {_kind(readout)}")
    for key, spec in sliders.items():
        if not (isinstance(spec, tuple) and len(spec) == 3 and spec[0] <= spec[2] <= spec[1]):
            raise ValueError(f"explore: slider {key} must be (low, high, start), got {spec!r}")

    def table(values):
        rows = "".join(
            f"<tr><th scope='row'>{html_escape.escape(label)}</th><td>{_number(value)}</td></tr>"
            for label, value in readout(**values).items()
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
    return _Explorer(ipywidgets.VBox([*controls.values(), output]), initial)
