"""Unit tests for chapters/figures.py: what each figure draws, and what it says to bad input."""

import re

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


# --- The layout, as reviewed: each number below is one the drawing code must keep -------------

WIDTH, GAP = 2.0, 1.3  # a box's width, and the space between two boxes (data units)


def arrows(ax):
    return [t for t in ax.texts if getattr(t, "arrow_patch", None)]


def labels(ax):
    return [t for t in ax.texts if not getattr(t, "arrow_patch", None)]


def test_gradient_flow_boxes_sit_in_a_row_with_their_labels_centred():
    fig = gradient_flow_figure(STAGES)
    (ax,) = fig.axes
    lefts = [i * (WIDTH + GAP) for i in range(5)]
    boxes = ax.patches
    assert [(b.get_x(), b.get_y(), b.get_width(), b.get_height()) for b in boxes] == [
        (left, 0, WIDTH, 1) for left in lefts
    ]
    for box in boxes:
        assert box.get_boxstyle().pad == pytest.approx(0.05)
        assert type(box.get_boxstyle()).__name__ == "Round"
        assert box.get_facecolor() == (1.0, 1.0, 1.0, 1.0)
        assert box.get_edgecolor() == (0.0, 0.0, 0.0, 1.0)
        assert box.get_linewidth() == pytest.approx(1.2)
    names = ["$X$", "linear 1", "sigmoid", "linear 2", "loss $L$"]
    for left, name in zip(lefts, names, strict=True):
        (text,) = [t for t in labels(ax) if t.get_text() == name and t.get_va() == "center"]
        assert text.get_position() == (left + WIDTH / 2, 0.5)
        assert (text.get_ha(), text.get_va(), text.get_fontsize()) == ("center", "center", 9)
    assert fig.get_size_inches().tolist() == pytest.approx([0.42 * (5 * 3.3 - 1.3) + 0.3, 2.3])
    assert fig.dpi == 96 and gradient_flow_figure(STAGES, dpi=100).dpi == 100
    assert ax.get_xlim() == pytest.approx((-0.3, lefts[-1] + WIDTH + 0.3))
    assert ax.get_ylim() == pytest.approx((-1.1, 1.3))
    assert not ax.axison
    params = fig.subplotpars
    assert (params.left, params.right, params.bottom, params.top) == (0, 1, 0, 1)


def test_gradient_flow_arrows_run_forward_above_and_back_below_each_link():
    fig = gradient_flow_figure(STAGES, input_name="Z", loss_name="E")
    (ax,) = fig.axes
    lefts = [i * (WIDTH + GAP) for i in range(5)]
    links = [(lefts[i] + WIDTH + 0.08, lefts[i + 1] - 0.08) for i in range(4)]
    drawn = {(t.xyann, t.xy): t for t in arrows(ax)}
    for i, (start, end) in enumerate(links):
        forward = drawn[((start, 0.75), (end, 0.75))]
        backward = drawn[((end, 0.25), (start, 0.25))]
        for arrow, colour in ((forward, "C0"), (backward, "C3")):
            assert arrow.arrowprops["arrowstyle"] == "-|>"
            assert arrow.arrowprops["color"] == colour
            assert arrow.arrowprops["lw"] == 1.6
            assert arrow.get_text() == ""
        assert forward.arrowprops["ls"] == "-"
        assert backward.arrowprops["ls"] == ("--" if i == 0 else "-"), "only ∂L/∂X is dashed"
        middle = (start + end) / 2
        value = ["Z", "S_1", "H", r"\hat Y"][i]
        (above,) = [
            t for t in labels(ax) if t.get_text() == f"${value}$" and t.get_position()[1] > 0.5
        ]
        (below,) = [t for t in labels(ax) if t.get_text() == rf"$\partial L/\partial {value}$"]
        assert above.get_position() == (middle, 0.9)
        assert (above.get_ha(), above.get_va(), above.get_fontsize()) == ("center", "bottom", 10)
        assert above.get_color() == "C0"
        assert below.get_position() == (middle, 0.1)
        assert (below.get_ha(), below.get_va(), below.get_fontsize()) == ("center", "top", 10)
        assert below.get_color() == "C3"
    assert "loss $E$" in texts(fig)
    for left in (lefts[1], lefts[3]):  # the two linear stages have parameters
        down = drawn[((left + WIDTH / 2, -0.08), (left + WIDTH / 2, -0.6))]
        assert down.arrowprops["color"] == "C2" and down.arrowprops["ls"] == "-"
        (grads,) = [t for t in labels(ax) if t.get_position() == (left + WIDTH / 2, -0.68)]
        assert (grads.get_ha(), grads.get_va(), grads.get_fontsize()) == ("center", "top", 10)
    assert len(drawn) == 10


@pytest.mark.parametrize("name", ["input_name", "loss_name"])
@pytest.mark.parametrize("value", ["", "  ", None, 3])
def test_gradient_flow_names_must_be_non_empty_strings(name, value):
    with pytest.raises(ValueError, match=f"{name} must be a non-empty string"):
        gradient_flow_figure(STAGES, **{name: value})


def test_gradient_flow_stage_errors_name_the_stage():
    with pytest.raises(ValueError) as error:
        gradient_flow_figure([STAGES[0], ("linear", "S", ["  "])])
    assert str(error.value) == (
        "gradient_flow_figure: in stage 2, the label, the output and every parameter must be "
        "non-empty strings (parameters in a list), got ('linear', 'S', ['  '])"
    )
    with pytest.raises(ValueError) as error:
        gradient_flow_figure([STAGES[0], ("linear",)])
    assert str(error.value) == (
        "gradient_flow_figure: stage 2 must be (label, output, parameters), got ('linear',)"
    )
    with pytest.raises(ValueError) as error:
        gradient_flow_figure(None)
    assert str(error.value) == (
        "gradient_flow_figure: stages must be a non-empty list of "
        "(label, output, parameters) tuples"
    )
    assert gradient_flow_figure([["linear", "S", ("W",)]]).axes[0].patches


def test_fit_and_loss_layout_and_styles():
    x, y, grid, fits, losses = fit_inputs()
    fig = fit_and_loss_figure(x, y, grid, fits, losses)
    ax_fit, ax_loss = fig.axes
    assert ax_fit.get_subplotspec().get_geometry() == (1, 2, 0, 0), "side by side"
    assert ax_loss.get_subplotspec().get_geometry() == (1, 2, 1, 1)
    assert fig.get_size_inches().tolist() == [7, 3.2] and fig.dpi == 96
    assert fit_and_loss_figure(x, y, grid, fits, losses, dpi=50).dpi == 50
    assert fig.get_layout_engine().__class__.__name__ == "ConstrainedLayoutEngine"
    (points,) = ax_fit.collections
    assert points.get_label() == "data" and points.get_zorder() == 3
    assert points.get_sizes().tolist() == [14]
    assert points.get_facecolor().tolist() == [[0.0, 0.0, 0.0, 1.0]]
    for number, (fit_line, loss_line) in enumerate(zip(ax_fit.lines, ax_loss.lines, strict=True)):
        assert fit_line.get_color() == loss_line.get_color() == f"C{number}"
        assert loss_line.get_xdata().tolist() == [0, 1, 2]
    assert ax_fit.lines[0].get_xdata().tolist() == pytest.approx(grid.tolist())
    assert (ax_fit.get_xlabel(), ax_fit.get_ylabel()) == ("input x", "target y / prediction ŷ")
    assert (ax_loss.get_xlabel(), ax_loss.get_ylabel()) == ("step", "loss L (sum over the data)")
    assert ax_fit.get_title() == "the fit after training"
    assert ax_loss.get_title() == "the loss, step by step"
    assert ax_fit.title.get_fontsize() == ax_loss.title.get_fontsize() == 10
    fit_legend, loss_legend = ax_fit.get_legend(), ax_loss.get_legend()
    assert fit_legend.texts[0].get_fontsize() == 8 and loss_legend.texts[0].get_fontsize() == 8
    assert fit_legend._loc == 2, "upper left"
    assert [t.get_text() for t in fit_legend.texts] == ["data", "network", "neuron"]
    for ax in (ax_fit, ax_loss):
        gridline = ax.xaxis.get_gridlines()[0]
        assert gridline.get_visible() and gridline.get_alpha() == 0.3


def test_fit_and_loss_takes_tensors_arrays_and_lists_alike():
    x, y, grid, fits, losses = fit_inputs()
    as_lists = fit_and_loss_figure(
        x.reshape(-1).tolist(),
        y.numpy(),
        grid.tolist(),
        {k: v.tolist() for k, v in fits.items()},
        {k: torch.tensor(v) for k, v in losses.items()},
    )
    assert as_lists.axes[0].collections[0].get_offsets().tolist() == torch.cat([x, y], 1).tolist()


def test_fit_and_loss_errors_say_what_differs():
    x, y, grid, fits, losses = fit_inputs()
    with pytest.raises(ValueError) as error:
        fit_and_loss_figure(x, y, grid, fits, {"network": [1.0]})
    assert str(error.value) == (
        "fit_and_loss_figure: fits and losses must name the same models, "
        "got ['network', 'neuron'] and ['network']"
    )
    with pytest.raises(ValueError) as error:
        fit_and_loss_figure(x, y[:3], grid, fits, losses)
    assert str(error.value) == "fit_and_loss_figure: x has 5 values but y has 3"
    with pytest.raises(ValueError) as error:
        fit_and_loss_figure(x, y, grid, {**fits, "neuron": [0.0]}, losses)
    assert str(error.value) == "fit_and_loss_figure: fits['neuron'] has 1 values, x_curve has 9"
    with pytest.raises(ValueError) as error:
        fit_and_loss_figure(x, y, [None], fits, losses)
    assert str(error.value).startswith("fit_and_loss_figure: x_curve must hold numbers (")
    for name, bad in (
        ("y", {"y": ["a"] * 5}),
        ("fits['neuron']", {"fits": {**fits, "neuron": "a"}}),
    ):
        arguments = {"x": x, "y": y, "x_curve": grid, "fits": fits, "losses": losses, **bad}
        with pytest.raises(ValueError, match=re.escape(f"fit_and_loss_figure: {name} must hold")):
            fit_and_loss_figure(**arguments)
    assert error.value.__cause__ is None and error.value.__suppress_context__


def test_gradient_norms_draws_each_stack_by_layer_on_a_log_axis():
    fig = gradient_norms_figure({"sigmoid": [1e-3, 1e-2, 1.0], "relu": torch.tensor([5.0, 4.0])})
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["sigmoid"].get_xdata()) == [1, 2, 3]
    assert list(lines["sigmoid"].get_ydata()) == [1e-3, 1e-2, 1.0]
    assert list(lines["relu"].get_ydata()) == [5.0, 4.0]


def test_gradient_norms_figure_size_colours_markers_labels_and_grid():
    """What a reader of page 3.2's depth figure sees: a 6 x 3.2 inch figure laid out to fit,
    each stack in its own colour (C0, C1, ... in the dict's order) with round markers at
    layers 1, 2, ..., the axes' words, a small legend in the same order, and a faint grid on
    the major and minor ticks of the log axis."""
    norms = {"sigmoid": [2e-4, 3e-3, 5e-2, 0.7], "relu": [0.9, 0.6], "tanh": [0.03, 0.2, 0.5]}
    fig = gradient_norms_figure(norms)
    assert tuple(fig.get_size_inches()) == (6, 3.2) and fig.dpi == 96  # a pixel a CSS pixel
    assert gradient_norms_figure(norms, dpi=120).dpi == 120
    assert isinstance(fig.get_layout_engine(), matplotlib.layout_engine.ConstrainedLayoutEngine)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == list(norms)
    for number, (line, (name, values)) in enumerate(zip(lines, norms.items(), strict=True)):
        assert list(line.get_xdata()) == list(range(1, len(values) + 1)), name
        assert list(line.get_ydata()) == values, name
        assert line.get_marker() == "o" and line.get_linestyle() == "-", name
        assert matplotlib.colors.same_color(line.get_color(), f"C{number}"), name
    assert ax.get_xlabel() == "layer (1 = nearest the input)"
    assert ax.get_ylabel() == "‖∂L/∂W‖ of the layer"
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == list(norms)
    assert {t.get_fontsize() for t in legend.get_texts()} == {8}
    fig.canvas.draw()
    for ticks in (
        ax.yaxis.get_major_ticks(),
        ax.yaxis.get_minor_ticks(),
        ax.xaxis.get_major_ticks(),
    ):
        assert ticks and all(t.gridline.get_visible() for t in ticks)
        assert {t.gridline.get_alpha() for t in ticks} == {0.3}


@pytest.mark.parametrize(
    "norms, message",
    [
        (
            {"deep": [0.5, -0.1]},
            "gradient_norms_figure: norms['deep'] must hold positive numbers, got [0.5, -0.1]",
        ),
        ({"deep": []}, "gradient_norms_figure: norms['deep'] must hold positive numbers, got []"),
        (
            {"ok": [1.0], "deep": [1.0, 0.0]},
            "gradient_norms_figure: norms['deep'] must hold positive numbers, got [1.0, 0.0]",
        ),
        ({"deep": [1.0, "x"]}, "gradient_norms_figure: norms['deep'] must hold numbers ("),
        (
            [("deep", [1.0])],
            "gradient_norms_figure: norms must be a non-empty dict of name -> norms",
        ),
        ({}, "gradient_norms_figure: norms must be a non-empty dict of name -> norms"),
    ],
)
def test_gradient_norms_whole_messages_name_the_stack(norms, message):
    with pytest.raises(ValueError) as error:
        gradient_norms_figure(norms)
    assert str(error.value).startswith(message), str(error.value)


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
