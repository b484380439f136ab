"""Page 3.3's decision-regions figure says what its data say.

Every number its alt text and its caption quote (points, points per class, classes, hidden
units, steps, the two training accuracies in percent) is a number of the page's own run,
rounded as quoted; the helpers are those of tests/test_chapter_figures.py.
"""

import json

import pytest
from test_chapter_figures import agrees, alt_texts, numbers_in, run_chapter

from chapter_runner import CHAPTERS

pytestmark = pytest.mark.shares_notebook_runs  # the page's shared run

CHAPTER, FIGURE = "03_3_softmax_classifier", "fig-ch3-decision-regions"


def figure_data(ns):
    labels = ns["labels_spiral"]
    return [
        len(ns["x_spiral"]),
        *[float(count) for count in labels.bincount().tolist()],
        float(labels.max() + 1),
        *[float(q) for q in labels.unique().tolist()],
        ns["j"],
        ns["n_steps"],
        100 * ns["accuracy_network"],
        100 * ns["accuracy_linear"],
    ]


def caption():
    notebook = json.loads((CHAPTERS / f"{CHAPTER}.ipynb").read_text(encoding="utf-8"))
    (found,) = [
        cell["metadata"]["mystnb"]["figure"]["caption"]
        for cell in notebook["cells"]
        if cell["metadata"].get("mystnb", {}).get("figure", {}).get("name") == FIGURE
    ]
    return found


def test_the_page_has_exactly_this_figure_with_an_alt_text():
    assert sorted(alt_texts(CHAPTER)) == [FIGURE]


@pytest.mark.parametrize("text", ["alt", "caption"])
def test_every_number_the_figure_quotes_is_the_pages_data(text):
    namespace, _ = run_chapter(CHAPTER)
    words = alt_texts(CHAPTER)[FIGURE] if text == "alt" else caption()
    quoted = numbers_in(words)
    assert quoted, f"the {text} quotes no number, so this test checks nothing"
    data = figure_data(namespace)
    wrong = [q for q in quoted if not any(agrees(q, value) for value in data)]
    assert not wrong, f"the {text} quotes {wrong}, not in the figure's data {data}"


def test_the_accuracies_are_quoted_for_the_right_classifier():
    namespace, _ = run_chapter(CHAPTER)
    alt = alt_texts(CHAPTER)[FIGURE]
    network, linear = alt.split("Right,")
    assert f"{100 * namespace['accuracy_network']:.1f}%" in network
    assert f"{100 * namespace['accuracy_linear']:.1f}%" in linear
