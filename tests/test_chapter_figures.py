"""The chapters' figures say what their data say.

- Each computation graph a chapter displays (a `graphs.GraphFigure`) has the nodes and
  edges of autograd's record of the chapter's worked example: the record reached from the
  chapter's own loss tensor when the figure is shown, walked here independently of
  graphs.py, and the same ops and edges as the worked example rebuilt from scratch.
- Every number an alt text quotes is a number of the figure's data (rounded as quoted):
  a contour label that was drawn, a weight, a loss, a slope.

The chapters' code cells run in this process, top to bottom, once for every test that reads
them (tests/chapter_runner.py's run_notebook); a cell that ends in a bare name shows that
object, as in a notebook.
"""

import ast
import json
import re

import pytest
import torch

from chapter_runner import CHAPTERS, run_notebook
from graphs import GraphFigure
from test_graphs import walk  # autograd's record, walked without graphs.py

# Every test here reads the chapters' shared runs: kept on one worker (tests/conftest.py).
pytestmark = pytest.mark.shares_notebook_runs

# chapter -> {variable holding a displayed graph: variable holding the loss it is drawn from}
GRAPHS = {
    "01_1_chain_rule": {"forward_graph": "loss", "backward_graph": "loss"},
    "02_1_matrix_product": {"matrix_graph": "loss_ag"},
    "03_1_sigmoid_neuron": {"activation_graph": "loss"},
}


def run_chapter(chapter):
    """(namespace at the end, [(code cell index, name, figure, walk of its loss at that
    moment)]), from the chapter's one shared run (chapter_runner.run_notebook)."""
    run = run_notebook(chapter)
    assert run.outcome is None, (
        f"{chapter} code cell {run.outcome[1] - 1} fails: {run.outcome[0]!r}"
    )
    shown = [
        (index, name, value, walk(snapshot[GRAPHS[chapter][name]]))
        for index, name, value, snapshot in run.shown
        if isinstance(value, GraphFigure)
    ]
    return run.namespace, shown


def shape_of(output):
    """The record as ops alone: sorted ops and sorted (input op, op, position) edges."""
    ops, edges = walk(output)
    return sorted(ops.values()), sorted((ops[s], ops[t], k) for s, t, k in edges)


def single_value_example():
    w = torch.tensor([3.0], requires_grad=True)
    x, y = torch.tensor([2.0]), torch.tensor([2.0])
    return (y - w * x) ** 2


def matrix_example():
    x = torch.tensor([[2.0], [1.0]], requires_grad=True)
    w = torch.tensor([[3.0, 1.0]], requires_grad=True)
    y = torch.tensor([[5.0, 2.0], [2.5, 2.0]])
    return ((y - x @ w) ** 2).sum()


def activation_example():
    x = torch.tensor([[2.0], [-2.0]])
    w = torch.tensor([[3.0]], requires_grad=True)
    b = torch.tensor([[1.0]], requires_grad=True)
    y = torch.tensor([[1.0], [1.5]])
    y_hat = 1 / (1 + torch.exp(-(x @ w + b)))
    return ((y - y_hat) ** 2).sum()


EXAMPLES = {
    "01_1_chain_rule": single_value_example,
    "02_1_matrix_product": matrix_example,
    "03_1_sigmoid_neuron": activation_example,
}


def stored_code_outputs(chapter):
    notebook = json.loads((CHAPTERS / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    return [c.get("outputs", []) for c in notebook["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("chapter", GRAPHS)
def test_each_displayed_graph_is_autograds_record_of_the_worked_example(chapter):
    _, shown = run_chapter(chapter)
    assert sorted(name for _, name, _, _ in shown) == sorted(GRAPHS[chapter]), (
        f"{chapter} shows the graphs {[name for _, name, _, _ in shown]}; GRAPHS lists "
        f"{sorted(GRAPHS[chapter])}"
    )
    for _, name, figure, (ops, edges) in shown:
        assert {node.grad_fn: node.op for node in figure.nodes} == ops, name
        fn = {node.id: node.grad_fn for node in figure.nodes}
        assert {(fn[s], fn[t], k) for s, t, k in figure.edges} == edges, name
        assert len(figure.edges) == len(edges), f"{name}: an edge drawn twice"
        drawn = (
            sorted(node.op for node in figure.nodes),
            sorted((type(fn[s]).__name__, type(fn[t]).__name__, k) for s, t, k in figure.edges),
        )
        assert drawn == shape_of(EXAMPLES[chapter]()), f"{name} is not the worked example's graph"


@pytest.mark.parametrize("chapter", GRAPHS)
def test_the_stored_outputs_show_exactly_those_graphs(chapter):
    """What the book shows is what the run draws (nbval compares the rest of the output)."""
    _, shown = run_chapter(chapter)
    outputs = stored_code_outputs(chapter)
    stored = [
        index
        for index, cell_outputs in enumerate(outputs)
        for output in cell_outputs
        if 'class="autograd-graph"' in "".join(output.get("data", {}).get("text/html", ""))
    ]
    assert stored == [index for index, _, _, _ in shown]
    for index, name, figure, _ in shown:
        (html,) = ["".join(o["data"]["text/html"]) for o in outputs[index] if "data" in o]
        assert html == figure._repr_html_(), f"{name}: the stored figure is not the drawn one"


# --- alt texts -------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:\.\d+)?(?![\w.]*\d)")


def numbers_in(text):
    """The numbers a text quotes, as written (not the digits inside names like w1)."""
    return [match.group().replace("−", "-") for match in _NUMBER.finditer(text)]


def agrees(quoted, value):
    """``value`` rounds to ``quoted`` at the precision it is quoted with."""
    decimals = len(quoted.split(".")[1]) if "." in quoted else 0
    return abs(float(quoted) - value) <= 0.5 * 10**-decimals + 1e-12


def alt_texts(chapter):
    """{figure name: alt text}: static figures (cell metadata) and animations (their call)."""
    notebook = json.loads((CHAPTERS / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    alts = {}
    for cell in notebook["cells"]:
        mystnb = cell["metadata"].get("mystnb", {})
        if "alt" in mystnb.get("image", {}):
            alts[mystnb["figure"]["name"]] = mystnb["image"]["alt"]
        if cell["cell_type"] == "code":
            for node in ast.walk(ast.parse("".join(cell["source"]))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "animation_html":
                    keywords = {k.arg: k.value for k in node.keywords}
                    alts[ast.literal_eval(node.args[1])] = ast.literal_eval(keywords["alt"])
    return alts


def _values(*tensors):
    return [float(v) for t in tensors for v in torch.as_tensor(t).flatten().tolist()]


def _argmin(ns):
    return float(ns["w_grid"][ns["loss_of"](ns["w_grid"], ns["x"], ns["y"]).argmin()])


# chapter -> {figure: data the alt text may quote, from the chapter's namespace}
FIGURE_DATA = {
    "01_1_chain_rule": {
        # the curve's minimum, the point w_0 = 3 with its loss and slope
        "fig-single-value-tangent": lambda ns: [
            _argmin(ns),
            *_values(ns["w_0"], ns["loss_of"](ns["w_0"], ns["x"], ns["y"])),
            *_values(ns["loss_backward"](ns["x"], ns["y"], ns["w_0"])),
        ],
        # the first step, the minimum, the first slope and the slope at the minimum
        "descent_single_value": lambda ns: [
            *_values(ns["ws_hand"][0], ns["slopes"][0]),
            _argmin(ns),
            *_values(ns["loss_backward"](ns["x"], ns["y"], torch.tensor([_argmin(ns)]))),
        ],
    },
    "02_1_matrix_product": {
        # the labels drawn, the minimum and its loss, the starting weights and their loss
        "fig-matrix-loss-surface": lambda ns: [
            *[float(text.get_text()) for text in ns["contours"].labelTexts],
            *_values(ns["w_star"], ns["loss_of"](ns["x"], ns["w_star"], ns["y"])),
            *_values(ns["w"], ns["loss_of"](ns["x"], ns["w"], ns["y"])),
        ],
        # the first and the last positions' target: start and minimum
        "matrix_gradient_descent": lambda ns: _values(ns["path"][0], ns["w_star"]),
    },
    "02_2_broadcasts_and_lookups": {
        # the sizes, the rows looked up and the rows not, the samples sharing a row, and the
        # first entry of that row by index_add_ and by +=
        "fig-embedding-scatter": lambda ns: [
            *ns["a"].shape,
            ns["v"],
            *ns["ix"].tolist(),
            *[o for o in range(ns["v"]) if o not in ns["ix"].tolist()],
            *ns["samples"],
            *_values(ns["dL_dc"][ns["repeated"], 0], ns["dL_dc_once"][ns["repeated"], 0]),
        ],
    },
    "02_3_normalisation": {
        # the small batch's sizes, the Jacobian's side, the numbers of blocks
        "fig-normalisation-jacobians": lambda ns: [
            *ns["x_small"].shape,
            ns["x_small"].numel(),
            ns["x_small"].shape[0] ** 2,
            ns["x_small"].shape[0] ** 2 - ns["x_small"].shape[0],
        ],
    },
    "03_1_sigmoid_neuron": {
        # the grid's ends, the sigmoid's range, the slope's peak and where it is, the two s
        "fig-ch3-sigmoid": lambda ns: [
            *_values(ns["s_plot"][[0, -1]], ns["sigmoid"](ns["s_plot"][[0, -1]])),
            *_values(ns["d_sigmoid"](ns["s_plot"]).max()),
            *_values(ns["s_plot"][ns["d_sigmoid"](ns["s_plot"]).argmax()], ns["s_worked"]),
        ],
        # the number of points, their x range, their targets' range, the number of steps
        "ch3_sigmoid_fit": lambda ns: [
            ns["n_points"],
            *_values(ns["x_train"].min(), ns["x_train"].max()),
            *_values(ns["y_train"].min(), ns["y_train"].max()),
            ns["n_steps"],
        ],
    },
    "03_2_layer_by_layer": {
        # the layers' numbers, as their boxes are labelled ("linear 1", "linear 2")
        "fig-ch3-gradient-flow": lambda ns: [
            float(number)
            for label, _, _ in ns["flow_layers"]
            for number in re.findall(r"\d+", label.split("\n")[0])
        ],
        # the data at both ends and in the middle, the fits' peak and level, the losses
        "fig-ch3-network-fit": lambda ns: [
            ns["n_bump"],
            *_values(ns["x_bump"][[0, 10, -1]], ns["y_bump"][[0, 10, -1]]),
            *_values(ns["fit_network"].max(), ns["x_grid"][ns["fit_network"].argmax()]),
            *_values(ns["fit_neuron"].mean()),
            ns["n_steps_net"],
            *_values(ns["losses_net_hand"][0], ns["losses_net_hand"][-1]),
            *_values(ns["losses_neuron"][0], ns["losses_neuron"][-1]),
        ],
        # the layers' numbers (first and last), every norm drawn, and their range
        "fig-ch3-gradient-norms": lambda ns: [
            1.0,
            float(ns["depth"]),
            *ns["norms_sigmoid"],
            *ns["norms_relu"],
        ],
    },
}


@pytest.mark.parametrize(
    "quoted, value, ok",
    [("2.5", 2.5, True), ("1.2", 1.2000001, True), ("0.3", 0.8, False), ("7", 7.6, False)],
)
def test_agrees_reads_the_precision_of_the_quote(quoted, value, ok):
    assert agrees(quoted, value) == ok


def test_numbers_in_skips_names_and_reads_minus_signs():
    text = "near w1 = 2.5, w2 = −1.2, labelled from 0.3 to 7; a 2×2 grid? L(w) = 16."
    assert numbers_in(text) == ["2.5", "-1.2", "0.3", "7", "2", "2", "16"]


@pytest.mark.parametrize("chapter", FIGURE_DATA)
def test_every_figure_with_an_alt_text_is_checked(chapter):
    assert sorted(alt_texts(chapter)) == sorted(FIGURE_DATA[chapter])


@pytest.mark.parametrize(
    "chapter, figure", [(c, f) for c, figures in FIGURE_DATA.items() for f in figures]
)
def test_every_number_an_alt_text_quotes_is_in_the_figures_data(chapter, figure):
    namespace, _ = run_chapter(chapter)
    alt = alt_texts(chapter)[figure]
    data = FIGURE_DATA[chapter][figure](namespace)
    quoted = numbers_in(alt)
    assert quoted, f"{figure}: its alt text quotes no number, so this test checks nothing"
    wrong = [q for q in quoted if not any(agrees(q, value) for value in data)]
    assert not wrong, f"{figure}: the alt text quotes {wrong}, not in the figure's data {data}"


def test_the_contour_alt_text_names_the_labels_drawn():
    namespace, _ = run_chapter("02_1_matrix_product")
    alt = alt_texts("02_1_matrix_product")["fig-matrix-loss-surface"]
    low, high = re.search(r"labelled from ([\d.]+) to ([\d.]+)", alt).groups()
    labels = [float(text.get_text()) for text in namespace["contours"].labelTexts]
    assert (float(low), float(high)) == (min(labels), max(labels)), labels
    drawn = [len(path.vertices) > 0 for path in namespace["contours"].get_paths()]
    assert all(drawn), "a contour level is listed that the loss never reaches"
