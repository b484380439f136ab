"""Page 1.2's engine records the same graph as autograd: node for node, edge for edge.

``graphs.graph_of_values`` turns the engine's record into a ``graphs.Graph``, in the order
``graphs.record_graph`` gives autograd's; the two are compared on the page's drawn
expression and on random expressions from the page's own generator (every operation, values
used more than once). The adapter's own behaviour is tested at the end.
"""

import random

import pytest
import torch

from chapter_runner import chapter_cells, run_cells
from graphs import draw_recorded, graph_of_values, record_graph

CHAPTER = "01_2_scalar_autograd"

# Our operation -> autograd's node (Rsub: a number minus a tensor).
AUTOGRAD_OPS = {
    "leaf": {"AccumulateGrad"},
    "add": {"AddBackward0"},
    "sub": {"SubBackward0", "RsubBackward1"},
    "mul": {"MulBackward0"},
    "div": {"DivBackward0"},
    "pow": {"PowBackward0"},
    "exp": {"ExpBackward0"},
    "log": {"LogBackward0"},
    "tanh": {"TanhBackward0"},
    "sigmoid": {"SigmoidBackward0"},
    "maximum": {"MaximumBackward0"},
    "relu": {"ReluBackward0"},
}


@pytest.fixture(scope="module")
def page():
    namespace = {"__name__": "__main__"}
    outcome = run_cells(chapter_cells(CHAPTER), CHAPTER, namespace)
    assert outcome is None, f"{CHAPTER} fails: {outcome!r}"
    return namespace


def assert_same_graph(ours, theirs):
    assert len(ours.nodes) == len(theirs.nodes), (ours.describe(), theirs.describe())
    for mine, autograds in zip(ours.nodes, theirs.nodes, strict=True):
        assert autograds.op in AUTOGRAD_OPS[mine.op], (mine, autograds)
        if autograds.value is not None:
            torch.testing.assert_close(mine.value, autograds.value.to(torch.float64).reshape(()))
    assert ours.edges == theirs.edges


def test_the_drawn_expression_records_the_same_graph(page):
    w = page["Value"](page["w_value"])
    loss = page["two_sample_loss"](w)
    w_torch = torch.tensor(page["w_value"], dtype=torch.float64, requires_grad=True)
    loss_torch = page["two_sample_loss"](w_torch)
    ours = graph_of_values(loss, names={"w": w, "L": loss})
    assert_same_graph(ours, record_graph(loss_torch, names={"w": w_torch, "L": loss_torch}))
    assert [n.name for n in ours.nodes if n.name] == ["w", "L"]


def test_random_expressions_record_the_same_graph(page):
    Value, rng = page["Value"], random.Random(29)
    seen = set()
    for _ in range(60):
        numbers, steps = page["random_expression"](rng)
        leaves = [Value(v) for v in numbers]
        tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in numbers]
        output = page["run_steps"](steps, *leaves)
        output_torch = page["run_steps"](steps, *tensors)
        assert_same_graph(graph_of_values(output), record_graph(output_torch))
        seen.update(node.op for node in graph_of_values(output).nodes)
    assert seen == set(AUTOGRAD_OPS), set(AUTOGRAD_OPS) - seen


def test_a_value_used_twice_gives_two_edges(page):
    x = page["Value"](3.0)
    graph = graph_of_values(x * x)
    assert graph.edges == ((0, 1, 0), (0, 1, 1))


def test_a_graph_that_differs_is_told_apart(page):
    """The comparison can fail: x * x against autograd's x * y."""
    Value = page["Value"]
    x = Value(3.0)
    ours = graph_of_values(x * x)
    a, b = (torch.tensor(v, requires_grad=True) for v in (3.0, 2.0))
    with pytest.raises(AssertionError):
        assert_same_graph(ours, record_graph(a * b))


def test_constants_are_left_out_and_positions_count_the_rest(page):
    Value = page["Value"]
    w = Value(2.0)
    graph = graph_of_values(5.0 - w * 3.0, names={"w": w})
    assert [n.op for n in graph.nodes] == ["leaf", "mul", "sub"]
    assert graph.edges == ((0, 1, 0), (1, 2, 0))
    assert "as our engine recorded it" in graph.describe()


def test_the_adapter_refuses_what_is_not_an_engine_value(page):
    with pytest.raises(TypeError, match="value of a scalar engine"):
        graph_of_values(torch.tensor(1.0))
    Value = page["Value"]
    with pytest.raises(ValueError, match="not a value of the graph"):
        graph_of_values(Value(1.0) * 2.0, names={"w": Value(1.0)})


def test_the_engine_graph_is_drawn_with_its_leaf_as_a_leaf(page):
    Value = page["Value"]
    w = Value(3.0)
    figure = draw_recorded(graph_of_values((w * 2.0).tanh(), names={"w": w}), caption="c")
    assert figure.nodes[0].is_leaf and not figure.nodes[1].is_leaf
    assert "leaf (w) = 3" in figure.alt and 'id="node-0"' in figure.svg


def test_the_engines_graph_is_named_by_the_output_and_keeps_each_value(page):
    w = page["Value"](page["w_value"])
    loss = page["two_sample_loss"](w)
    named = graph_of_values(loss, names={"w": w, "loss": loss})
    assert named.output_name == "loss" and named.nodes[-1].name == "loss"
    assert graph_of_values(loss).output_name == "L", "an output without a name is L"
    assert named.nodes[-1].grad_fn is loss, "each node keeps the value it stands for"
    assert named.constants == (), "an engine of numbers holds no constant tensors"


def test_something_that_is_no_value_is_refused_in_words():
    with pytest.raises(TypeError) as error:
        graph_of_values(3.0)
    assert str(error.value) == (
        "graph_of_values: output must be a value of a scalar engine, with data, inputs and op; "
        "float has no 'data'"
    )
