"""Drawing code for chapter 3's network figures: the gradient flow, the fit, gradient norms.

What the figures show is computed in the chapter; this module only draws it. Each is at
most 7 inches wide, the book's figure column on a laptop (672 CSS px at 1280 px), drawn at
96 dpi, a pixel for each CSS pixel, so that the book shows it at the size it was drawn.
Importing it has no side effects.
"""

from matplotlib import pyplot as plt
from matplotlib.patches import FancyBboxPatch

__all__ = ["fit_and_loss_figure", "gradient_flow_figure", "gradient_norms_figure"]

_FORWARD, _BACKWARD, _PARAMETER = "C0", "C3", "C2"


def gradient_flow_figure(stages, input_name="X", loss_name="L", dpi=96):
    """Boxes for the forward pass, arrows for the gradients that flow back.

    ``stages`` lists the operations in forward order, each a tuple
    ``(label, output, parameters)``: the box's text, the name of what it outputs
    (TeX without dollars, e.g. ``"S_1"``) and the names of its parameters
    (e.g. ``["W_1", "b_1"]``, or ``[]``). The last stage's output goes into the
    loss. Above each link the forward value travels right; below it the upstream
    gradient travels left; under a box with parameters, their gradients leave.
    Returns the figure.
    """
    stages = _checked_stages(stages)
    for name, what in ((input_name, "input_name"), (loss_name, "loss_name")):
        if not (isinstance(name, str) and name.strip()):
            raise ValueError(f"gradient_flow_figure: {what} must be a non-empty string")
    boxes = [(f"${input_name}$", None)]
    boxes += [(label, params) for label, _, params in stages]
    boxes += [(f"loss ${loss_name}$", None)]
    flows = [input_name] + [output for _, output, _ in stages]

    width, gap = 2.0, 1.3
    span = len(boxes) * (width + gap) - gap
    fig, ax = plt.subplots(figsize=(0.42 * span + 0.3, 2.3), dpi=dpi)
    lefts = [i * (width + gap) for i in range(len(boxes))]
    for left, (label, params) in zip(lefts, boxes, strict=True):
        ax.add_patch(
            FancyBboxPatch(
                (left, 0), width, 1, boxstyle="round,pad=0.05", fc="white", ec="black", lw=1.2
            )
        )
        ax.text(left + width / 2, 0.5, label, ha="center", va="center", fontsize=9)
        if params:
            grads = ", ".join(_d(p) for p in params)
            _arrow(ax, (left + width / 2, -0.08), (left + width / 2, -0.6), _PARAMETER)
            ax.text(left + width / 2, -0.68, grads, ha="center", va="top", fontsize=10)
    for i, flow in enumerate(flows):
        start, end = lefts[i] + width + 0.08, lefts[i + 1] - 0.08
        middle = (start + end) / 2
        _arrow(ax, (start, 0.75), (end, 0.75), _FORWARD)
        ax.text(middle, 0.9, f"${flow}$", ha="center", va="bottom", fontsize=10, color=_FORWARD)
        _arrow(ax, (end, 0.25), (start, 0.25), _BACKWARD, dashed=i == 0)
        ax.text(middle, 0.1, _d(flow), ha="center", va="top", fontsize=10, color=_BACKWARD)
    ax.set_xlim(-0.3, lefts[-1] + width + 0.3)
    ax.set_ylim(-1.1, 1.3)
    ax.set_axis_off()
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)  # no layout pass: one draw only
    return fig


def fit_and_loss_figure(x, y, x_curve, fits, losses, dpi=96):
    """Left: the data and each model's prediction; right: each model's loss by step.

    ``x`` and ``y`` are the data (same length); ``fits`` maps a model's name to
    its predictions at ``x_curve``; ``losses`` maps the same names to the loss
    after each step (step 0 first). The loss axis is logarithmic. Returns the figure.
    """
    x, y, x_curve = _flat(x, "x"), _flat(y, "y"), _flat(x_curve, "x_curve")
    if len(x) != len(y):
        raise ValueError(f"fit_and_loss_figure: x has {len(x)} values but y has {len(y)}")
    if not fits or set(fits) != set(losses):
        raise ValueError(
            "fit_and_loss_figure: fits and losses must name the same models, "
            f"got {sorted(fits)} and {sorted(losses)}"
        )
    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(7, 3.2), dpi=dpi, layout="constrained")
    ax_fit.scatter(x, y, color="black", s=14, label="data", zorder=3)
    for number, (name, prediction) in enumerate(fits.items()):
        prediction = _flat(prediction, f"fits[{name!r}]")
        if len(prediction) != len(x_curve):
            raise ValueError(
                f"fit_and_loss_figure: fits[{name!r}] has {len(prediction)} values, "
                f"x_curve has {len(x_curve)}"
            )
        ax_fit.plot(x_curve, prediction, color=f"C{number}", label=name)
        curve = [float(v) for v in losses[name]]
        ax_loss.plot(range(len(curve)), curve, color=f"C{number}", label=name)
    ax_fit.set_xlabel("input x")
    ax_fit.set_ylabel("target y / prediction ŷ")
    ax_fit.set_title("the fit after training", fontsize=10)
    ax_fit.legend(fontsize=8, loc="upper left")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss L (sum over the data)")
    ax_loss.set_title("the loss, step by step", fontsize=10)
    ax_loss.legend(fontsize=8)
    for ax in (ax_fit, ax_loss):
        ax.grid(alpha=0.3)
    return fig


def gradient_norms_figure(norms, dpi=96):
    """Each layer's gradient norm, layer 1 first, one line per stack, on a log axis.

    ``norms`` maps a stack's name to its norms, one positive number per layer (the
    stacks may differ in depth). Returns the figure.
    """
    if not isinstance(norms, dict) or not norms:
        raise ValueError("gradient_norms_figure: norms must be a non-empty dict of name -> norms")
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=dpi, layout="constrained")
    for number, (name, values) in enumerate(norms.items()):
        values = _flat(values, f"norms[{name!r}]", "gradient_norms_figure")
        if not values or min(values) <= 0:
            raise ValueError(
                f"gradient_norms_figure: norms[{name!r}] must hold positive numbers, got {values}"
            )
        layers = range(1, len(values) + 1)
        ax.plot(layers, values, marker="o", color=f"C{number}", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel("‖∂L/∂W‖ of the layer")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig


def _d(name):
    """``"S_1"`` -> ``"$\\partial L/\\partial S_1$"``."""
    return rf"$\partial L/\partial {name}$"


def _arrow(ax, start, end, color, dashed=False):
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops=dict(arrowstyle="-|>", color=color, lw=1.6, ls="--" if dashed else "-"),
    )


def _checked_stages(stages):
    if not isinstance(stages, list | tuple) or not stages:
        raise ValueError(
            "gradient_flow_figure: stages must be a non-empty list of "
            "(label, output, parameters) tuples"
        )
    checked = []
    for number, stage in enumerate(stages, start=1):
        if not (isinstance(stage, list | tuple) and len(stage) == 3):
            raise ValueError(
                f"gradient_flow_figure: stage {number} must be (label, output, parameters), "
                f"got {stage!r}"
            )
        label, output, params = stage
        names = [label, output, *params] if isinstance(params, list | tuple) else None
        if names is None or not all(isinstance(n, str) and n.strip() for n in names):
            raise ValueError(
                f"gradient_flow_figure: in stage {number}, the label, the output and every "
                f"parameter must be non-empty strings (parameters in a list), got {stage!r}"
            )
        checked.append((label, output, list(params)))
    return checked


def _flat(values, what, figure="fit_and_loss_figure"):
    """A 1-D list of floats from a tensor, an array or a list."""
    try:
        flat = values.reshape(-1).tolist() if hasattr(values, "reshape") else list(values)
        return [float(v) for v in flat]
    except (TypeError, ValueError) as error:
        raise ValueError(f"{figure}: {what} must hold numbers ({error})") from None
