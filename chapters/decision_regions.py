"""Drawing code for page 3.3: the decision regions of classifiers of points in the plane.

Which class a classifier picks at each point of a grid is computed here from the
classifier's own scores; what the classifier is, and how it was trained, stays in the
chapter. Importing it has no side effects.
"""

import torch
from matplotlib import pyplot as plt
from matplotlib.colors import ListedColormap

__all__ = ["class_grid", "decision_regions_figure"]

# Colour-blind-safe colours (Okabe and Ito), and a marker per class, so that the classes
# differ by shape as well as by colour.
_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
_MARKERS = ["o", "s", "^", "D", "v", "P"]


def class_grid(predict, low, high, resolution):
    """The class that ``predict`` picks at each point of the square grid [low, high]².

    ``predict`` maps an (M, 2) float64 tensor of points to (M, K) scores, one row per
    point (logits or probabilities: the class is the column of the largest). Returns
    ``(ticks, classes)``: the ``resolution`` grid coordinates along each axis, and a
    (resolution, resolution) tensor of class numbers whose row r is the line where the
    second coordinate equals ``ticks[r]``.
    """
    if not callable(predict):
        raise TypeError(f"class_grid: predict must be a function, got {type(predict).__name__}")
    if not (isinstance(resolution, int) and resolution >= 2):
        raise ValueError(f"class_grid: resolution must be an integer >= 2, got {resolution!r}")
    if not float(low) < float(high):
        raise ValueError(f"class_grid: low must be less than high, got {low} and {high}")
    ticks = torch.linspace(float(low), float(high), resolution, dtype=torch.float64)
    first, second = torch.meshgrid(ticks, ticks, indexing="xy")
    points = torch.stack([first.flatten(), second.flatten()], dim=1)
    with torch.no_grad():
        scores = predict(points)
    if not (isinstance(scores, torch.Tensor) and scores.dim() == 2 and len(scores) == len(points)):
        raise ValueError(
            "class_grid: predict must return an (M, K) tensor of scores for M points, got "
            f"{tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__}"
        )
    return ticks, scores.argmax(dim=1).reshape(resolution, resolution)


def decision_regions_figure(panels, x, labels, resolution=200, dpi=96):
    """One panel per classifier: its decision regions, shaded, and the points on top.

    ``panels`` is a list of ``(title, predict)``, ``predict`` as in ``class_grid``;
    ``x`` the (N, 2) points and ``labels`` their (N,) integer classes, drawn with a
    colour and a marker per class. Returns the figure.
    """
    if not (isinstance(panels, list) and panels):
        raise ValueError("decision_regions_figure: panels must be a non-empty list")
    for number, panel in enumerate(panels, 1):
        if not (isinstance(panel, tuple) and len(panel) == 2 and isinstance(panel[0], str)):
            raise ValueError(f"decision_regions_figure: panel {number} must be (title, predict)")
    if not (isinstance(x, torch.Tensor) and x.dim() == 2 and x.shape[1] == 2):
        raise ValueError("decision_regions_figure: x must be an (N, 2) tensor of points")
    if not (isinstance(labels, torch.Tensor) and labels.shape == (len(x),)):
        raise ValueError("decision_regions_figure: labels must be an (N,) tensor, one per point")
    if labels.is_floating_point() or labels.min() < 0 or labels.max() >= len(_COLOURS):
        raise ValueError(
            "decision_regions_figure: labels must be integer classes from 0 to "
            f"{len(_COLOURS) - 1}"
        )
    x, k = x.detach().to(torch.float64), int(labels.max()) + 1
    margin = 0.1 * float(x.abs().max())
    low, high = float(x.min()) - margin, float(x.max()) + margin
    colours = ListedColormap(_COLOURS[:k])
    # 3.4 inches a panel: two fit the book's 7-inch figure column (96 dpi: a pixel a CSS px)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.4), dpi=dpi)
    for ax, (title, predict) in zip(_as_list(axes), panels, strict=True):
        ticks, classes = class_grid(predict, low, high, resolution)
        ax.pcolormesh(
            ticks.numpy(),
            ticks.numpy(),
            classes.numpy(),
            cmap=colours,
            vmin=-0.5,
            vmax=k - 0.5,
            alpha=0.3,
        )
        for q in range(k):
            mine = labels == q
            ax.scatter(
                x[mine, 0].numpy(),
                x[mine, 1].numpy(),
                s=12,
                color=_COLOURS[q],
                marker=_MARKERS[q],
                edgecolors="black",
                linewidths=0.3,
                label=f"class {q}",
            )
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_aspect("equal")
        ax.set_xlim(low, high)
        ax.set_ylim(low, high)
    _as_list(axes)[0].legend(loc="lower left", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    return fig


def _as_list(axes):
    return list(axes.flat) if hasattr(axes, "flat") else [axes]
