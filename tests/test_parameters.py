"""A learner may change any input: each notebook's worked-example inputs sit in one code cell
tagged `parameters` (papermill's convention), and the notebook runs to its end with other
values there. Its assertions compare hand results with autograd, finite differences or
torch.optim, never with the worked example's own numbers, so only a wrong derivation stops it.

The other values avoid the coincidences a worked example can have: no two inputs equal, and no
dimension of size 1 where the notebook's sizes allow it.
"""

import json
from pathlib import Path

import pytest

from chapter_runner import run_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb")) + [ROOT / "rules.ipynb"]

# notebook stem -> the source of its `parameters` cell with other values.
VARIANTS = {
    # N = 3 samples, D = 2 inputs; one neuron (K = 1); a target outside (0, 1) as on the page.
    "03_1_sigmoid_neuron": """
w = [[0.8], [-1.3]]
b = [[0.4]]
x = [[1.5, -0.7], [-2.2, 0.3], [0.6, 2.4]]
y = [[0.9], [1.2], [0.25]]
""",
    # N = 4, D = 3, J = 5, K = 2.
    "03_2_layer_by_layer": """
x = [[-0.15, 0.79, 0.95], [-1.11, 1.69, -0.89], [-0.36, 1.23, 0.14], [-1.61, 0.32, 0.13]]
y = [[0.16, 0.24], [1.4, 1.35], [2.44, 0.2], [2.45, 2.03]]
w1 = [
    [1.78, -0.92, -0.46, -0.72, 1.28],
    [-0.99, 1.81, -0.6, 1.61, 1.93],
    [-0.42, -0.07, -0.98, -1.25, -0.19],
]
b1 = [[0.28, 0.21, 0.37, -0.05, -0.94]]
w2 = [[-1.89, 1.01], [-0.69, 0.91], [0.11, 0.61], [0.33, -0.88], [-1.68, -0.74]]
b2 = [[0.96, 0.17]]
""",
    "01_1_chain_rule": (
        "w_value = -1.5  # the weight w\n"
        "x_value = 0.75  # the input x\n"
        "y_value = 2.5  # the target y\n"
        "x_2, y_2 = -1.25, 0.5  # a second sample (x₂, y₂)\n"
        "lr = 0.1  # the learning rate η\n"
    ),
    # N = 3 samples, D = 2 features, K = 4 outputs
    "02_1_matrix_product": (
        "w = [[0.5, -1.2, 2.0, 0.3], [1.5, 0.7, -0.4, -2.2]]\n"
        "x = [[1.3, -0.6], [0.4, 2.1], [-1.7, 0.9]]\n"
        "y = [[1.1, -0.8, 2.4, 0.6], [-1.9, 0.35, 1.6, -0.45], [0.75, 2.2, -1.3, 1.45]]\n"
    ),
    # N = 5 samples, K = 4 classes (N != K, no two logits equal), every class a label.
    "03_3_softmax_classifier": (
        "z_values = [[0.3, -1.2, 2.2, 0.7], [1.9, 0.1, -0.6, -2.4], [-0.9, 1.4, 0.45, 2.6],"
        " [3.1, -0.2, 1.1, -1.7], [0.8, 2.9, -2.1, 1.6]]\n"
        "label_values = [2, 0, 3, 1, 1]\n"
    ),
    "rules": "N, D, J, K = 7, 4, 5, 3  # samples, input features, hidden units, outputs\n"
    "M = 6  # sigmoid layers in the stack of the last row\n",
}


def cells_of(path):
    notebook = json.loads(path.read_text())
    return [c for c in notebook["cells"] if c["cell_type"] == "code"]


def parameters_cell(path):
    """The index, among the code cells, of the one tagged `parameters`."""
    tagged = [
        number
        for number, cell in enumerate(cells_of(path))
        if "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged `parameters`, not 1"
    return tagged[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_one_parameters_cell_near_the_top(path):
    assert parameters_cell(path) < 5, f"{path.name}: the `parameters` cell is not near the top"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_to_the_end_with_other_inputs(path):
    assert path.stem in VARIANTS, f"{path.name}: no other values to try in VARIANTS"
    cells = ["".join(c["source"]) for c in cells_of(path)]
    index = parameters_cell(path)
    original = {}
    exec(cells[index], original)
    varied = {}
    exec(VARIANTS[path.stem], varied)
    assert sorted(k for k in varied if not k.startswith("__")) == sorted(
        k for k in original if not k.startswith("__")
    ), "the variant must set the same names as the notebook's parameters cell"
    cells[index] = VARIANTS[path.stem]
    outcome = run_cells(cells, path.stem, folder=path.parent)
    assert outcome is None, f"{path.name} stopped at code cell {outcome[1]}: {outcome[0]!r}"
