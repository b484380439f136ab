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


@pytest.mark.parametrize("spec", [(0.0, 1.0), (0.0, 1.0, 5.0), "3"])
def test_explore_explains_a_bad_slider(spec):
    with pytest.raises(ValueError, match=r"slider w must be \(low, high, start\)"):
        explore(readout, w=spec)
