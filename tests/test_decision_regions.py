"""Unit tests for chapters/decision_regions.py: the class grid, the figure, bad input."""

import matplotlib
import pytest
import torch
from matplotlib import pyplot as plt

from decision_regions import class_grid, decision_regions_figure

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def by_quadrant(points):
    """Class 0 where x1 > 0, class 1 where x1 < 0 and x2 > 0, class 2 elsewhere."""
    right = points[:, 0] > 0
    upper = points[:, 1] > 0
    scores = torch.zeros(len(points), 3, dtype=torch.float64)
    scores[right, 0] = 1.0
    scores[~right & upper, 1] = 1.0
    scores[~right & ~upper, 2] = 1.0
    return scores


def test_class_grid_picks_the_largest_score_at_each_point():
    ticks, classes = class_grid(by_quadrant, -1.0, 1.0, 5)
    torch.testing.assert_close(ticks, torch.linspace(-1, 1, 5, dtype=torch.float64))
    assert classes.shape == (5, 5)
    # row r is where x2 = ticks[r]; column c where x1 = ticks[c]
    assert classes[4, 4] == 0 and classes[0, 4] == 0
    assert classes[4, 0] == 1
    assert classes[0, 0] == 2


def test_class_grid_reads_rows_as_the_second_coordinate():
    _, classes = class_grid(lambda p: torch.stack([p[:, 1], -p[:, 1]], dim=1), -1.0, 1.0, 4)
    assert classes[:, 0].tolist() == [1, 1, 0, 0]
    assert (classes == classes[:, :1]).all(), "x1 must not matter"


@pytest.mark.parametrize(
    "args, message",
    [
        (("not a function", -1.0, 1.0, 5), "predict must be a function"),
        ((by_quadrant, -1.0, 1.0, 1), "resolution must be an integer >= 2"),
        ((by_quadrant, 1.0, -1.0, 5), "low must be less than high"),
        ((lambda p: p[:, 0], -1.0, 1.0, 5), r"must return an \(M, K\) tensor"),
        ((lambda p: [1, 2], -1.0, 1.0, 5), r"must return an \(M, K\) tensor of scores"),
    ],
)
def test_class_grid_says_what_is_wrong_with_its_input(args, message):
    with pytest.raises((TypeError, ValueError), match=message):
        class_grid(*args)


def points_and_labels():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(30, 2, generator=generator, dtype=torch.float64)
    return x, by_quadrant(x).argmax(dim=1)


def test_the_figure_has_a_panel_per_classifier_and_each_class_its_own_marker():
    x, labels = points_and_labels()
    fig = decision_regions_figure(
        [("quadrants", by_quadrant), ("flipped", lambda p: -p)], x, labels
    )
    assert [ax.get_title() for ax in fig.axes] == ["quadrants", "flipped"]
    for ax in fig.axes:
        clouds = ax.collections[1:]  # the shaded regions first, then a cloud per class
        assert [len(c.get_offsets()) for c in clouds] == [
            int((labels == q).sum()) for q in range(3)
        ]
        assert len({c.get_paths()[0].vertices.tobytes() for c in clouds}) == 3, "same markers"
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "class 0",
        "class 1",
        "class 2",
    ]
    fig.canvas.draw()


def test_the_shaded_regions_are_the_class_grid():
    x, labels = points_and_labels()
    fig = decision_regions_figure([("quadrants", by_quadrant)], x, labels, resolution=7)
    mesh = fig.axes[0].collections[0]
    low, high = fig.axes[0].get_xlim()
    _, classes = class_grid(by_quadrant, low, high, 7)
    assert mesh.get_array().reshape(7, 7).tolist() == classes.tolist()


@pytest.mark.parametrize(
    "panels, x, labels, message",
    [
        ([], None, None, "panels must be a non-empty list"),
        ([by_quadrant], None, None, r"panel 1 must be \(title, predict\)"),
        ([("a", by_quadrant)], torch.zeros(4, 3), torch.zeros(4, dtype=int), r"\(N, 2\)"),
        ([("a", by_quadrant)], torch.zeros(4, 2), torch.zeros(3, dtype=int), r"an \(N,\) tensor"),
        ([("a", by_quadrant)], torch.zeros(4, 2), torch.zeros(4), "integer classes"),
        ([("a", by_quadrant)], torch.zeros(4, 2), -torch.ones(4, dtype=int), "integer classes"),
    ],
)
def test_the_figure_says_what_is_wrong_with_its_input(panels, x, labels, message):
    with pytest.raises(ValueError, match=message):
        decision_regions_figure(panels, x, labels)
