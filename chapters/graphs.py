"""The computation graph as autograd recorded it, as data and as a static figure.

Autograd records a forward pass as a graph of backward nodes: every tensor made by an
operation has a ``grad_fn`` (``MulBackward0``, ``PowBackward0``, ...), whose
``next_functions`` point to the nodes that made its inputs; a leaf tensor that requires a
gradient appears as an ``AccumulateGrad`` node whose ``variable`` is the tensor.
``record_graph`` walks that record from a loss; ``draw_graph`` draws it, left (inputs) to
right (loss), with each node's operation and forward value and the hand-derived gradients
flowing back (a graph too wide for a page's text column continues in further rows of
columns below, like lines of text), and gives the book a static figure (an SVG image)
whose text alternative is generated from the same walk.

Tensors that do not require a gradient (the data ``x`` and ``y``) are not in autograd's
record. The figure lists them apart, below the graph.

Importing it has no side effects (no pyplot, no global matplotlib settings).
"""

import base64
import html
import io
import unicodedata
from dataclasses import dataclass, field

import matplotlib
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

__all__ = [
    "Graph",
    "GraphFigure",
    "Node",
    "draw_graph",
    "draw_recorded",
    "graph_of_values",
    "record_graph",
]

# Where autograd keeps a forward value that no named tensor gives: an operation that
# saved its own output, or the consumer of a node that saved its inputs (one attribute
# per input position; None where that input is not saved).
_SAVED_INPUTS = {
    "MulBackward0": ("_saved_self", "_saved_other"),
    "DivBackward0": ("_saved_self", "_saved_other"),
    "PowBackward0": ("_saved_self",),
    "MmBackward0": ("_saved_self", "_saved_mat2"),
}


@dataclass(frozen=True)
class Node:
    """One node of autograd's record.

    ``id`` is the node's place in the record (inputs first, the output last); ``op`` the
    name of its class (``"MulBackward0"``, ``"AccumulateGrad"``); ``name`` the caller's
    name for the tensor it made (for a leaf, the tensor it holds), or None; ``value`` that
    tensor's forward value (detached), or None where autograd kept none.
    """

    id: int
    op: str
    name: str | None
    value: torch.Tensor | None = field(compare=False)
    grad_fn: object = field(repr=False, compare=False)

    @property
    def is_leaf(self):
        return self.op in ("AccumulateGrad", "leaf")


@dataclass(frozen=True)
class Graph:
    """Autograd's record of how ``output`` was computed, as plain data.

    ``nodes`` are in a fixed order: a node comes after every node it takes an input from,
    and the output's node is last. ``edges`` are ``(source, target, position)`` triples
    of node ids, from input to output: ``source`` made the input number ``position`` of
    ``target`` (``target.grad_fn.next_functions[position]``). ``constants`` are the
    named tensors that are not in the record because they do not require a gradient.
    ``recorder`` names what recorded the graph: autograd, or a learner's own engine.
    """

    output_name: str
    nodes: tuple[Node, ...]
    edges: tuple[tuple[int, int, int], ...]
    constants: tuple[tuple[str, torch.Tensor], ...] = field(compare=False)
    recorder: str = "autograd"

    def node(self, name):
        """The node of the tensor called ``name``."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node of the graph is named {name!r}")

    def label(self, node):
        """How the text alternative names ``node``: its operation, then its tensor's name."""
        text = node.op if node.name is None else f"{node.op} ({pretty(node.name)})"
        twins = [other for other in self.nodes if other.op == node.op and other.name == node.name]
        return text if len(twins) == 1 else f"{text} [node {node.id}]"

    def describe(self):
        """The graph in words: every node, then every edge."""
        nodes = "; ".join(
            self.label(node) + ("" if node.value is None else f" = {format_value(node.value)}")
            for node in self.nodes
        )
        edges = "; ".join(
            f"{self.label(self.nodes[s])} → {self.label(self.nodes[t])}" for s, t, _ in self.edges
        )
        text = (
            f"The computation graph of {pretty(self.output_name)} as {self.recorder} recorded "
            "it. "
            f"{len(self.nodes)} nodes: {nodes}. "
            f"{len(self.edges)} edges, from input to output: {edges}."
        )
        if self.constants:
            listed = ", ".join(f"{pretty(n)} = {format_value(t)}" for n, t in self.constants)
            text += (
                f" Not in {self.recorder}'s record, because they do not require a gradient: "
                f"{listed}."
            )
        return text


def record_graph(output, names=None):
    """Walk autograd's record backwards from ``output``; return it as a :class:`Graph`.

    ``output`` is a tensor computed from at least one tensor with ``requires_grad=True``
    (usually the loss). ``names`` maps names to the tensors of the forward pass, such as
    ``{"w": w, "x": x, "y_hat": y_hat, "L": L}``: a tensor made by an operation names the
    node that is its ``grad_fn``, a leaf that requires a gradient names its
    ``AccumulateGrad`` node, and a tensor that requires no gradient is listed as a
    constant. A name that matches no node of ``output``'s graph is an error.
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(
            f"record_graph: output must be a torch.Tensor, got {type(output).__name__}"
        )
    if output.grad_fn is None:
        raise ValueError(
            "record_graph: output has no grad_fn, so autograd recorded no graph for it: "
            + (
                "it is a leaf tensor (a tensor you created, not one computed by an operation)"
                if output.requires_grad
                else "it was not computed from any tensor with requires_grad=True "
                "(or it was computed under torch.no_grad(), or detached)"
            )
        )
    names = _check_names(names)

    order, index = [], {}
    stack = [(output.grad_fn, False)]
    while stack:  # depth first, inputs before the node that uses them
        fn, inputs_done = stack.pop()
        if fn in index:
            continue
        if inputs_done:
            index[fn] = len(order)
            order.append(fn)
            continue
        stack.append((fn, True))
        for child, _ in reversed(fn.next_functions):
            if child is not None and child not in index:
                stack.append((child, False))
    edges = tuple(
        (index[child], index[fn], position)
        for fn in order
        for position, (child, _) in enumerate(fn.next_functions)
        if child is not None
    )

    named, constants = {}, []
    for name, tensor in names.items():
        if tensor.grad_fn is not None:
            matches = [fn for fn in order if fn is tensor.grad_fn]
        elif tensor.requires_grad:
            matches = [fn for fn in order if getattr(fn, "variable", None) is tensor]
        else:
            constants.append((name, tensor.detach().clone()))
            continue
        if not matches:
            raise ValueError(
                f"record_graph: names[{name!r}] matches no node of the graph: that tensor "
                "was not used to compute the output (a copy or another run of the forward "
                "pass is a different tensor)"
            )
        fn = matches[0]
        if fn in named:
            raise ValueError(
                f"record_graph: names {named[fn][0]!r} and {name!r} name the same node; "
                "give each tensor one name"
            )
        named[fn] = (name, tensor)

    output_name = named.get(output.grad_fn, ("L",))[0]
    nodes = tuple(
        Node(
            id=i,
            op=type(fn).__name__,
            name=named[fn][0] if fn in named else None,
            value=_forward_value(fn, named, order, edges, i),
            grad_fn=fn,
        )
        for i, fn in enumerate(order)
    )
    return Graph(output_name, nodes, edges, tuple(constants))


def _check_names(names):
    if names is None:
        return {}
    if not isinstance(names, dict):
        raise TypeError(
            f"names must be a dict of name -> tensor, like {{'w': w}}, got {type(names).__name__}"
        )
    for name, tensor in names.items():
        if not (isinstance(name, str) and name.strip()):
            raise TypeError(f"names: every name must be a non-empty string, got {name!r}")
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"names[{name!r}] must be a torch.Tensor, got {type(tensor).__name__}")
    return names


def _forward_value(fn, named, order, edges, i):
    """The node's forward value: its named tensor, else what autograd saved, else None."""
    if fn in named:
        return named[fn][1].detach().clone()
    if hasattr(fn, "variable"):
        return fn.variable.detach().clone()
    candidates = [(fn, "_saved_result")]
    for source, target, position in edges:
        if source == i:
            consumer = order[target]
            saved = _SAVED_INPUTS.get(type(consumer).__name__, ())
            if position < len(saved):
                candidates.append((consumer, saved[position]))
    for holder, attribute in candidates:
        try:
            value = getattr(holder, attribute, None)
        except RuntimeError:  # freed by backward(): autograd no longer holds it
            value = None
        if isinstance(value, torch.Tensor):
            return value.detach().clone()
    return None


def pretty(name):
    """``"y_hat"`` as ``"ŷ"``; other names unchanged."""
    if name.endswith("_hat") and len(name) == 5:
        return unicodedata.normalize("NFC", name[0] + "\u0302")
    return name


def format_value(value, max_entries=4):
    """A short text for a forward value: the numbers if there are few, else the shape."""
    if value.numel() > max_entries:
        return "a " + "×".join(str(n) for n in value.shape) + " tensor"

    def fmt(v):
        return [fmt(e) for e in v] if isinstance(v, list) else f"{v + 0.0:.4g}".replace("-", "−")

    if value.numel() == 1:
        return fmt(value.flatten()[0].item())
    return str(fmt(value.tolist())).replace("'", "")


@dataclass(frozen=True)
class GraphFigure:
    """A drawn computation graph, displayed as a static figure.

    ``graph`` is the record it was drawn from; ``nodes`` and ``edges`` are what the
    drawing holds (each node and edge is an element of the SVG whose id is ``node-<id>``
    or ``edge-<source>-<target>-<position>``); ``gradients`` the hand-derived gradients
    shown flowing back; ``alt`` the text alternative; ``svg`` the image; ``width`` and
    ``height`` its size in CSS pixels (the SVG's own, in points, times 4/3).
    In a notebook and in the book it shows as an HTML ``<figure>``.
    """

    graph: Graph
    nodes: tuple[Node, ...]
    edges: tuple[tuple[int, int, int], ...]
    gradients: tuple[tuple[str, torch.Tensor], ...] = field(compare=False)
    caption: str
    alt: str
    svg: str = field(repr=False)
    width: int
    height: int

    def _repr_html_(self):
        data = base64.b64encode(self.svg.encode()).decode()
        return (
            '<figure class="autograd-graph">'
            f'<img src="data:image/svg+xml;base64,{data}" width="{self.width}" '
            f'height="{self.height}" style="max-width: 100%; height: auto" '
            f'alt="{html.escape(self.alt, quote=True)}">'
            f"<figcaption>{html.escape(self.caption)}</figcaption></figure>"
        )

    def __repr__(self):
        return self.alt


# Layout, in inches: one column per step from the inputs to the loss.
# A column is as wide as its widest box; a box fits its longest line (_CHAR_W a character).
_GAP, _MARGIN, _ROW, _BOX_W, _BOX_H, _FONT, _CHAR_W = 0.6, 0.1, 1.45, 1.42, 0.6, 8.5, 0.068
# A graph wider than a page's figure column on a laptop (672 CSS px at 1280 px, 7 inches at
# 96 CSS px an inch) would be shown shrunk: its columns continue in a further band below, like
# a line of text. A band of 6.5 inches, its indent (_GAP / 2) and margins fill those 7. Below
# a band: its gradients' labels (_BELOW), then the lane that carries the edges to the next band.
_MAX_WIDTH, _BELOW, _LANE = 6.5, 0.75, 0.3
# The <img>'s size is in CSS pixels, 96 an inch (the SVG's is in points, 72 an inch), so
# the figure is shown at the size it was drawn: text drawn at 8 pt reaches the reader at 8 pt.
_CSS_PX = 96
_LEAF, _OP, _BACK = "#d9f0d3", "#dbe9f6", "#b2182b"
# How things look, in one place: boxes (the output's with a heavier border), the two lines
# of a box (the operation in bold), the edges, the gradients' dashed arrows and labels, and
# the note that lists the constants.
_BOX = {"boxstyle": "round,pad=0.02,rounding_size=0.08", "edgecolor": "black"}
_BORDER, _OUTPUT_BORDER = 0.8, 1.6
_TEXT = {"ha": "center", "va": "center", "fontsize": _FONT}
_EDGE = {
    "arrowstyle": "-|>",
    "mutation_scale": 9,
    "linewidth": 0.9,
    "color": "black",
    "shrinkA": 1,
    "shrinkB": 1,
}
_GRADIENT = {**_EDGE, "linewidth": 1.1, "linestyle": (0, (3, 2)), "color": _BACK}
_NOTE = {"ha": "left", "va": "center", "fontsize": _FONT, "style": "italic", "color": "0.3"}
_SVG = {"svg.fonttype": "none", "svg.hashsalt": "graphs"}


def draw_graph(output, names=None, gradients=None, caption=None, check=True, max_width=_MAX_WIDTH):
    """Draw autograd's record of ``output`` with the hand-derived gradients flowing back.

    ``names`` is as for :func:`record_graph`. ``gradients`` maps some of those names to
    hand-derived gradients, such as ``{"y_hat": dL_dyhat, "w": dL_dw}``; each is drawn on
    the edge leaving its tensor's node, as an arrow pointing back, labelled
    ``∂L/∂ŷ = 8``. With ``check=True`` each is first compared with autograd's gradient
    (``torch.autograd.grad`` with ``retain_graph=True``, so call this before
    ``backward()``); a gradient that disagrees is an error, so the figure cannot show a
    wrong number. ``caption`` is the figure's caption (a default says what it shows).
    A graph wider than ``max_width`` inches continues in bands below (``None``: one band
    however wide). Returns a :class:`GraphFigure`.
    """
    graph = record_graph(output, names)
    gradients = _check_gradients(graph, names or {}, gradients or {}, output, check)
    return draw_recorded(graph, gradients, caption, max_width)


def draw_recorded(graph, gradients=(), caption=None, max_width=_MAX_WIDTH):
    """Draw a :class:`Graph` already recorded (by :func:`record_graph` or
    :func:`graph_of_values`), with ``gradients`` as (name, tensor) pairs, already checked."""
    gradients = tuple(gradients)
    if caption is None:
        caption = (
            f"The computation graph of {pretty(graph.output_name)} as autograd recorded it, "
            "from the inputs (left) to the loss (right). Each box is a node: its operation, "
            "then the value it computed. Dashed arrows carry the hand-derived gradients back."
        )
    if not isinstance(caption, str) or not caption.strip():
        raise ValueError("draw_graph: caption must be a non-empty string")

    column, row = _layout(graph)
    lines = {node.id: (node.op, _value_line(node)) for node in graph.nodes}
    box_w = {
        node.id: max(_BOX_W, _CHAR_W * max(len(line) for line in lines[node.id]) + 0.25)
        for node in graph.nodes
    }
    widths = [
        max(box_w[k] for k in column if column[k] == c) for c in range(max(column.values()) + 1)
    ]
    band, lefts, indent = _bands(widths, max_width)
    band_of = {k: band[c] for k, c in column.items()}
    shift = _band_shifts(row, band_of)
    ys = {k: row[k] * _ROW - shift[band_of[k]] for k in row}
    lane = [
        min(ys[k] for k in ys if band_of[k] == b) - _BOX_H / 2 - _BELOW - _LANE / 2
        for b in range(len(shift))
    ]
    # In bands, the way down to the next band runs half a gap right of a band's last column:
    # the canvas reaches that far (the indent on the left is as wide).
    width = max(lefts[c] + widths[c] for c in range(len(widths))) + 2 * _MARGIN + indent
    note = 0.35 if graph.constants else 0.0
    height = (max(ys.values()) - min(ys.values())) + _BOX_H + 0.2 + _BELOW + note
    floor = min(ys.values()) - _BOX_H / 2 - _BELOW - note
    fig = Figure(figsize=(width, height), dpi=72)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-_MARGIN, width - _MARGIN)
    ax.set_ylim(floor, floor + height)
    ax.set_aspect("equal")
    ax.axis("off")

    def centre(node_id):
        c = column[node_id]
        return lefts[c] + widths[c] / 2, ys[node_id]

    def half(node_id):
        return box_w[node_id] / 2

    def route(source, target, offset=0.0):
        """From the source's right side to the target's left side: straight within a band;
        to a later band down the gap after the source, along the lane above the target's
        band, and down the gap before the target (``offset``: a parallel route below)."""
        (x0, y0), (x1, y1) = centre(source), centre(target)
        start, end = (x0 + half(source), y0 + offset), (x1 - half(target), y1 + offset)
        if band_of[source] == band_of[target]:
            return [start, end]
        down, across = start[0] + _GAP / 2 + offset / 2, lane[band_of[target] - 1] + offset
        back = end[0] - indent / 2 - offset / 2
        return [start, (down, start[1]), (down, across), (back, across), (back, end[1]), end]

    for node in graph.nodes:
        cx, cy = centre(node.id)
        box = FancyBboxPatch(
            (cx - half(node.id), cy - _BOX_H / 2),
            box_w[node.id],
            _BOX_H,
            facecolor=_LEAF if node.is_leaf else _OP,
            linewidth=_OUTPUT_BORDER if node is graph.nodes[-1] else _BORDER,
            gid=f"node-{node.id}",
            **_BOX,
        )
        ax.add_patch(box)
        op_line, value_line = lines[node.id]
        ax.text(cx, cy + 0.12, op_line, weight="bold", **_TEXT)
        ax.text(cx, cy - 0.13, value_line, **_TEXT)

    out_edges = {node.id: [e for e in graph.edges if e[0] == node.id] for node in graph.nodes}
    for source, target, position in graph.edges:
        arrow = _arrow(route(source, target), gid=f"edge-{source}-{target}-{position}", **_EDGE)
        ax.add_patch(arrow)

    for name, gradient in gradients:
        node = graph.node(name)
        label = f"∂{pretty(graph.output_name)}/∂{pretty(name)} = {format_value(gradient)}"
        cx, cy = centre(node.id)
        if len(out_edges[node.id]) == 1:
            _, target, _ = out_edges[node.id][0]
            tx, ty = centre(target)
            arrow = _arrow(
                route(node.id, target, offset=-0.17)[::-1], gid=f"gradient-{node.id}", **_GRADIENT
            )
            ax.add_patch(arrow)
            # below the boxes, staggered so that neighbouring labels do not collide; under
            # the node when the arrow comes from the next band
            stagger = 0.2 + 0.25 * (column[node.id] % 2)
            if band_of[target] == band_of[node.id]:
                where = ((cx + tx) / 2, min(cy, ty) - _BOX_H / 2 - stagger)
            else:
                where = (cx, cy - _BOX_H / 2 - stagger)
        else:  # several consumers (or none): the total is the node's, not one edge's
            where = (cx, cy - _BOX_H / 2 - 0.2)
        ax.text(*where, label, color=_BACK, **_TEXT)

    if graph.constants:
        listed = ", ".join(f"{pretty(n)} = {format_value(t)}" for n, t in graph.constants)
        ax.text(
            indent,  # under the boxes' left edge, in bands too
            floor + 0.2,
            f"Not in {graph.recorder}'s record (no requires_grad): {listed}",
            **_NOTE,
        )

    buffer = io.StringIO()
    with matplotlib.rc_context(_SVG):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text_gradients = "; ".join(
        f"∂{pretty(graph.output_name)}/∂{pretty(n)} = {format_value(g)} flows back into "
        f"{graph.label(graph.node(n))}"
        for n, g in gradients
    )
    alt = graph.describe() + (
        f" Hand-derived gradients, drawn as dashed arrows pointing back: {text_gradients}."
        if gradients
        else ""
    )
    return GraphFigure(
        graph=graph,
        nodes=graph.nodes,
        edges=graph.edges,
        gradients=gradients,
        caption=caption,
        alt=alt,
        svg=buffer.getvalue(),
        width=round(width * _CSS_PX),
        height=round(height * _CSS_PX),
    )


def _value_line(node):
    if node.value is None:  # never a named node: its tensor gives its value
        return "(not saved)"
    value = format_value(node.value)
    return f"{pretty(node.name)} = {value}" if node.name else value


def _check_gradients(graph, names, gradients, output, check):
    if not isinstance(gradients, dict):
        raise TypeError(
            "gradients must be a dict of name -> hand-derived gradient, like "
            f"{{'w': dL_dw}}, got {type(gradients).__name__}"
        )
    # torch.autograd.grad fills in the .grad of every tensor that called retain_grad()
    # on its way: the check must leave the caller's .grad as it found it.
    retained = {name: t.grad for name, t in names.items() if t.retains_grad}
    try:
        return _checked_gradients(graph, names, gradients, output, check)
    finally:
        for name, grad in retained.items():
            names[name].grad = grad


def _checked_gradients(graph, names, gradients, output, check):
    checked = []
    for name, gradient in gradients.items():
        if name not in names:
            raise ValueError(
                f"draw_graph: gradients[{name!r}] has no tensor: add {name!r} to names"
            )
        if not any(node.name == name for node in graph.nodes):
            raise ValueError(
                f"draw_graph: {name!r} is not in autograd's record (it does not require a "
                "gradient), so no gradient flows back to it"
            )
        if not isinstance(gradient, torch.Tensor):
            raise TypeError(
                f"gradients[{name!r}] must be a torch.Tensor, got {type(gradient).__name__}"
            )
        tensor = names[name]
        if gradient.shape != tensor.shape:
            raise ValueError(
                f"draw_graph: gradients[{name!r}] has shape {tuple(gradient.shape)}, but "
                f"{name} has shape {tuple(tensor.shape)}: a gradient has the shape of what "
                "it is taken with respect to"
            )
        if check:
            _compare_with_autograd(name, gradient, tensor, output)
        checked.append((name, gradient.detach().clone()))
    return tuple(checked)


def _compare_with_autograd(name, gradient, tensor, output):
    if output.numel() != 1:
        raise ValueError(
            f"draw_graph: the output has shape {tuple(output.shape)}; checking gradients "
            "needs a single number (a loss): sum it first, or pass check=False"
        )
    try:
        (expected,) = torch.autograd.grad(output, tensor, retain_graph=True)
    except RuntimeError as error:
        raise ValueError(
            "draw_graph: autograd's record of the output was freed by backward(), so the "
            "hand gradients cannot be checked: draw the graph before calling backward(), "
            "or pass check=False"
        ) from error
    try:
        torch.testing.assert_close(gradient.detach().to(expected.dtype), expected)
    except AssertionError as error:
        raise ValueError(
            f"draw_graph: the hand-derived gradient for {name!r} is {gradient.tolist()}, "
            f"but autograd computes {expected.tolist()}"
        ) from error


def _arrow(points, **style):
    """An arrow through ``points``: a straight one between two points, else a path."""
    if len(points) == 2:
        return FancyArrowPatch(*points, **style)
    return FancyArrowPatch(path=Path(points), **style)


def _bands(widths, max_width):
    """Which band each column is in, its left edge within the band, and the bands' indent.

    Columns fill a band from the left until the next would pass ``max_width``. When they do
    not all fit in one, there are several bands: each starts half a gap in, to leave room for
    the edges that arrive from the band above, and ends half a gap short of ``max_width``,
    for the edges that leave it for the band below; the columns fill the rest.
    """
    if max_width is not None and sum(widths) + _GAP * (len(widths) - 1) > max_width:
        max_width -= _GAP
    band, room = [], 0.0
    for w in widths:
        if band and max_width is not None and room + _GAP + w > max_width:
            band.append(band[-1] + 1)
            room = w
        else:
            room = room + _GAP + w if band else w
            band.append(band[-1] if band else 0)
    indent = _GAP / 2 if band[-1] > 0 else 0.0
    first = {b: band.index(b) for b in set(band)}
    lefts = [
        indent + sum(widths[first[band[c]] : c]) + _GAP * (c - first[band[c]])
        for c in range(len(widths))
    ]
    return band, lefts, indent


def _band_shifts(row, band_of):
    """How far down each band is drawn: below the one above, its labels and its lane."""
    bands = max(band_of.values()) + 1
    shift = [0.0] * bands
    for b in range(1, bands):
        above = min(row[k] for k in row if band_of[k] == b - 1) * _ROW - shift[b - 1]
        bottom_of_above = above - _BOX_H / 2 - _BELOW - _LANE
        top = max(row[k] for k in row if band_of[k] == b) * _ROW
        shift[b] = top + _BOX_H / 2 + 0.2 - bottom_of_above
    return shift


def _layout(graph):
    """Columns by distance from the inputs, rows so that a chain stays on one line."""
    inputs = {node.id: [s for s, t, _ in graph.edges if t == node.id] for node in graph.nodes}
    consumers = {node.id: [t for s, t, _ in graph.edges if s == node.id] for node in graph.nodes}
    column = {}
    for node in graph.nodes:  # inputs come first, so their columns are known
        column[node.id] = 1 + max((column[i] for i in inputs[node.id]), default=-1)
    for node in graph.nodes:  # a leaf sits just left of its first consumer
        if not inputs[node.id] and consumers[node.id]:
            column[node.id] = min(column[t] for t in consumers[node.id]) - 1

    row = {graph.nodes[-1].id: 0.0}
    for node in reversed(graph.nodes):  # from the output back (consumers are placed first)
        unplaced = [i for i in dict.fromkeys(inputs[node.id]) if i not in row]
        for k, i in enumerate(unplaced):  # inputs spread around, the first on top
            row[i] = row[node.id] - (k - (len(unplaced) - 1) / 2)
    for c in set(column.values()):  # no two boxes of a column overlap
        ids = sorted((k for k in column if column[k] == c), key=lambda k: -row[k])
        for above, below in zip(ids, ids[1:], strict=False):
            row[below] = min(row[below], row[above] - 1)
    return column, row


def graph_of_values(output, names=None, recorder="our engine"):
    """The graph that a scalar engine of single numbers recorded, as a :class:`Graph`.

    Each value of the engine has ``data`` (a number), ``inputs`` (the values it was computed
    from) and ``op`` (its operation's name; ``"leaf"`` for a value created by hand,
    ``"constant"`` for a plain number in an expression). Constants are left out, as autograd
    leaves out tensors that require no gradient, and an edge's position counts only the
    inputs that are not constants. Nodes come in :func:`record_graph`'s order, so that a
    graph and autograd's record of the same expression can be compared node by node.
    ``names`` maps names to values of the graph.
    """
    for attribute in ("data", "inputs", "op"):
        if not hasattr(output, attribute):
            raise TypeError(
                f"graph_of_values: output must be a value of a scalar engine, with data, inputs "
                f"and op; {type(output).__name__} has no {attribute!r}"
            )

    def recorded(node):
        return [a for a in node.inputs if a.op != "constant"]

    order, index = [], {}
    stack = [(output, False)]
    while stack:  # depth first, inputs before the node that uses them, as in record_graph
        node, inputs_done = stack.pop()
        if id(node) in index:
            continue
        if inputs_done:
            index[id(node)] = len(order)
            order.append(node)
            continue
        stack.append((node, True))
        for child in reversed(recorded(node)):
            if id(child) not in index:
                stack.append((child, False))
    edges = tuple(
        (index[id(child)], index[id(node)], position)
        for node in order
        for position, child in enumerate(recorded(node))
    )
    named = {}
    for name, value in (names or {}).items():
        if id(value) not in index:
            raise ValueError(f"graph_of_values: names[{name!r}] is not a value of the graph")
        named[id(value)] = name
    nodes = tuple(
        Node(
            id=i,
            op=node.op,
            name=named.get(id(node)),
            value=torch.tensor(float(node.data), dtype=torch.float64),
            grad_fn=node,
        )
        for i, node in enumerate(order)
    )
    return Graph(named.get(id(output), "L"), nodes, edges, (), recorder=recorder)
