"""Unit tests for chapters/sliders.py: start values without a kernel, updates, bad input."""

import pytest
import torch

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


# -- Sliders that move in the book ------------------------------------------------------------

FORMULAS = {"loss": "(w x)^2", "dL/dw": "2 w x^2"}


def test_formulas_that_give_the_readouts_rows_move_in_the_book():
    html = explore(readout, formulas=FORMULAS, w=(-4.0, 4.0, 3.0), x=(0.0, 2.0, 2.0)).initial_html
    assert html.startswith('<div class="explore" data-kind="explore"')
    assert '<input type="range" name="w" min="-4.0" max="4.0" step="0.08" value="3.0">' in html
    assert "<th scope='row'>loss</th><td>36.0000</td>" in html
    assert "&quot;2 w x^2&quot;" in html, "the formula goes with the sliders"


def test_only_the_rows_with_a_formula_are_in_the_book():
    def with_autograd(w, x):
        return {**readout(w, x), "dL/dw by autograd": 2 * w * x**2}

    html = explore(with_autograd, formulas=FORMULAS, w=(-4.0, 4.0, 3.0), x=(0.0, 2.0, 2.0))
    assert "by autograd" not in html.initial_html
    table = html.widget.children[-1].value
    assert "by autograd" in table, "JupyterLab shows every row"


def test_a_formula_that_is_not_the_readouts_stops_the_page_with_the_setting():
    with pytest.raises(AssertionError, match=r"the formula for 'dL/dw' is not the readout's"):
        explore(readout, formulas={"dL/dw": "2 w x"}, w=(-4.0, 4.0, 3.0), x=(0.0, 2.0, 2.0))
    # right at the start (x = 1), wrong elsewhere: the random settings find it
    with pytest.raises(AssertionError, match="not the readout's at {'w': "):
        explore(readout, formulas={"dL/dw": "2 w x"}, w=(-4.0, 4.0, 3.0), x=(0.0, 2.0, 1.0))


def test_steps_and_constants_are_names_for_the_formulas():
    import torch

    def matrix_readout(w):
        x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
        return {"loss": float(((x * w) ** 2).sum())}

    explorer = explore(
        matrix_readout,
        formulas={"loss": "(z ** 2).sum()"},
        steps={"z": "x * w"},
        constants={"x": torch.tensor([[1.0, 2.0]])},
        w=(-1.0, 1.0, 0.5),
    )
    assert "&quot;x&quot;: [[1.0, 2.0]]" in explorer.initial_html


def test_a_formula_for_a_row_the_readout_lacks_is_refused():
    with pytest.raises(ValueError, match=r"the readout has no row \['dL/dx'\]"):
        explore(readout, formulas={"dL/dx": "2 w"}, w=(-4.0, 4.0, 3.0), x=(0.0, 2.0, 2.0))


def test_the_book_gets_the_sliders_the_formulas_in_order_and_the_table_of_their_rows():
    def readout(w, x):
        return {"∂L/∂w": 2 * w * x**2, "loss": (w * x) ** 2, "by autograd": 2 * w * x**2}

    explorer = explore(
        readout,
        formulas={"∂L/∂w": "2 w x^2", "loss": "δ^2"},
        steps={"δ": "w · x"},
        w=(-1.0, 1.0, 0.5),
        x=(0.0, 2.0, 2.0),
    )
    # the steps and the formulas as written, ∂ and δ (not \u2202, \u03b4), for the page's script
    assert explorer.initial_html == (
        '<div class="explore" data-kind="explore" data-constants="{}" '
        'data-steps="[[&quot;δ&quot;, &quot;w · x&quot;]]" '
        'data-formulas="[[&quot;∂L/∂w&quot;, &quot;2 w x^2&quot;], '
        '[&quot;loss&quot;, &quot;δ^2&quot;]]">'
        '<label class="explore-slider"><span>w</span><input type="range" name="w" min="-1.0" '
        'max="1.0" step="0.02" value="0.5"></label>'
        '<label class="explore-slider"><span>x</span><input type="range" name="x" min="0.0" '
        'max="2.0" step="0.02" value="2.0"></label>'
        "<table><caption>w = 0.5, x = 2</caption>"
        "<tr><th scope='row'>∂L/∂w</th><td>4.0000</td></tr>"
        "<tr><th scope='row'>loss</th><td>1.0000</td></tr></table></div>"
    )


def test_constants_are_float64_in_the_check_and_in_the_book():
    def readout(w):  # the page's numbers, in float64
        x = torch.tensor([[0.1, 0.3]], dtype=torch.float64)
        return {"loss": float(((x * w) ** 2).sum())}

    explorer = explore(
        readout,
        formulas={"loss": "((x * w) ** 2).sum()"},
        constants={"x": [[0.1, 0.3]]},
        w=(-1.0, 1.0, 0.7),
    )
    # in float32, 0.1 would be 0.10000000149011612: neither the check nor the book rounds it
    assert 'data-constants="{&quot;x&quot;: [[0.1, 0.3]]}"' in explorer.initial_html


def test_a_formula_that_is_wrong_at_the_start_is_named_there():
    with pytest.raises(AssertionError) as error:
        explore(readout, formulas={"loss": "w x^2"}, w=(-4.0, 4.0, 3.0), x=(0.0, 2.0, 2.0))
    assert str(error.value).startswith(
        "explore: the formula for 'loss' is not the readout's at {'w': 3.0, 'x': 2.0}: "
    )


def test_a_formula_that_forgets_a_small_term_is_not_the_readouts():
    def with_a_term(w, x):
        return {"loss": (w * x) ** 2 + 0.5}

    with pytest.raises(AssertionError, match="the formula for 'loss' is not the readout's"):
        explore(with_a_term, formulas={"loss": "(w x)^2"}, w=(-4.0, 4.0, 3.0), x=(0.0, 2.0, 2.0))


def test_the_random_settings_are_the_same_at_every_run():
    """A page that stops shows the same setting each time it runs."""
    messages = set()
    for _ in range(2):
        with pytest.raises(AssertionError) as error:
            explore(readout, formulas={"dL/dw": "2 w x"}, w=(-4.0, 4.0, 3.0), x=(0.0, 2.0, 1.0))
        messages.add(str(error.value))
    assert len(messages) == 1
