"""Sliders that recompute a readout (a loss, a hand gradient, autograd's gradient).

Importing it has no side effects; ipywidgets is imported when sliders are made.
"""

import html as html_escape

__all__ = ["explore"]


class _Explorer:
    """Sliders and a readout. JupyterLab shows the live widget; a page without
    a kernel (the book, nbval) gets the readout at the sliders' start values."""

    def __init__(self, widget, initial_html):
        self.widget, self.initial_html = widget, initial_html

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.initial_html
        bundle["text/plain"] = "Sliders: run this notebook in JupyterLab to move them."
        return bundle


def _number(value):
    """Four decimals; tiny values in scientific notation, so they do not read as 0."""
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.3e}"
    return f"{value + 0.0:.4f}"  # + 0.0 turns -0.0 into 0.0


def explore(readout, **sliders):
    """Sliders for the inputs of ``readout``, and a table of what it returns.

    ``readout`` takes one float per slider (by name) and returns a dict from
    label to number. Each slider is given as ``name=(low, high, start)``.
    """
    import ipywidgets

    if not callable(readout):
        raise TypeError(f"explore: readout must be a function, got a {type(readout).__name__}")
    for key, spec in sliders.items():
        if not (isinstance(spec, tuple) and len(spec) == 3 and spec[0] <= spec[2] <= spec[1]):
            raise ValueError(f"explore: slider {key} must be (low, high, start), got {spec!r}")

    def table(values):
        rows = "".join(
            f"<tr><th scope='row'>{html_escape.escape(label)}</th><td>{_number(value)}</td></tr>"
            for label, value in readout(**values).items()
        )
        inputs = ", ".join(f"{key} = {value:g}" for key, value in values.items())
        return f"<table><caption>{html_escape.escape(inputs)}</caption>{rows}</table>"

    controls = {
        key: ipywidgets.FloatSlider(
            value=start, min=low, max=high, step=(high - low) / 100, description=key
        )
        for key, (low, high, start) in sliders.items()
    }
    initial = table({key: control.value for key, control in controls.items()})
    output = ipywidgets.HTML(initial)

    def update(_change):
        output.value = table({key: control.value for key, control in controls.items()})

    for control in controls.values():
        control.observe(update, names="value")
    return _Explorer(ipywidgets.VBox([*controls.values(), output]), initial)
