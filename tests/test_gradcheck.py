"""Unit tests for chapters/gradcheck.py: right answers, wrong answers, bad input."""

import re
import sys
from pathlib import Path

import matplotlib
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "chapters"))
from gradcheck import (  # noqa: E402
    Exercise,
    animation_html,
    check_gradient,
    explore,
    numerical_gradient,
)

matplotlib.use("Agg")


# --- numerical_gradient ------------------------------------------------------


def test_numerical_gradient_matches_a_known_derivative():
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda v: (v**3).sum(), x)
    assert grad.dtype == torch.float64 and grad.shape == x.shape
    torch.testing.assert_close(grad, 3 * x.double() ** 2, rtol=1e-7, atol=1e-7)


def test_numerical_gradient_leaves_its_input_alone():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    numerical_gradient(lambda v: (v**2).sum(), x)
    assert x.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "f, x, message",
    [
        (lambda v: v.sum(), [1.0, 2.0], "x must be a torch.Tensor, got list"),
        ("not a function", torch.ones(2), "f must be a function, got str"),
        (lambda v: v.sum(), torch.ones(2, dtype=torch.int64), "finite floating-point"),
        (lambda v: v.sum(), torch.tensor([1.0, float("nan")]), "finite floating-point"),
        (lambda v: v**2, torch.ones(2), r"got a tensor of shape \(2,\); did you forget .sum\(\)"),
    ],
)
def test_numerical_gradient_explains_bad_input(f, x, message):
    with pytest.raises((TypeError, ValueError), match=message):
        numerical_gradient(f, x)


# --- animation_html ----------------------------------------------------------


def small_animation():
    from matplotlib import pyplot as plt
    from matplotlib.animation import FuncAnimation

    fig, ax = plt.subplots(figsize=(2, 2), dpi=40)
    (line,) = ax.plot([0, 1], [0, 0])
    animation = FuncAnimation(fig, lambda i: line.set_ydata([0, i]), frames=3)
    plt.close(fig)
    return animation


def test_animation_html_is_stable_self_contained_and_labelled():
    first = animation_html(small_animation(), "demo", alt='a "line" rising')
    second = animation_html(small_animation(), "demo", alt='a "line" rising')
    assert first == second, "two runs must store the same output for nbval"
    assert "http" not in first, "the player must load nothing from the network"
    assert 'class="fa' not in first, "Font Awesome icons come from a CDN"
    assert '<img id="_anim_imgdemo" alt="a &quot;line&quot; rising">' in first
    assert '<input id="_anim_sliderdemo" aria-label="Frame"' in first
    assert "animdemo.next_frame()" in first


def test_animation_html_draws_each_frame_once_after_tight_layout():
    animation = small_animation()
    fig = animation._fig
    fig.tight_layout()
    draws = []
    fig.canvas.mpl_connect("draw_event", draws.append)
    animation_html(animation, "demo", alt="a line rising")
    assert len(draws) == 3, f"3 frames, {len(draws)} draws"


@pytest.mark.parametrize(
    "name, alt, message",
    [("two words", "alt", "name must be letters"), ("ok", " ", "alt must describe")],
)
def test_animation_html_explains_bad_input(name, alt, message):
    with pytest.raises(ValueError, match=message):
        animation_html(small_animation(), name, alt=alt)


# --- check_gradient ----------------------------------------------------------

MEAN = Exercise(
    name="Mean squared error",
    loss=lambda w, x, y: ((y - w * x) ** 2).mean(),
    wrt="w",
    cases=[
        {"w": [3.0], "x": [2.0, 1.0, -1.0], "y": [2.0, 0.5, 1.0]},
        {"w": [-0.5], "x": [0.3, 2.0, 4.0], "y": [1.0, -1.0, 2.0]},
    ],
)
MATMUL = Exercise(
    name="Matrix product",
    loss=lambda x, w, y: ((y - x @ w) ** 2).sum(),
    wrt="w",
    cases=[{"x": [[2.0], [1.0]], "w": [[3.0, 1.0]], "y": [[5.0, 2.0], [2.5, 2.0]]}],
    hint="dL/dW = X^T dL/dZ",
)
BIAS = Exercise(
    name="Bias",
    loss=lambda x, b, y: ((y - (x + b)) ** 2).sum(),
    wrt="b",
    cases=[{"x": [[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]], "b": [[0.5, -0.5]], "y": torch.ones(3, 2)}],
)


def right_mean(w, x, y):
    return (-2 * (y - w * x) * x).mean(dim=0, keepdim=True)


def test_a_correct_answer_passes():
    verdict = check_gradient(MEAN, right_mean)
    assert verdict
    assert repr(verdict).startswith("Mean squared error: correct.")
    assert "on all 2 cases" in repr(verdict)


def test_must_pass_turns_a_wrong_answer_into_an_assertion_error():
    assert check_gradient(MEAN, right_mean, must_pass=True)
    with pytest.raises(AssertionError, match="wrong sign"):
        check_gradient(MEAN, lambda w, x, y: -right_mean(w, x, y), must_pass=True)


def raises_not_implemented(w, x, y):
    raise NotImplementedError


def raises_value_error(w, x, y):
    raise ValueError("math domain error")


WRONG_ANSWERS = {
    "sign flipped": (MEAN, lambda w, x, y: -right_mean(w, x, y), "every entry has the wrong sign"),
    "factor 2 dropped": (MEAN, lambda w, x, y: right_mean(w, x, y) / 2, "half the answer"),
    "sum, not mean": (MEAN, lambda w, x, y: 3 * right_mean(w, x, y), "a mean divides by"),
    "other value": (
        MATMUL,
        lambda x, w, y: torch.zeros_like(w),
        r"largest error is 5 at index \(0, 0\): expected 5, got 0.\nHint: dL/dW = X\^T dL/dZ",
    ),
    "transpose dropped": (
        MATMUL,
        lambda x, w, y: (-2 * (y - x @ w)).T @ x,
        r"shape \(1, 2\) for w, got \(2, 1\): did you forget a transpose, or sum over",
    ),
    "mean where a sum belongs, batch of 2": (
        MATMUL,
        lambda x, w, y: x.T @ (-2 * (y - x @ w)) / 2,
        "1/2 of the answer: a sum does not divide by the batch size",
    ),
    "one-row weight, wrong shape": (
        MATMUL,
        lambda x, w, y: torch.zeros(1, 3, dtype=torch.float64),
        r"shape \(1, 2\) for w, got \(1, 3\): a gradient has the shape of what it is taken",
    ),
    "bias not summed": (
        BIAS,
        lambda x, b, y: -2 * (y - (x + b)),
        r"shape \(1, 2\) for b, got \(3, 2\): did you forget to sum over the batch",
    ),
}


@pytest.mark.parametrize("exercise, answer, message", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS)
def test_a_wrong_answer_says_what_is_wrong(exercise, answer, message):
    verdict = check_gradient(exercise, answer)
    assert not verdict
    assert re.search(message, repr(verdict)), f"{message!r} not in {verdict!r}"


BAD_INPUTS = {
    "None": (None, "not attempted yet. Write your function"),
    "unfilled stub": (raises_not_implemented, "not attempted yet. Replace `raise"),
    "a tensor, not a function": (torch.ones(1), "expected a function of (w, x, y)"),
    "function raises": (raises_value_error, "raised ValueError: math domain error"),
    "returns None": (lambda w, x, y: None, "returned None: did you forget `return`"),
    "returns a number": (lambda w, x, y: 16.0, "got a number (16.0)"),
    "returns a list": (lambda w, x, y: [16.0], "got a list"),
    "integer dtype": (lambda w, x, y: right_mean(w, x, y).long(), "dtype torch.int64"),
    "float32": (lambda w, x, y: right_mean(w, x, y).float(), "dtype torch.float32"),
    "NaN": (lambda w, x, y: right_mean(w, x, y) * float("nan"), "holds nan at index (0,)"),
    "inf": (lambda w, x, y: right_mean(w, x, y) / 0, "holds inf at index (0,)"),
    "wrong arguments": (lambda weight: weight, "unexpected keyword argument 'w'"),
}


@pytest.mark.parametrize("answer, message", BAD_INPUTS.values(), ids=BAD_INPUTS)
def test_bad_input_gets_a_clear_message_not_a_traceback(answer, message):
    verdict = check_gradient(MEAN, answer)
    assert not verdict
    assert message in repr(verdict), repr(verdict)
    assert "Traceback" not in repr(verdict)


def test_messages_name_the_case_that_failed():
    verdict = check_gradient(MEAN, lambda w, x, y: -right_mean(w, x, y))
    assert "case 1 of 2 (w=[3.0], x=[2.0, 1.0, -1.0], y=[2.0, 0.5, 1.0])" in repr(verdict)


def test_messages_round_the_inputs_they_show():
    exercise = Exercise(
        name="Rounded",
        loss=lambda w, x: (w * x).sum(),
        wrt="w",
        cases=[{"w": [0.123456789], "x": [-1.6052762948770103]}],
    )
    assert "(w=[0.1235], x=[-1.605])" in repr(check_gradient(exercise, lambda w, x: w))


def test_an_exercise_without_its_input_is_refused():
    with pytest.raises(ValueError, match="has no input 'w'"):
        Exercise(name="broken", loss=lambda x: x.sum(), wrt="w", cases=[{"x": [1.0]}])


# --- explore -----------------------------------------------------------------


def readout(w, x):
    return {"loss": (w * x) ** 2, "dL/dw": 2 * w * x**2}


def test_explore_shows_its_start_values_without_a_kernel():
    bundle = explore(readout, w=(-4.0, 4.0, 3.0), x=(0.0, 2.0, 2.0))._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert "w = 3, x = 2" in html
    assert "<th scope='row'>loss</th><td>36.0000</td>" in html
    assert "<th scope='row'>dL/dw</th><td>24.0000</td>" in html


def test_explore_updates_the_readout_when_a_slider_moves():
    explorer = explore(readout, w=(-4.0, 4.0, 3.0), x=(0.0, 2.0, 2.0))
    *sliders, table = explorer.widget.children
    sliders[0].value = 1.0
    assert "<td>4.0000</td>" in table.value and "w = 1, x = 2" in table.value
    sliders[0].value, sliders[1].value = -1.0, 0.0  # dL/dw = 2 * (-1) * 0 = -0.0
    assert "<td>-0.0000</td>" not in table.value and "<td>0.0000</td>" in table.value
    sliders[0].value, sliders[1].value = 0.5, 0.001  # dL/dw = 2 * 0.5 * 1e-6
    assert "<td>1.000e-06</td>" in table.value


@pytest.mark.parametrize("spec", [(0.0, 1.0), (0.0, 1.0, 5.0), "3"])
def test_explore_explains_a_bad_slider(spec):
    with pytest.raises(ValueError, match=r"slider w must be \(low, high, start\)"):
        explore(readout, w=spec)
