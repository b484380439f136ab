"""Every figure a page draws is readable: its text is drawn at 8 pt or more.

Each notebook runs in this process while every matplotlib figure it makes is recorded (the
inline plots, the computation graphs, the animations' frames); then every piece of visible
text in them is measured. tests/test_browser.py checks that no figure is shown below 70% of
the size it was drawn at.
"""

from pathlib import Path

import matplotlib.figure
import pytest
from matplotlib.text import Text

from chapter_runner import chapter_cells, run_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb")) + [ROOT / "rules.ipynb"]
SMALLEST_PT = 8


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_draws_its_text_at_8_pt_or_more(path, monkeypatch):
    figures = []
    make = matplotlib.figure.Figure.__init__

    def recording(self, *args, **kwargs):
        make(self, *args, **kwargs)
        figures.append(self)

    monkeypatch.setattr(matplotlib.figure.Figure, "__init__", recording)
    cells = chapter_cells(path.stem, path.parent)
    outcome = run_cells(cells, path.stem, folder=path.parent)
    assert outcome is None, f"{path.name} stopped at code cell {outcome[1]}: {outcome[0]!r}"
    small = sorted(
        {
            f"{text.get_text()!r} at {text.get_fontsize():g} pt"
            for figure in figures
            for text in figure.findobj(Text)
            if text.get_visible() and text.get_text().strip() and text.get_fontsize() < SMALLEST_PT
        }
    )
    assert not small, f"{path.name}: text below {SMALLEST_PT} pt: " + "; ".join(small[:10])
