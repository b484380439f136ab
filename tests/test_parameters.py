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
        "s_values = [[0.3, -1.2, 2.2, 0.7], [1.9, 0.1, -0.6, -2.4], [-0.9, 1.4, 0.45, 2.6],"
        " [3.1, -0.2, 1.1, -1.7], [0.8, 2.9, -2.1, 1.6]]\n"
        "label_values = [2, 0, 3, 1, 1]\n"
    ),
    # Page 1.2: every input different, a negative weight, an operation's inputs a < b.
    "01_2_scalar_autograd": (
        "w_value = -1.5  # the weight w\n"
        "x_value = 0.75  # the input x\n"
        "y_value = 2.5  # the target y\n"
        "x_2, y_2 = -1.25, 0.5  # a second sample (x₂, y₂), for training\n"
        "lr = 0.1  # the learning rate η\n"
        "a_value, b_value = -0.8, 1.7  # the inputs a and b of one operation\n"
        "g_value = -1.3  # the gradient G from above that operation\n"
    ),
    # N = 6 samples, D = 4 features, K = 3 classes, V = 9 rows; rows 7 and 2 looked up twice.
    "02_2_broadcasts_and_lookups": (
        "d, k, v = 4, 3, 9  # features D, classes K, rows V of the table\n"
        "labels = [1, 0, 2, 2, 0, 1]  # the class of each sample, 0 ... K-1: N = 6 samples\n"
        "ix = [7, 2, 0, 7, 8, 2]  # the row of the table each sample looks up, 0 ... V-1\n"
    ),
    # N = 5 samples, D = 3 features, a larger epsilon.
    "02_3_normalisation": (
        "n, d = 5, 3  # samples N, features D\n"
        "eps = 1e-3  # ε, added to the variance before the square root\n"
    ),
    "rules": "N, D, J, K = 7, 4, 5, 3  # samples, input features, hidden units, outputs\n"
    "M = 6  # sigmoid layers in the stack of the last row\n",
}


# More inputs for pages 1.1, 2.1 and the rules page, each breaking another coincidence of the
# worked example (x = y, L = dL/dw, D = 1, N = K, a step that stays on one side of the
# minimum): every formula must hold on them too.
MORE_VARIANTS = {
    "01_1_chain_rule": [
        # x != y, x < 0, and a learning rate whose steps overshoot the minimum (1 - 2 eta x^2 < 0)
        "w_value = 0.5\nx_value = -2.0\ny_value = 1.5\nx_2, y_2 = 3.0, -0.5\nlr = 0.15\n",
        # the input 0: w has no effect on the prediction, every gradient is 0
        "w_value = 2.0\nx_value = 0.0\ny_value = 1.0\nx_2, y_2 = 0.5, 1.5\nlr = 0.05\n",
    ],
    "02_1_matrix_product": [
        # N = 2 < D = 3 < K = 5: more features than samples
        "w = [[0.4, -1.1, 0.9, 1.6, -0.3], [1.2, 0.2, -0.7, 0.5, 2.1],\n"
        "     [-0.8, 1.3, 0.6, -1.4, 0.1]]\n"
        "x = [[1.1, -0.4, 0.7], [-0.6, 1.8, 0.3]]\n"
        "y = [[0.5, 1.9, -1.2, 0.8, 2.3], [-1.5, 0.6, 1.1, -0.2, 0.9]]\n",
    ],
    "rules": [
        "N, D, J, K = 2, 6, 3, 2  # samples, input features, hidden units, outputs\nM = 3\n"
    ],
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


def run_with(path, source):
    cells = ["".join(c["source"]) for c in cells_of(path)]
    index = parameters_cell(path)
    original, varied = {}, {}
    exec(cells[index], original)
    exec(source, varied)
    assert sorted(k for k in varied if not k.startswith("__")) == sorted(
        k for k in original if not k.startswith("__")
    ), "the variant must set the same names as the notebook's parameters cell"
    cells[index] = source
    return run_cells(cells, path.stem, folder=path.parent)


MORE_CASES = [
    pytest.param(
        ROOT / ("rules.ipynb" if stem == "rules" else f"chapters/{stem}.ipynb"),
        source,
        id=f"{stem}-{number}",
    )
    for stem, sources in MORE_VARIANTS.items()
    for number, source in enumerate(sources, start=1)
]


@pytest.mark.parametrize("path, source", MORE_CASES)
def test_notebook_runs_with_inputs_that_break_the_examples_coincidences(path, source):
    outcome = run_with(path, source)
    assert outcome is None, f"{path.name} stopped at code cell {outcome[1]}: {outcome[0]!r}"


# Pages 3.1 to 3.3: inputs that saturate the sigmoid (and the softmax). float32 rounds
# sigma(s) to 1 from s of about 17 on, where the hand sigma(1 - sigma) is 0 and autograd's
# route through exp(-s) is not: the pages' tolerances come from float32's rounding on the
# values at hand, so they run to the end here too.
SATURATING_VARIANTS = {
    # N = 4, D = 2, K = 1: s = 18.3, -19, -2.2 and 9.7; targets away from the predictions.
    "03_1_sigmoid_neuron": """
w = [[9.0], [-4.0]]
b = [[2.0]]
x = [[1.5, -0.7], [-2.2, 0.3], [0.6, 2.4], [0.9, 0.1]]
y = [[0.2], [1.2], [0.9], [0.1]]
""",
    # N = 4, D = 3, J = 5, K = 2: hidden pre-activations up to about 40 in size.
    "03_2_layer_by_layer": """
x = [[2.5, -1.5, 0.5], [-2.0, 3.0, 1.0], [1.5, 2.5, -3.0], [-3.5, -0.5, 2.0]]
y = [[0.3, -1.2], [2.1, 0.4], [-0.7, 1.6], [1.1, -0.2]]
w1 = [[6.0, -5.0, 4.5, 1.0, -7.0], [-4.0, 6.5, 3.0, -5.5, 2.0], [5.0, 2.0, -6.0, 4.0, 3.5]]
b1 = [[1.5, -2.0, 0.5, 3.0, -1.0]]
w2 = [[2.5, -1.5], [-3.0, 2.0], [1.5, 3.5], [-2.0, -2.5], [3.0, 1.0]]
b2 = [[0.5, -0.5]]
""",
    # Page 3.3 with saturated rows: logits tens apart, so that probabilities come within
    # 1e-30 of 0 and 1 (and within 1e-300 at the page's logits spread a hundred times
    # wider), two logits of a row equal, and N = 3 samples, K = 5 classes.
    "03_3_softmax_classifier": (
        "s_values = [[40.0, -35.0, 0.5, 0.5, -3.0], [-60.0, 12.0, 70.0, -8.0, 1.0],"
        " [2.0, 2.0, -45.0, 30.0, -30.0]]\n"
        "label_values = [1, 2, 4]\n"
    ),
}


@pytest.mark.parametrize("stem", SATURATING_VARIANTS)
def test_notebook_runs_to_the_end_with_saturating_inputs(stem):
    path = ROOT / "chapters" / f"{stem}.ipynb"
    cells = ["".join(c["source"]) for c in cells_of(path)]
    cells[parameters_cell(path)] = SATURATING_VARIANTS[stem]
    outcome = run_cells(cells, stem, folder=path.parent)
    assert outcome is None, f"{path.name} stopped at code cell {outcome[1]}: {outcome[0]!r}"
