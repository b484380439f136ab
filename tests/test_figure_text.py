"""Every figure a page draws is readable: its text is drawn at 8 pt or more.

Each notebook runs in this process while every matplotlib figure it makes is recorded (the
inline plots, the computation graphs, the animations' frames): tests/chapter_runner.py's
run_notebook, the run the other in-process tests share. Then every piece of visible text in
them is measured. tests/test_browser.py checks that no figure is shown below 70% of
the size it was drawn at.
"""

from pathlib import Path

import pytest
from matplotlib.text import Text

from chapter_runner import run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb")) + [ROOT / "rules.ipynb"]
SMALLEST_PT = 8


@pytest.mark.shares_notebook_runs  # kept on one worker (tests/conftest.py)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_draws_its_text_at_8_pt_or_more(path):
    run = run_notebook(path)  # the notebook's one shared run, which records every figure
    outcome, figures = run.outcome, run.figures
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
