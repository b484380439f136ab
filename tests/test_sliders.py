"""Unit tests for chapters/sliders.py: start values without a kernel, updates, bad input."""

import pytest

from sliders import explore


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


def test_explore_shows_the_whole_table_and_words_for_a_page_without_html():
    bundle = explore(readout, w=(-4.0, 4.0, 0.5), x=(0.0, 2.0, 0.0))._repr_mimebundle_()
    assert bundle["text/html"] == (
        "<table><caption>w = 0.5, x = 0</caption>"
        "<tr><th scope='row'>loss</th><td>0.0000</td></tr>"
        "<tr><th scope='row'>dL/dw</th><td>0.0000</td></tr></table>"
    )
    assert bundle["text/plain"] == "Sliders: run this notebook in JupyterLab to move them."


def test_explore_shows_the_start_values_in_the_live_widget_too():
    explorer = explore(readout, w=(-4.0, 4.0, 3.0), x=(0.0, 2.0, 2.0))
    assert explorer.widget.children[-1].value == explorer.initial_html


@pytest.mark.parametrize(
    "value, shown",
    [(0.25, "0.2500"), (-1.5, "-1.5000"), (0.001, "0.0010"), (0.000999, "9.990e-04")],
)
def test_explore_shows_four_decimals_and_tiny_values_in_scientific_notation(value, shown):
    html = explore(lambda w: {"value": value * w}, w=(0.0, 1.0, 1.0)).initial_html
    assert f"<td>{shown}</td>" in html


def test_explore_makes_sliders_of_a_hundred_steps_named_as_given():
    explorer = explore(readout, w=(-4.0, 6.0, -4.0), x=(0.0, 2.0, 2.0))
    w, x, _table = explorer.widget.children
    assert (w.description, w.min, w.max, w.value, w.step) == ("w", -4.0, 6.0, -4.0, 0.1)
    assert (x.description, x.min, x.max, x.value, x.step) == ("x", 0.0, 2.0, 2.0, 0.02)


def test_explore_reruns_the_readout_only_when_a_value_moves():
    calls = []

    def counted(w):
        calls.append(w)
        return {"w": w}

    explorer = explore(counted, w=(0.0, 1.0, 0.5))
    slider = explorer.widget.children[0]
    slider.description = "weight"
    slider.max = 2.0
    assert calls == [0.5]
    slider.value = 0.75
    assert calls == [0.5, 0.75]


@pytest.mark.parametrize("spec", [(0.0, 1.0), (0.0, 1.0, 5.0), (0.0, 1.0, -0.5), "3"])
def test_explore_explains_a_bad_slider(spec):
    with pytest.raises(ValueError) as error:
        explore(readout, w=spec)
    assert str(error.value) == f"explore: slider w must be (low, high, start), got {spec!r}"


def test_explore_explains_a_readout_that_is_no_function():
    with pytest.raises(TypeError) as error:
        explore("loss", w=(0.0, 1.0, 0.5))
    assert str(error.value) == "explore: readout must be a function, got a str"
