"""Unit tests for chapters/graphs.py: autograd's record as data, and its drawing.

Each test rebuilds one of the course's worked examples and compares what graphs.py
returns with an independent walk of autograd's record (`walk` below), so the figure
a chapter shows cannot drift from what autograd recorded.
"""

import base64
import html.parser
import re
import xml.etree.ElementTree as ET

import pytest
import torch

from graphs import draw_graph, record_graph

SVG = "{http://www.w3.org/2000/svg}"


def walk(output):
    """Autograd's record, independently of graphs.py: {node: op} and (input, output, k)."""
    ops, edges, todo = {}, set(), [output.grad_fn]
    while todo:
        fn = todo.pop()
        if fn in ops:
            continue
        ops[fn] = type(fn).__name__
        for k, (child, _) in enumerate(fn.next_functions):
            if child is not None:
                edges.add((child, fn, k))
                todo.append(child)
    return ops, edges


def single_value(summed=False):
    """Chapter 1's worked example: w = 3, x = 2, y = 2, L = (y - w x)^2."""
    w = torch.tensor([3.0], requires_grad=True)
    x = torch.tensor([2.0])
    y = torch.tensor([2.0])
    y_hat = w * x
    L = (y - y_hat) ** 2
    if summed:
        L = L.sum()
    dL_dyhat = -2 * (y - y_hat.detach())
    names = {"w": w, "x": x, "y": y, "y_hat": y_hat, "L": L}
    return L, names, {"y_hat": dL_dyhat, "w": (dL_dyhat * x).reshape(w.shape)}


def matrix():
    """Chapter 2's worked example: Z = X W, L = sum (Y - Z)^2."""
    w = torch.tensor([[3.0, 1.0]], requires_grad=True)
    x = torch.tensor([[2.0], [1.0]])
    y = torch.tensor([[5.0, 2.0], [2.5, 2.0]])
    z = x @ w
    L = ((y - z) ** 2).sum()
    dL_dz = -2 * (y - z.detach())
    return L, {"w": w, "x": x, "y": y, "z": z, "L": L}, {"z": dL_dz, "w": x.T @ dL_dz}


def sigmoid_neuron(sigmoid=torch.sigmoid):
    """Chapter 3's worked example: S = X W + b, Y_hat = sigmoid(S), L summed."""
    w = torch.tensor([[3.0]], requires_grad=True)
    b = torch.tensor([[1.0]], requires_grad=True)
    x = torch.tensor([[2.0], [-2.0]])
    y = torch.tensor([[1.0], [1.5]])
    s = x @ w + b
    y_hat = sigmoid(s)
    L = ((y - y_hat) ** 2).sum()
    p = y_hat.detach()
    dL_ds = -2 * (y - p) * p * (1 - p)
    names = {"w": w, "b": b, "x": x, "y": y, "s": s, "y_hat": y_hat, "L": L}
    gradients = {"s": dL_ds, "w": x.T @ dL_ds, "b": dL_ds.sum(dim=0, keepdim=True)}
    return L, names, gradients


def named_edges(graph):
    """Edges as (input, output) pairs of names, or of ops for unnamed nodes."""
    label = {node.id: node.name or node.op for node in graph.nodes}
    return sorted((label[s], label[t]) for s, t, _ in graph.edges)


@pytest.mark.parametrize(
    "example, ops, edges",
    [
        (
            single_value,
            ["AccumulateGrad", "MulBackward0", "SubBackward0", "PowBackward0"],
            [("SubBackward0", "L"), ("w", "y_hat"), ("y_hat", "SubBackward0")],
        ),
        (
            lambda: single_value(summed=True),
            ["AccumulateGrad", "MulBackward0", "SubBackward0", "PowBackward0", "SumBackward0"],
            [
                ("PowBackward0", "L"),
                ("SubBackward0", "PowBackward0"),
                ("w", "y_hat"),
                ("y_hat", "SubBackward0"),
            ],
        ),
        (
            matrix,
            ["AccumulateGrad", "MmBackward0", "SubBackward0", "PowBackward0", "SumBackward0"],
            [
                ("PowBackward0", "L"),
                ("SubBackward0", "PowBackward0"),
                ("w", "z"),
                ("z", "SubBackward0"),
            ],
        ),
        (
            sigmoid_neuron,
            [
                "AccumulateGrad",
                "MmBackward0",
                "AccumulateGrad",
                "AddBackward0",
                "SigmoidBackward0",
                "SubBackward0",
                "PowBackward0",
                "SumBackward0",
            ],
            [
                ("MmBackward0", "s"),
                ("PowBackward0", "L"),
                ("SubBackward0", "PowBackward0"),
                ("b", "s"),
                ("s", "y_hat"),
                ("w", "MmBackward0"),
                ("y_hat", "SubBackward0"),
            ],
        ),
    ],
    ids=["single_value", "single_value_summed", "matrix", "sigmoid"],
)
def test_worked_examples_give_the_expected_ops_and_edges(example, ops, edges):
    L, names, _ = example()
    graph = record_graph(L, names)
    assert [node.op for node in graph.nodes] == ops
    assert named_edges(graph) == edges
    assert graph.nodes[-1].grad_fn is L.grad_fn, "the output's node comes last"
    assert graph.output_name == "L"
    for s, t, _ in graph.edges:
        assert s < t, "a node comes after every node it takes an input from"
    constants = dict(graph.constants)
    assert set(constants) == {"x", "y"}, "data that requires no gradient is listed apart"
    torch.testing.assert_close(constants["x"], names["x"], rtol=0, atol=0)


@pytest.mark.parametrize("example", [single_value, matrix, sigmoid_neuron])
def test_record_equals_an_independent_walk_of_autograd(example):
    L, names, _ = example()
    graph = record_graph(L, names)
    ops, edges = walk(L)
    assert {node.grad_fn: node.op for node in graph.nodes} == ops
    fn = {node.id: node.grad_fn for node in graph.nodes}
    assert {(fn[s], fn[t], k) for s, t, k in graph.edges} == edges
    assert len(graph.edges) == len(edges), "no edge twice"
    for name, tensor in names.items():
        if tensor.requires_grad:
            node = graph.node(name)
            if tensor.grad_fn is None:
                assert node.op == "AccumulateGrad" and node.grad_fn.variable is tensor
            else:
                assert node.grad_fn is tensor.grad_fn


def test_forward_values_are_the_tensors_and_what_autograd_saved():
    L, names, _ = single_value()
    graph = record_graph(L, names)
    values = {node.name or node.op: node.value for node in graph.nodes}
    w, x, y = names["w"], names["x"], names["y"]
    torch.testing.assert_close(values["w"], w.detach(), rtol=0, atol=0)
    torch.testing.assert_close(values["y_hat"], (w * x).detach(), rtol=0, atol=0)
    # not named: the input PowBackward0 saved, y - y_hat = 2 - 6
    torch.testing.assert_close(values["SubBackward0"], (y - w * x).detach(), rtol=0, atol=0)
    torch.testing.assert_close(values["L"], ((y - w * x) ** 2).detach(), rtol=0, atol=0)


def test_forward_values_on_random_inputs_where_no_coincidence_hides_a_swap():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(5, 3, generator=generator, dtype=torch.float64)
    w = torch.randn(3, 4, generator=generator, dtype=torch.float64, requires_grad=True)
    y = torch.randn(5, 4, generator=generator, dtype=torch.float64)
    z = x @ w
    L = ((y - torch.sigmoid(z)) ** 2).sum()
    graph = record_graph(L, {"w": w, "z": z})
    values = {node.op: node.value for node in graph.nodes}
    torch.testing.assert_close(values["MmBackward0"], (x @ w).detach(), rtol=0, atol=0)
    torch.testing.assert_close(values["SigmoidBackward0"], torch.sigmoid(x @ w).detach())
    torch.testing.assert_close(values["SubBackward0"], (y - torch.sigmoid(x @ w)).detach())
    assert values["PowBackward0"] is None, "SumBackward0 saves no input: no value to show"


def test_chapter_3s_own_sigmoid_is_recorded_op_by_op():
    L, names, gradients = sigmoid_neuron(sigmoid=lambda s: 1 / (1 + torch.exp(-s)))
    graph = record_graph(L, names)
    ops = [node.op for node in graph.nodes]
    for op in ("NegBackward0", "ExpBackward0", "ReciprocalBackward0", "MulBackward0"):
        assert op in ops
    assert "SigmoidBackward0" not in ops
    assert graph.node("y_hat").op == "MulBackward0"  # 1 / u is 1 * reciprocal(u)
    draw_graph(L, names, gradients)  # the hand gradients agree with autograd's


def test_a_tensor_used_twice_gives_two_edges():
    w = torch.tensor([3.0], requires_grad=True)
    L = (w * w).sum()
    graph = record_graph(L, {"w": w})
    assert [(s, t, k) for s, t, k in graph.edges if t == 1] == [(0, 1, 0), (0, 1, 1)]


@pytest.mark.parametrize("example", [single_value, matrix, sigmoid_neuron])
def test_the_drawing_holds_the_same_nodes_and_edges_as_autograd(example):
    L, names, gradients = example()
    figure = draw_graph(L, names, gradients)
    ops, edges = walk(L)
    assert {node.grad_fn: node.op for node in figure.nodes} == ops
    fn = {node.id: node.grad_fn for node in figure.nodes}
    assert {(fn[s], fn[t], k) for s, t, k in figure.edges} == edges
    # and the SVG holds one element per node and per edge, with those ids
    root = ET.fromstring(figure.svg)
    ids = {element.get("id") for element in root.iter() if element.get("id")}
    assert {i for i in ids if i.startswith("node-")} == {f"node-{n.id}" for n in figure.nodes}
    drawn_edges = {i for i in ids if i.startswith("edge-")}
    assert drawn_edges == {f"edge-{s}-{t}-{k}" for s, t, k in figure.edges}
    drawn_gradients = {i for i in ids if i.startswith("gradient-")}
    assert drawn_gradients == {f"gradient-{figure.graph.node(n).id}" for n in gradients}
    texts = [element.text for element in root.iter(f"{SVG}text")]
    for node in figure.nodes:
        assert node.op in texts, f"{node.op} is not written in the figure"


def test_the_drawing_shows_values_and_hand_gradients():
    L, names, gradients = single_value()
    figure = draw_graph(L, names, gradients)
    texts = [element.text for element in ET.fromstring(figure.svg).iter(f"{SVG}text")]
    for text in ("w = 3", "ŷ = 6", "−4", "L = 16", "∂L/∂ŷ = 8", "∂L/∂w = 16"):
        assert text in texts, f"{text!r} not in the figure's texts {texts}"
    assert any("x = 2, y = 2" in text for text in texts), "the constants are named"


@pytest.mark.parametrize("example", [single_value, matrix, sigmoid_neuron])
def test_the_text_alternative_names_every_node_and_edge(example):
    L, names, gradients = example()
    figure = draw_graph(L, names, gradients)
    graph = figure.graph
    for node in graph.nodes:
        assert graph.label(node) in figure.alt
    assert f"{len(graph.nodes)} nodes" in figure.alt
    for s, t, _ in graph.edges:
        assert f"{graph.label(graph.nodes[s])} → {graph.label(graph.nodes[t])}" in figure.alt
    for name in gradients:
        assert f"∂L/∂{'ŷ' if name == 'y_hat' else name} = " in figure.alt
    assert "x = " in figure.alt and "y = " in figure.alt
    assert repr(figure) == figure.alt, "text/plain is the text alternative"


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_the_html_is_a_figure_with_an_image_its_alt_and_a_caption():
    L, names, gradients = matrix()
    figure = draw_graph(L, names, gradients, caption="The worked example's graph")
    page = figure._repr_html_()
    parser = _Tags()
    parser.feed(page)
    assert [tag for tag, _ in parser.tags] == ["figure", "img", "figcaption"]
    img = parser.tags[1][1]
    assert img["alt"] == figure.alt, "the alt attribute survives escaping intact"
    prefix = "data:image/svg+xml;base64,"
    assert img["src"].startswith(prefix)
    assert base64.b64decode(img["src"][len(prefix) :]).decode() == figure.svg
    assert int(img["width"]) > int(img["height"]) > 0
    assert "<figcaption>The worked example&#x27;s graph</figcaption>" in page
    assert "http" not in page, "the figure loads nothing from the network"
    assert len(page) < 30_000, f"the figure is {len(page)} bytes"


def test_the_figure_is_the_same_on_every_run():
    first, second = (draw_graph(*sigmoid_neuron()) for _ in range(2))
    assert first._repr_html_() == second._repr_html_(), "nbval compares stored outputs"
    assert not re.search(r"\d{4}-\d\d-\d\dT", first.svg), "no date in the SVG"


# Bad input: a clear message, never a raw traceback from autograd's internals.


def test_an_output_without_grad_fn_is_explained():
    x = torch.tensor([2.0])
    with pytest.raises(ValueError, match="not computed from any tensor with requires_grad"):
        record_graph((x * 3).sum())
    w = torch.tensor([3.0], requires_grad=True)
    with pytest.raises(ValueError, match="it is a leaf tensor"):
        record_graph(w)
    with pytest.raises(TypeError, match="output must be a torch.Tensor"):
        record_graph(16.0)


def test_a_name_that_matches_no_node_is_explained():
    L, names, _ = single_value()
    other_run, _, _ = single_value()
    with pytest.raises(ValueError, match=r"names\['other'\] matches no node"):
        record_graph(L, {**names, "other": other_run})
    w_copy = names["w"].detach().clone().requires_grad_()
    with pytest.raises(ValueError, match=r"names\['w_copy'\] matches no node"):
        record_graph(L, {**names, "w_copy": w_copy})
    with pytest.raises(ValueError, match="'L' and 'cost' name the same node"):
        record_graph(L, {**names, "cost": L})
    with pytest.raises(TypeError, match=r"names\['w'\] must be a torch.Tensor"):
        record_graph(L, {"w": 3.0})
    with pytest.raises(TypeError, match="names must be a dict"):
        record_graph(L, [names["w"]])
    with pytest.raises(KeyError, match="no node of the graph is named 'q'"):
        record_graph(L, names).node("q")


def test_bad_hand_gradients_are_explained():
    L, names, gradients = single_value()
    with pytest.raises(ValueError, match=r"gradients\['s'\] has no tensor"):
        draw_graph(L, names, {"s": torch.tensor([1.0])})
    with pytest.raises(ValueError, match="'x' is not in autograd's record"):
        draw_graph(L, names, {"x": torch.tensor([1.0])})
    with pytest.raises(ValueError, match=r"has shape \(\), but w has shape \(1,\)"):
        draw_graph(L, names, {"w": torch.tensor(16.0)})
    with pytest.raises(ValueError, match="hand-derived gradient for 'w' is .-16.0., but autograd"):
        draw_graph(L, names, {"w": -gradients["w"]})  # a sign slip
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        draw_graph(L, names, {"w": 16.0})
    with pytest.raises(ValueError, match="caption must be a non-empty string"):
        draw_graph(L, names, gradients, caption=" ")


def test_x_and_y_swapped_in_a_hand_gradient_is_caught_where_x_differs_from_y():
    w = torch.tensor([3.0], requires_grad=True)
    x, y = torch.tensor([2.0]), torch.tensor([5.0])
    y_hat = w * x
    L = (y - y_hat) ** 2
    wrong = -2 * (y - y_hat.detach()) * y  # y where x belongs
    with pytest.raises(ValueError, match="autograd computes"):
        draw_graph(L, {"w": w, "x": x, "y": y, "y_hat": y_hat, "L": L}, {"w": wrong})


def test_after_backward_the_gradients_cannot_be_checked_and_it_says_so():
    L, names, gradients = single_value()
    L.backward()
    with pytest.raises(ValueError, match="freed by backward"):
        draw_graph(L, names, gradients)
    figure = draw_graph(L, names, gradients, check=False)
    # what backward() freed is not shown; the named tensors still are
    assert figure.graph.node("y_hat").value is not None
    assert [n.value for n in figure.nodes if n.op == "SubBackward0"] == [None]


def test_a_non_scalar_output_cannot_check_gradients():
    w = torch.tensor([3.0, 1.0], requires_grad=True)
    errors = (torch.tensor([2.0, 2.0]) - w) ** 2
    with pytest.raises(ValueError, match="needs a single number"):
        draw_graph(errors, {"w": w}, {"w": torch.zeros(2)})
    draw_graph(errors, {"w": w}, {"w": torch.zeros(2)}, check=False)
