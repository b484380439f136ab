"""Unit tests for chapters/figures.py: what each figure draws, and what it says to bad input."""

import matplotlib
import pytest
import torch
from matplotlib import pyplot as plt

from figures import fit_and_loss_figure, gradient_flow_figure, gradient_norms_figure

matplotlib.use("Agg")

STAGES = [
    ("linear 1", "S_1", ["W_1", "b_1"]),
    ("sigmoid", "H", []),
    ("linear 2", r"\hat Y", ["W_2", "b_2"]),
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_gradient_flow_labels_every_value_and_every_gradient():
    fig = gradient_flow_figure(STAGES)
    drawn = texts(fig)
    for box in ("$X$", "linear 1", "sigmoid", "linear 2", "loss $L$"):
        assert box in drawn, f"no box labelled {box!r} in {drawn}"
    for value in ("X", "S_1", "H", r"\hat Y"):
        assert f"${value}$" in drawn, f"no forward arrow labelled {value}"
        assert rf"$\partial L/\partial {value}$" in drawn, f"no upstream gradient for {value}"
    assert r"$\partial L/\partial W_1$, $\partial L/\partial b_1$" in drawn
    assert r"$\partial L/\partial W_2$, $\partial L/\partial b_2$" in drawn
    # 4 links, each with a forward and a backward arrow, and 2 parameter arrows.
    arrows = [t for t in fig.axes[0].texts if getattr(t, "arrow_patch", None)]
    assert len(arrows) == 4 * 2 + 2
    fig.canvas.draw()  # the maths must be valid mathtext


def test_gradient_flow_sizes_itself_to_the_number_of_stages():
    short = gradient_flow_figure(STAGES[:1]).get_size_inches()[0]
    long = gradient_flow_figure(STAGES).get_size_inches()[0]
    assert long > short


@pytest.mark.parametrize(
    "stages, kwargs, message",
    [
        ([], {}, "stages must be a non-empty list"),
        ("linear", {}, "stages must be a non-empty list"),
        ([("linear", "S")], {}, r"stage 1 must be \(label, output, parameters\)"),
        ([("linear", "", [])], {}, "in stage 1, the label, the output"),
        ([("linear", "S", "W")], {}, r"parameters in a list"),
        ([("linear", "S", [3])], {}, "must be non-empty strings"),
        (STAGES, {"loss_name": ""}, "loss_name must be a non-empty string"),
    ],
)
def test_gradient_flow_explains_bad_input(stages, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradient_flow_figure(stages, **kwargs)


def fit_inputs():
    x = torch.linspace(-1, 1, 5).reshape(5, 1)
    y = x**2
    grid = torch.linspace(-1, 1, 9)
    fits = {"network": grid**2, "neuron": 0 * grid + 0.4}
    losses = {"network": [1.0, 0.5, 0.1], "neuron": [1.0, 0.8, 0.8]}
    return x, y, grid, fits, losses


def test_fit_and_loss_draws_data_each_fit_and_each_loss_curve():
    x, y, grid, fits, losses = fit_inputs()
    fig = fit_and_loss_figure(x, y, grid, fits, losses)
    ax_fit, ax_loss = fig.axes
    assert len(ax_fit.collections[0].get_offsets()) == 5, "the 5 data points"
    assert [line.get_label() for line in ax_fit.lines] == ["network", "neuron"]
    assert [line.get_label() for line in ax_loss.lines] == ["network", "neuron"]
    assert ax_fit.lines[0].get_ydata().tolist() == pytest.approx((grid**2).tolist())
    assert ax_loss.lines[1].get_ydata().tolist() == [1.0, 0.8, 0.8]
    assert ax_loss.get_yscale() == "log"
    assert "step" in ax_loss.get_xlabel() and "loss" in ax_loss.get_ylabel()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.update(y=a["y"][:3]), "x has 5 values but y has 3"),
        (lambda a: a["losses"].pop("neuron"), "must name the same models"),
        (lambda a: a.update(fits={}, losses={}), "must name the same models"),
        (lambda a: a["fits"].update(neuron=[0.0, 1.0]), r"fits\['neuron'\] has 2 values"),
        (lambda a: a.update(x="abc"), "x must hold numbers"),
    ],
)
def test_fit_and_loss_explains_bad_input(change, message):
    x, y, grid, fits, losses = fit_inputs()
    arguments = dict(x=x, y=y, x_curve=grid, fits=fits, losses=losses)
    change(arguments)
    with pytest.raises(ValueError, match=message):
        fit_and_loss_figure(**arguments)


def test_gradient_norms_draws_each_stack_by_layer_on_a_log_axis():
    fig = gradient_norms_figure({"sigmoid": [1e-3, 1e-2, 1.0], "relu": torch.tensor([5.0, 4.0])})
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["sigmoid"].get_xdata()) == [1, 2, 3]
    assert list(lines["sigmoid"].get_ydata()) == [1e-3, 1e-2, 1.0]
    assert list(lines["relu"].get_ydata()) == [5.0, 4.0]


@pytest.mark.parametrize(
    "norms, message",
    [
        ({}, "non-empty dict"),
        ({"a": [1.0, 0.0]}, "positive numbers"),
        ({"a": []}, "positive numbers"),
        ({"a": ["x"]}, "must hold numbers"),
    ],
)
def test_gradient_norms_explains_bad_input(norms, message):
    with pytest.raises(ValueError, match=message):
        gradient_norms_figure(norms)
