"""Unit tests for chapters/graphs.py: autograd's record as data, and its drawing.

Each test rebuilds one of the course's worked examples and compares what graphs.py
returns with an independent walk of autograd's record (`walk` below), so the figure
a chapter shows cannot drift from what autograd recorded.
"""

import base64
import html.parser
import re
import xml.etree.ElementTree as ET

import matplotlib.font_manager
import matplotlib.textpath
import pytest
import torch

from graphs import draw_graph, format_value, pretty, record_graph

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


# What the figure shows: read back from the SVG (what the reader sees), in points, y down.

_TEXT_SIZE = matplotlib.textpath.TextToPath()


def drawing(figure):
    """The SVG's boxes, arrows and texts, with their extents in the SVG's coordinates."""
    root = ET.fromstring(figure.svg)
    size = tuple(float(root.get(key).removesuffix("pt")) for key in ("width", "height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')[:-2]} {root.get('height')[:-2]}"

    def style(element):
        return dict(
            part.split(": ", 1) for part in element.get("style", "").split("; ") if ": " in part
        )

    def points(path):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d"))]
        return list(zip(numbers[::2], numbers[1::2], strict=True))

    shapes = {}
    for group in root.iter(f"{SVG}g"):
        gid = group.get("id", "")
        if gid.startswith(("node-", "edge-", "gradient-")):
            path = group.find(f"{SVG}path")
            xy = points(path)
            xs, ys = [x for x, _ in xy], [y for _, y in xy]
            shapes[gid] = {
                "box": (min(xs), min(ys), max(xs), max(ys)),
                "start": xy[0],
                "end": xy[-1],
                "points": len(xy),
                "xy": xy,
                "style": style(path),
            }
    texts = []
    for element in root.iter(f"{SVG}text"):
        look = style(element)
        font = matplotlib.font_manager.FontProperties(
            family="DejaVu Sans",
            size=float(look["font-size"].removesuffix("px")),
            weight=look.get("font-weight", "normal"),
            style=look.get("font-style", "normal"),
        )
        w, h, d = _TEXT_SIZE.get_text_width_height_descent(element.text, font, ismath=False)
        x, y = float(element.get("x")), float(element.get("y"))
        left = {"middle": x - w / 2, "start": x, "end": x - w}[look.get("text-anchor", "start")]
        texts.append({"text": element.text, "box": (left, y - h + d, left + w, y + d), **look})
    return size, shapes, texts


def overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(inner, outer, pad=0.0):
    return (
        inner[0] >= outer[0] + pad
        and inner[1] >= outer[1] + pad
        and inner[2] <= outer[2] - pad
        and inner[3] <= outer[3] - pad
    )


def centre(box):
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def far_apart():
    """A graph where a leaf's consumer is two columns on, an operation's four, and two
    inputs of different operations would land on the same row: p = w x waits for
    exp(exp(exp(w))) (column 4), and a c + b d puts c and b side by side."""
    w = torch.tensor([0.5], requires_grad=True)
    a, b, c, d = (torch.tensor([v], requires_grad=True) for v in (1.0, 2.0, 3.0, 4.0))
    x = torch.tensor([2.0])
    p = w * x
    s = w.exp().exp().exp()
    L = (s + p + a * c + b * d).sum()
    names = {"w": w, "a": a, "b": b, "c": c, "d": d, "x": x, "p": p, "s": s, "L": L}
    return L, names, {}


EXAMPLES = [single_value, matrix, sigmoid_neuron, far_apart]
# The layouts: one band however wide (None); the book's (a band at most 6.5 inches wide, so
# the sigmoid neuron and far_apart continue below); and narrow bands, where every example
# but the smallest wraps, some more than once.
MAX_WIDTHS = [None, 6.5, 5.0]


@pytest.mark.parametrize("max_width", MAX_WIDTHS)
@pytest.mark.parametrize("example", EXAMPLES)
def test_each_box_holds_its_operation_in_bold_above_its_value_centred(example, max_width):
    L, names, gradients = example()
    figure = draw_graph(L, names, gradients, max_width=max_width)
    _, shapes, texts = drawing(figure)
    sizes = {text["font-size"] for text in texts}
    assert len(sizes) == 1, f"one size of text throughout, not {sizes}"
    for node in figure.nodes:
        box = shapes[f"node-{node.id}"]["box"]
        op, value = texts[2 * node.id], texts[2 * node.id + 1]
        assert op["text"] == node.op and op.get("font-weight") == "700"
        assert "font-weight" not in value
        assert op["box"][3] < value["box"][1], f"{node.op}: its operation above its value"
        for line in (op, value):
            assert inside(line["box"], box, pad=2), f"{line['text']!r} is not inside its box"
            assert centre(line["box"])[0] == pytest.approx(centre(box)[0], abs=0.01)
        assert abs(centre(op["box"])[1] - box[1]) < abs(centre(op["box"])[1] - box[3])
        assert abs(centre(value["box"])[1] - box[3]) < abs(centre(value["box"])[1] - box[1])
        longest = max(op["box"][2] - op["box"][0], value["box"][2] - value["box"][0])
        width = box[2] - box[0]
        assert width <= max(1.5 * 72, longest + 0.65 * 72), f"{node.op}'s box is wider than needed"


@pytest.mark.parametrize("max_width", MAX_WIDTHS)
@pytest.mark.parametrize("example", EXAMPLES)
def test_boxes_do_not_overlap_and_leaves_are_green_operations_blue_the_loss_heavier(
    example, max_width
):
    L, names, gradients = example()
    figure = draw_graph(L, names, gradients, max_width=max_width)
    _, shapes, _ = drawing(figure)
    boxes = {node.id: shapes[f"node-{node.id}"] for node in figure.nodes}
    for i, a in boxes.items():
        for j, b in boxes.items():
            assert i == j or not overlap(a["box"], b["box"]), f"boxes {i} and {j} overlap"
        leaf = figure.nodes[i].is_leaf
        assert a["style"]["fill"] == ("#d9f0d3" if leaf else "#dbe9f6")
        assert a["style"]["stroke"] == "#000000"
    border = {i: float(b["style"]["stroke-width"]) for i, b in boxes.items()}
    loss = figure.nodes[-1].id
    assert all(border[loss] > border[i] for i in border if i != loss), "the loss stands out"


@pytest.mark.parametrize("example", EXAMPLES)
def test_columns_run_from_the_inputs_to_the_loss(example):
    """An operation sits one column right of its furthest input, a leaf one column left
    of its first consumer; inputs of one operation are spread around it, the first on top."""
    L, names, gradients = example()
    figure = draw_graph(L, names, gradients, max_width=None)
    _, shapes, _ = drawing(figure)
    box = {node.id: shapes[f"node-{node.id}"]["box"] for node in figure.nodes}
    xs = sorted({round(centre(b)[0], 2) for b in box.values()})
    column = {i: xs.index(round(centre(b)[0], 2)) for i, b in box.items()}
    inputs = {n.id: [s for s, t, _ in figure.edges if t == n.id] for n in figure.nodes}
    consumers = {n.id: [t for s, t, _ in figure.edges if s == n.id] for n in figure.nodes}
    for node in figure.nodes:
        if node.is_leaf:
            assert column[node.id] == min(column[t] for t in consumers[node.id]) - 1
        else:
            assert column[node.id] == 1 + max(column[i] for i in inputs[node.id])
    assert column[figure.nodes[-1].id] == len(xs) - 1, "the loss on the right"
    for source, target, _ in figure.edges:
        assert box[source][2] + 0.5 * 72 <= box[target][0], "a gap between columns"
    gaps = [
        min(b[0] for i, b in box.items() if column[i] == c + 1)
        - max(b[2] for i, b in box.items() if column[i] == c)
        for c in range(len(xs) - 1)
    ]
    assert max(gaps) - min(gaps) < 0.01 and min(gaps) < 0.7 * 72, "even, narrow gaps"
    for c in range(len(xs)):  # boxes of a column share a width and stack a row apart
        members = sorted((b for i, b in box.items() if column[i] == c), key=lambda b: b[1])
        assert len({round(b[2] - b[0], 2) for b in members}) == 1
        steps = {round(b[1] - a[1], 2) for a, b in zip(members, members[1:], strict=False)}
        assert steps <= {round(1.45 * 72, 2)}, f"column {c}: rows {steps} apart"


def test_two_inputs_sit_either_side_of_their_operation_the_first_on_top():
    L, names, gradients = sigmoid_neuron()
    figure = draw_graph(L, names, gradients, max_width=None)
    _, shapes, _ = drawing(figure)
    y = {n.id: centre(shapes[f"node-{n.id}"]["box"])[1] for n in figure.nodes}
    add = figure.graph.node("s").id
    first, second = sorted((s, k) for s, t, k in figure.edges if t == add)
    assert first[1] == 0 and second[1] == 1
    assert y[first[0]] < y[add] < y[second[0]], "the first input on top"
    assert y[first[0]] + y[second[0]] == pytest.approx(2 * y[add]), "either side, evenly"
    chain = [figure.graph.node(n).id for n in ("s", "y_hat", "L")]
    assert len({y[i] for i in chain}) == 1, "a chain stays on one line"


@pytest.mark.parametrize("max_width", MAX_WIDTHS)
@pytest.mark.parametrize("example", EXAMPLES)
def test_edges_join_the_boxes_and_gradients_point_back_dashed_and_red(example, max_width):
    L, names, gradients = example()
    figure = draw_graph(L, names, gradients, max_width=max_width)
    _, shapes, texts = drawing(figure)
    box = {node.id: shapes[f"node-{node.id}"]["box"] for node in figure.nodes}
    for source, target, k in figure.edges:
        edge = shapes[f"edge-{source}-{target}-{k}"]
        assert edge["start"][0] == pytest.approx(box[source][2], abs=1.5)
        assert edge["end"][0] == pytest.approx(box[target][0], abs=1.5)
        assert edge["start"][1] == pytest.approx(centre(box[source])[1], abs=2.5)
        assert edge["end"][1] == pytest.approx(centre(box[target])[1], abs=2.5)
        assert edge["style"]["stroke"] == "#000000" and "stroke-dasharray" not in edge["style"]
    labels = [t for t in texts if t["text"].startswith("∂")]
    assert len(labels) == len(gradients)
    for name in gradients:
        node = figure.graph.node(name).id
        (target,) = [t for s, t, _ in figure.edges if s == node]
        arrow = shapes[f"gradient-{node}"]
        assert arrow["start"][0] == pytest.approx(box[target][0], abs=1.5), "from the consumer"
        assert arrow["end"][0] == pytest.approx(box[node][2], abs=1.5), "back to the node"
        for end, i in ((arrow["start"], target), (arrow["end"], node)):
            assert centre(box[i])[1] < end[1] < box[i][3], "below the forward edge"
        assert arrow["style"]["stroke"] == "#b2182b" and "stroke-dasharray" in arrow["style"]


@pytest.mark.parametrize("max_width", MAX_WIDTHS)
@pytest.mark.parametrize("example", EXAMPLES)
def test_gradient_labels_sit_under_their_arrow_clear_of_every_box_and_label(example, max_width):
    L, names, gradients = example()
    figure = draw_graph(L, names, gradients, max_width=max_width)
    _, shapes, texts = drawing(figure)
    boxes = [shapes[f"node-{node.id}"]["box"] for node in figure.nodes]
    labels = [t for t in texts if t["text"].startswith("∂")]
    for label in labels:
        assert label["fill"] == "#b2182b" and label["text-anchor"] == "middle"
        assert not any(overlap(label["box"], box) for box in boxes), label["text"]
        above = [b for b in boxes if b[0] < label["box"][2] and label["box"][0] < b[2]]
        assert all(label["box"][1] - b[3] >= 6 for b in above if b[3] <= label["box"][1])
        assert not any(overlap(label["box"], o["box"]) for o in texts if o is not label)
    for name, label in zip(gradients, labels, strict=True):
        node = figure.graph.node(name).id
        arrow = shapes[f"gradient-{node}"]
        (target,) = [t for s, t, _ in figure.edges if s == node]
        if arrow["points"] <= 3:  # within a band: under the arrow, between the boxes
            middle = (centre(boxes[node])[0] + centre(boxes[target])[0]) / 2
            assert centre(label["box"])[0] == pytest.approx(middle, abs=0.01)
            assert 0 < label["box"][1] - arrow["box"][3] < 0.75 * 72, "just under its arrow"
        else:  # from the next band: under its node
            assert centre(label["box"])[0] == pytest.approx(centre(boxes[node])[0], abs=0.01)
            assert 0 < label["box"][1] - boxes[node][3] < 0.75 * 72, "just under its node"


def test_a_gradient_shared_by_two_consumers_is_written_under_its_node():
    w = torch.tensor([3.0], requires_grad=True)
    x = torch.tensor([2.0])
    L = (w * x + w.exp()).sum()
    figure = draw_graph(L, {"w": w, "x": x, "L": L}, {"w": x + w.detach().exp()})
    _, shapes, texts = drawing(figure)
    assert "gradient-0" not in shapes, "no one edge carries the whole gradient"
    (label,) = [t for t in texts if t["text"].startswith("∂L/∂w = ")]
    box = shapes["node-0"]["box"]
    assert centre(label["box"])[0] == pytest.approx(centre(box)[0], abs=0.01)
    assert 6 <= label["box"][1] - box[3] < 0.4 * 72, "just under the node, clear of it"


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_canvas_fits_the_drawing_with_small_even_margins(example):
    L, names, gradients = example()
    figure = draw_graph(L, names, gradients, max_width=None)
    (width, height), shapes, texts = drawing(figure)
    assert (figure.width, figure.height) == (round(width * 4 / 3), round(height * 4 / 3)), (
        "the img's size, in CSS pixels"
    )
    everything = [s["box"] for s in shapes.values()] + [t["box"] for t in texts]
    left, top = min(b[0] for b in everything), min(b[1] for b in everything)
    right, bottom = max(b[2] for b in everything), max(b[3] for b in everything)
    boxes = [s["box"] for k, s in shapes.items() if k.startswith("node-")]
    assert min(b[0] for b in boxes) == pytest.approx(width - max(b[2] for b in boxes), abs=0.5)
    assert 0 < left <= 0.15 * 72 and 0 < width - right <= 0.15 * 72
    assert 6 <= top <= 0.25 * 72 and 6 <= height - bottom <= 0.25 * 72, "small margins"
    root = ET.fromstring(figure.svg)
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert not [i for i in ids if re.match(r"(x|y)tick|matplotlib\.axis|spine", i)], "no axes"


def crosses(segment, box):
    """Whether an axis-parallel segment passes through the inside of a box."""
    (xa, ya), (xb, yb) = segment
    return (
        min(xa, xb) < box[2]
        and max(xa, xb) > box[0]
        and min(ya, yb) < box[3]
        and max(ya, yb) > box[1]
    )


@pytest.mark.parametrize("max_width", [6.5, 5.0])
@pytest.mark.parametrize("example", [sigmoid_neuron, far_apart])
def test_a_wide_graph_continues_in_bands_below_that_fit_the_width(example, max_width):
    L, names, gradients = example()
    assert draw_graph(L, names, gradients, max_width=None).width > max_width * 96
    figure = draw_graph(L, names, gradients, max_width=max_width)
    (width, _), shapes, texts = drawing(figure)
    assert width <= (max_width + 0.2 + 0.3) * 72, "a band, its margins and its indent"
    assert all(float(t["font-size"].removesuffix("px")) >= 8 for t in texts), "8 pt or more"
    box = {n.id: shapes[f"node-{n.id}"]["box"] for n in figure.nodes}
    routed = 0
    for source, target, k in figure.edges:
        edge = shapes[f"edge-{source}-{target}-{k}"]
        if edge["points"] <= 3:  # in a band, straight: the target to the right
            assert box[target][0] > box[source][2]
            continue
        routed += 1
        assert box[target][1] > box[source][3], "an edge that leaves a band goes to one below"
        # the arrow's line, without its head: right, down, back, down, into the target
        line = edge["xy"][:6]
        for a, b in zip(line, line[1:], strict=False):
            assert a[0] == pytest.approx(b[0], abs=0.01) or a[1] == pytest.approx(b[1], abs=0.01)
            for i, other in box.items():
                shrunk = (other[0] + 2, other[1] + 2, other[2] - 2, other[3] - 2)
                assert not crosses((a, b), shrunk), f"edge {source}->{target} crosses box {i}"
    assert routed, "the graph was not wrapped"


def test_the_constants_note_is_under_everything_on_the_left_in_grey_italics():
    L, names, gradients = matrix()
    figure = draw_graph(L, names, gradients)
    _, shapes, texts = drawing(figure)
    note = texts[-1]
    assert note["text"] == (
        "Not in autograd's record (no requires_grad): x = [[2], [1]], y = [[5, 2], [2.5, 2]]"
    )
    assert note["font-style"] == "italic" and note["fill"] == "#4c4c4c"
    assert note["text-anchor"] == "start"
    boxes = [s["box"] for k, s in shapes.items() if k.startswith("node-")]
    assert note["box"][0] == pytest.approx(min(b[0] for b in boxes), abs=2)
    assert all(note["box"][1] > t["box"][3] for t in texts[:-1]), "under every other text"
    loss, named, _ = single_value()
    no_constants = draw_graph(loss, {"w": named["w"]})
    assert not [t for t in drawing(no_constants)[2] if t["text"].startswith("Not in")]
    assert no_constants.height < figure.height


def test_the_default_caption_and_the_whole_text_alternative():
    L, names, gradients = single_value()
    figure = draw_graph(L, names, gradients)
    assert figure.caption == (
        "The computation graph of L as autograd recorded it, from the inputs (left) to the "
        "loss (right). Each box is a node: its operation, then the value it computed. Dashed "
        "arrows carry the hand-derived gradients back."
    )
    assert figure.alt == (
        "The computation graph of L as autograd recorded it. 4 nodes: AccumulateGrad (w) = 3; "
        "MulBackward0 (ŷ) = 6; SubBackward0 = −4; PowBackward0 (L) = 16. 3 edges, from input "
        "to output: AccumulateGrad (w) → MulBackward0 (ŷ); MulBackward0 (ŷ) → SubBackward0; "
        "SubBackward0 → PowBackward0 (L). Not in autograd's record, because they do not "
        "require a gradient: x = 2, y = 2. Hand-derived gradients, drawn as dashed arrows "
        "pointing back: ∂L/∂ŷ = 8 flows back into MulBackward0 (ŷ); ∂L/∂w = 16 flows back "
        "into AccumulateGrad (w)."
    )
    plain = draw_graph(L, {"w": names["w"]})
    assert plain.graph.output_name == "L", "an unnamed output is called L"
    assert plain.alt.endswith("SubBackward0 → PowBackward0.")


def test_twin_nodes_are_told_apart_and_unsaved_values_are_said():
    w = torch.tensor([3.0], requires_grad=True)
    cost = (w.exp() + w.exp()).sum()
    graph = record_graph(cost, {"w": w, "cost": cost})
    assert graph.output_name == "cost"
    labels = [graph.label(node) for node in graph.nodes]
    assert labels == [
        "AccumulateGrad (w)",
        "ExpBackward0 [node 1]",
        "ExpBackward0 [node 2]",
        "AddBackward0",
        "SumBackward0 (cost)",
    ]
    assert "AddBackward0; SumBackward0 (cost) = " in graph.describe(), "no value, no '='"
    texts = [t["text"] for t in drawing(draw_graph(cost, {"w": w, "cost": cost}))[2]]
    assert texts[6:8] == ["AddBackward0", "(not saved)"]


def test_values_are_written_briefly():
    assert format_value(torch.tensor([[1.0, -2.0], [3.0, 4.5]])) == "[[1, −2], [3, 4.5]]"
    assert format_value(torch.zeros(2, 3)) == "a 2×3 tensor"
    assert format_value(torch.tensor(-0.0)) == "0", "no minus sign on a zero"
    assert format_value(torch.tensor([1 / 3])) == "0.3333"
    assert format_value(torch.arange(5.0)) == "a 5 tensor", "five numbers are too many"
    assert format_value(torch.arange(4.0)) == "[0, 1, 2, 3]"
    assert pretty("y_hat") == "ŷ" and pretty("z_hat") == "ẑ"
    assert pretty("dL_dw") == "dL_dw" and pretty("yy_hat") == "yy_hat"


def test_an_unnamed_leaf_shows_its_value():
    L, names, _ = sigmoid_neuron()
    graph = record_graph(L)
    leaves = [node.value for node in graph.nodes if node.is_leaf]
    torch.testing.assert_close(leaves, [names["w"].detach(), names["b"].detach()], rtol=0, atol=0)


def test_the_html_escapes_quotes_in_the_alt_and_keeps_its_class():
    L, names, _ = single_value()
    figure = draw_graph(L, names)
    page = figure._repr_html_()
    assert page.startswith('<figure class="autograd-graph"><img ')
    assert "autograd&#x27;s record" in page and "autograd's" not in page.split("<figcaption>")[0]


def message(error, call, *arguments, **keywords):
    with pytest.raises(error) as raised:
        call(*arguments, **keywords)
    return str(raised.value)


def test_the_whole_messages_for_bad_input():
    L, names, gradients = single_value()
    x = torch.tensor([2.0])
    w = torch.tensor([3.0], requires_grad=True)
    assert message(TypeError, record_graph, 16.0) == (
        "record_graph: output must be a torch.Tensor, got float"
    )
    assert message(ValueError, record_graph, w) == (
        "record_graph: output has no grad_fn, so autograd recorded no graph for it: it is a "
        "leaf tensor (a tensor you created, not one computed by an operation)"
    )
    assert message(ValueError, record_graph, x * 3) == (
        "record_graph: output has no grad_fn, so autograd recorded no graph for it: it was "
        "not computed from any tensor with requires_grad=True (or it was computed under "
        "torch.no_grad(), or detached)"
    )
    assert message(ValueError, record_graph, L, {"w2": w}) == (
        "record_graph: names['w2'] matches no node of the graph: that tensor was not used to "
        "compute the output (a copy or another run of the forward pass is a different tensor)"
    )
    assert message(ValueError, record_graph, L, {"L": L, "cost": L}) == (
        "record_graph: names 'L' and 'cost' name the same node; give each tensor one name"
    )
    assert message(TypeError, record_graph, L, [w]) == (
        "names must be a dict of name -> tensor, like {'w': w}, got list"
    )
    assert message(TypeError, record_graph, L, {"w": 3.0}) == (
        "names['w'] must be a torch.Tensor, got float"
    )
    for bad in ("", " ", 7):
        assert message(TypeError, record_graph, L, {bad: w}) == (
            f"names: every name must be a non-empty string, got {bad!r}"
        )
    assert message(TypeError, draw_graph, L, names, [gradients["w"]]) == (
        "gradients must be a dict of name -> hand-derived gradient, like {'w': dL_dw}, got list"
    )
    assert message(ValueError, draw_graph, L, names, {"x": x}) == (
        "draw_graph: 'x' is not in autograd's record (it does not require a gradient), so no "
        "gradient flows back to it"
    )
    assert message(TypeError, draw_graph, L, names, {"w": 16.0}) == (
        "gradients['w'] must be a torch.Tensor, got float"
    )
    assert message(ValueError, draw_graph, L, names, {"w": torch.tensor(16.0)}) == (
        "draw_graph: gradients['w'] has shape (), but w has shape (1,): a gradient has the "
        "shape of what it is taken with respect to"
    )
    errors = (torch.tensor([2.0, 2.0]) - w * 2) ** 2
    assert message(ValueError, draw_graph, errors, {"w": w}, {"w": torch.zeros(1)}) == (
        "draw_graph: the output has shape (2,); checking gradients needs a single number (a "
        "loss): sum it first, or pass check=False"
    )
    L.backward()
    assert message(ValueError, draw_graph, L, names, gradients) == (
        "draw_graph: autograd's record of the output was freed by backward(), so the hand "
        "gradients cannot be checked: draw the graph before calling backward(), or pass "
        "check=False"
    )


def test_a_float32_hand_gradient_is_compared_in_the_loss_dtype():
    w = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([2.0], dtype=torch.float64)
    L = ((x - w * x) ** 2).sum()
    hand = (-2 * (x - w.detach() * x) * x).float()  # 16.0 in float32
    figure = draw_graph(L, {"w": w, "x": x, "L": L}, {"w": hand})
    assert "∂L/∂w = 16" in figure.alt


def test_the_figure_keeps_the_gradients_it_drew_and_a_blank_caption_is_refused():
    L, names, gradients = single_value()
    figure = draw_graph(L, names, gradients)
    assert [name for name, _ in figure.gradients] == ["y_hat", "w"]
    torch.testing.assert_close(figure.gradients[1][1], gradients["w"], rtol=0, atol=0)
    assert message(ValueError, draw_graph, L, names, caption="") == (
        "draw_graph: caption must be a non-empty string"
    )


def test_a_wide_last_column_and_the_note_close_under_the_drawing():
    w = torch.tensor([3.0, 1.0, 2.0, 5.0], requires_grad=True)
    y = torch.tensor([2.0, 2.0, 1.0, 1.0])
    errors = (y - w) ** 2
    figure = draw_graph(errors, {"w": w, "y": y, "errors": errors})
    (width, height), shapes, texts = drawing(figure)
    boxes = [s["box"] for k, s in shapes.items() if k.startswith("node-")]
    assert boxes[-1][2] - boxes[-1][0] > boxes[0][2] - boxes[0][0], "the loss's box is wider"
    assert width - max(b[2] for b in boxes) == pytest.approx(min(b[0] for b in boxes), abs=0.5)
    note = texts[-1]
    assert note["text"].startswith("Not in autograd's record")
    assert 0 < note["box"][1] - max(b[3] for b in boxes) < 1.0 * 72, "the note close under"


def test_neighbouring_gradient_labels_alternate_between_two_heights():
    w = torch.tensor([0.5], requires_grad=True)
    e1 = w.exp()
    e2 = e1.exp()
    e3 = e2.exp()
    L = e3.sum()
    names = {"w": w, "e1": e1, "e2": e2, "e3": e3, "L": L}
    gradients = {"w": e3.detach() * e2.detach() * e1.detach(), "e1": e3.detach() * e2.detach()}
    gradients.update(e2=e3.detach(), e3=torch.ones(1))
    _, _, texts = drawing(draw_graph(L, names, gradients, max_width=None))  # one band
    y = [centre(t["box"])[1] for t in texts if t["text"].startswith("∂")]
    assert len(y) == 4
    assert y[0] == pytest.approx(y[2], abs=1) and y[1] == pytest.approx(y[3], abs=1)
    assert y[1] > y[0] + 0.2 * 72, "odd columns' labels lower, so neighbours do not collide"


def test_checking_the_gradients_leaves_retained_grads_as_they_were():
    L, names, gradients = single_value()
    y_hat = names["y_hat"]
    y_hat.retain_grad()
    draw_graph(L, names=names, gradients=gradients)
    assert y_hat.grad is None, "the check filled in y_hat.grad"
    L.backward()
    torch.testing.assert_close(y_hat.grad, torch.tensor([8.0]))  # not 8 per check added on
    L, names, gradients = single_value()
    names["y_hat"].retain_grad()
    names["y_hat"].grad = torch.tensor([5.0])
    draw_graph(L, names=names, gradients=gradients)
    torch.testing.assert_close(names["y_hat"].grad, torch.tensor([5.0]))


# --- The bands: a wide graph continues below, like a line of text --------------------------

# The layout's measures, in inches, as a reader would measure them on the figure: the gap
# between two columns, a box's height and the padding its rounded outline adds, the room
# under a band for its gradients' labels, and the lane under that which carries the edges
# to the next band.
GAP, BOX_H, PAD, BELOW, LANE = 0.6, 0.6, 0.02, 0.75, 0.3


@pytest.mark.parametrize(
    "widths, max_width, bands, lefts",
    [
        # one band however wide, from the left edge, a gap between columns
        ([1.0, 1.0, 1.0], None, [0, 0, 0], [0.0, 1.6, 3.2]),
        ([1.0, 2.5], 9.0, [0, 0], [0.0, 1.6]),
        # in bands, the columns fill the width less a gap (half for the edges coming down
        # on the left, half for those going down on the right): a column that ends exactly
        # there still fits (2 + 0.6 + 2.8 = 6 - 0.6)
        ([2.0, 2.8, 1.0], 6.0, [0, 0, 1], [0.3, 2.9, 0.3]),
        # one a little wider starts the next band, which fills from its left in turn
        ([2.0, 2.9, 1.0], 6.0, [0, 1, 1], [0.3, 0.3, 3.8]),
        # columns that fit the whole width stay in one band, with no room kept
        ([2.0, 2.8, 1.0], 7.0, [0, 0, 0], [0.0, 2.6, 6.0]),
        # only the last column in a second band
        ([1.0, 1.0, 1.0], 3.2, [0, 0, 1], [0.3, 1.9, 0.3]),
        # the room kept for the edges counts every gap between the columns: 1 + 0.6 + 1
        # fits 3.15 but not 3.15 - 0.6, as all three would fit with one gap but not two
        ([1.0, 1.0, 0.5], 3.15, [0, 1, 1], [0.3, 0.3, 1.9]),
        # one column wider than the width, alone in its band
        ([7.0], 5.0, [0], [0.0]),
        # columns wider than a band each get one of their own
        ([7.0, 7.0, 1.0], 5.0, [0, 1, 2], [0.3, 0.3, 0.3]),
        ([1.0, 7.0, 7.0, 1.0, 1.0], 5.0, [0, 1, 2, 3, 3], [0.3, 0.3, 0.3, 0.3, 1.9]),
    ],
)
def test_columns_fill_a_band_until_the_next_would_pass_the_width(widths, max_width, bands, lefts):
    from graphs import _bands

    band, left, indent = _bands(widths, max_width)
    assert band == bands
    assert left == pytest.approx(lefts)
    # several bands: each starts half a gap in, for the edges that come down from above
    assert indent == (GAP / 2 if bands[-1] > 0 else 0.0)


def test_each_band_starts_below_the_labels_and_the_lane_of_the_one_above():
    from graphs import _band_shifts

    row = {0: 0.0, 1: -1.0, 2: 0.5, 3: -0.5, 4: 1.5, 5: 0.0, 6: -2.0}
    band_of = {0: 0, 1: 0, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2}
    shift = _band_shifts(row, band_of)
    assert len(shift) == 3
    y = {k: row[k] * 1.45 - shift[band_of[k]] for k in row}  # 1.45 inches a row
    for b in (1, 2):
        bottom_above = min(y[k] for k in y if band_of[k] == b - 1) - BOX_H / 2
        top = max(y[k] for k in y if band_of[k] == b) + BOX_H / 2
        assert bottom_above - top == pytest.approx(BELOW + LANE + 0.2), f"band {b}"


def bands_of(figure, shapes):
    """The nodes of each band, top band first, as the figure shows them: boxes one above
    the other within a band are at most a row apart; bands are further apart."""
    boxes = sorted((shapes[f"node-{n.id}"]["box"], n.id) for n in figure.nodes)
    boxes.sort(key=lambda item: item[0][1])
    bands, bottom = [], None
    for box, node in boxes:
        if bottom is None or box[1] - bottom > 80:
            bands.append([])
        bands[-1].append(node)
        bottom = box[3] if bottom is None else max(bottom, box[3])
    return bands


@pytest.mark.parametrize("max_width, count", [(None, 1), (11.0, 2), (5.0, 4), (3.0, 8)])
def test_bands_are_drawn_one_under_another_each_from_the_left(max_width, count):
    L, names, gradients = far_apart()
    figure = draw_graph(L, names, gradients, max_width=max_width)
    _, shapes, _ = drawing(figure)
    bands = bands_of(figure, shapes)
    assert len(bands) == count
    box = {n.id: shapes[f"node-{n.id}"]["box"] for n in figure.nodes}
    lefts = [min(box[k][0] for k in members) for members in bands]
    indent = GAP / 2 * 72 if count > 1 else 0.0
    assert lefts == pytest.approx([(0.1 - PAD) * 72 + indent] * count, abs=0.01)
    for above, below in zip(bands, bands[1:], strict=False):
        gap = min(box[k][1] for k in below) - max(box[k][3] for k in above)
        assert gap == pytest.approx((BELOW + LANE + 0.2 - 2 * PAD) * 72, abs=0.01)


@pytest.mark.parametrize("max_width", [11.0, 5.0, 3.0])
@pytest.mark.parametrize("example", [sigmoid_neuron, far_apart])
def test_an_edge_to_a_later_band_runs_down_the_gap_along_the_lane_and_into_its_target(
    example, max_width
):
    """Right out of its source, down halfway across the gap after it, left along the lane
    under the band above the target's, down halfway across the indent, into the target; the
    gradient's dashed arrow comes back the same way, 0.17 in below (its bends 0.085 in
    inside). Where the way down falls past the canvas' right edge (see the next test), only
    the rest of the route is compared."""
    L, names, gradients = example()
    figure = draw_graph(L, names, gradients, max_width=max_width)
    (width, _), shapes, _ = drawing(figure)
    bands = bands_of(figure, shapes)
    band_of = {k: b for b, members in enumerate(bands) for k in members}
    box = {n.id: shapes[f"node-{n.id}"]["box"] for n in figure.nodes}
    pad, indent, o = PAD * 72, GAP / 2 * 72, 0.17 * 72
    routed = 0
    for source, target, k in figure.edges:
        edge = shapes[f"edge-{source}-{target}-{k}"]
        if band_of[source] == band_of[target]:
            assert edge["points"] <= 3 and box[target][0] > box[source][2]
            continue
        routed += 1
        lane = max(box[j][3] for j in bands[band_of[target] - 1]) - pad + (BELOW + LANE / 2) * 72
        down = box[source][2] - pad + GAP / 2 * 72
        back = box[target][0] + pad - indent / 2
        start = (box[source][2] - pad, centre(box[source])[1])
        end = (box[target][0] + pad, centre(box[target])[1])
        expected = [start, (down, start[1]), (down, lane), (back, lane), (back, end[1]), end]
        node = figure.graph.nodes[source]
        routes = [(edge["xy"][:6], expected, 5)]  # the head at the target
        if node.name in gradients:  # the head at the source
            shifted = [
                (x + dx, y + o)
                for (x, y), dx in zip(expected, [0, -o / 2, -o / 2, o / 2, o / 2, 0], strict=True)
            ]
            routes.append((shapes[f"gradient-{source}"]["xy"][:6][::-1], shifted, 0))
        for drawn, route, head in routes:
            tail = 5 - head
            assert drawn[head][0] == pytest.approx(route[head][0], abs=1.5), "to the box's side"
            assert drawn[head][1] == pytest.approx(route[head][1], abs=0.01)
            seen = [tail, 3, 4] + ([1, 2] if route[1][0] < width else [])
            for i in seen:
                assert drawn[i] == pytest.approx(route[i], abs=0.01), (source, target, i)
            assert drawn[1][1] == pytest.approx(route[1][1], abs=0.01)
            assert drawn[2][1] == pytest.approx(route[2][1], abs=0.01)
    assert routed, "the graph was not wrapped"


def test_the_way_down_to_the_next_band_is_inside_the_figure():
    L, names, gradients = sigmoid_neuron()
    figure = draw_graph(L, names, gradients, max_width=11.0)
    (width, _), shapes, _ = drawing(figure)
    for key, shape in shapes.items():
        if key.startswith(("edge-", "gradient-")):
            assert shape["box"][2] < width, f"{key} runs past the right edge"


def test_a_straight_edge_leaves_its_box_a_point_out():
    """A straight edge starts 1 pt (shrinkA) right of its source's side, as an arrow
    between two points does; a routed edge, a path, starts on the side itself."""
    L, names, gradients = single_value()
    figure = draw_graph(L, names, gradients, max_width=11.0)  # one band: straight edges only
    _, shapes, _ = drawing(figure)
    box = {n.id: shapes[f"node-{n.id}"]["box"] for n in figure.nodes}
    for source, target, k in figure.edges:
        line = shapes[f"edge-{source}-{target}-{k}"]["xy"]
        assert line[0][0] == pytest.approx(box[source][2] - PAD * 72 + 1, abs=0.01)


@pytest.mark.parametrize("max_width", [11.0, 5.0, 3.0])
@pytest.mark.parametrize("example", [single_value, matrix, sigmoid_neuron])
def test_a_gradient_label_hangs_at_one_of_two_depths_under_its_boxes(example, max_width):
    """Under its arrow within a band, under its node when the arrow comes from the next band:
    either way the label's middle is 0.2 in (even columns) or 0.45 in (odd columns) below the
    lower box's bottom edge, so a label that came down a band is placed like the others."""
    L, names, gradients = example()
    figure = draw_graph(L, names, gradients, max_width=max_width)
    _, shapes, texts = drawing(figure)
    labels = [t for t in texts if t["text"].startswith("∂")]
    box = {n.id: shapes[f"node-{n.id}"]["box"] for n in figure.nodes}
    for name, label in zip(gradients, labels, strict=True):
        node = figure.graph.node(name).id
        (target,) = [t for s, t, _ in figure.edges if s == node]
        crossing = shapes[f"gradient-{node}"]["points"] > 3
        bottom = box[node][3] if crossing else max(box[node][3], box[target][3])
        depth = centre(label["box"])[1] - (bottom - PAD * 72)
        assert min(abs(depth - 0.2 * 72), abs(depth - 0.45 * 72)) < 1.5, (name, depth)
