"""exercises.engine: a learner's operation, backward() walk and hand gradients, judged in words.

A small engine with page 1.2's interface (``data``, ``grad``, ``inputs``, ``local_rule``)
is defined here, so that these tests do not depend on the page.
"""

import math
import sys

import pytest
import torch

from exercises import engine as engine_checks
from exercises.engine import (
    ExpressionExercise,
    OperationExercise,
    WalkExercise,
    check_input_gradients,
    check_operation,
    check_walk,
)
from exercises_examples import checked_with_the_stop_button


class Value:
    def __init__(self, data, inputs=(), op="leaf"):
        self.data, self.grad, self.inputs, self.op, self.local_rule = (
            float(data),
            0.0,
            inputs,
            op,
            None,
        )


def _value(v):
    return v if isinstance(v, Value) else Value(v, op="constant")


def _make(data, inputs, rule, op):
    out = Value(data, inputs, op)
    out.local_rule = lambda g: rule(g, out)
    return out


Value.__add__ = lambda a, b: _make(
    a.data + _value(b).data, (a, _value(b)), lambda g, o: (g, g), "add"
)
Value.__sub__ = lambda a, b: _make(
    a.data - _value(b).data, (a, _value(b)), lambda g, o: (g, -g), "sub"
)
Value.__mul__ = lambda a, b: (
    lambda b: _make(a.data * b.data, (a, b), lambda g, o: (g * b.data, g * a.data), "mul")
)(_value(b))
Value.exp = lambda a: _make(math.exp(a.data), (a,), lambda g, o: (g * o.data,), "exp")
Value.tanh = lambda a: _make(math.tanh(a.data), (a,), lambda g, o: (g * (1 - o.data**2),), "tanh")


def right_walk(output):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for a in node.inputs:
                visit(a)
            order.append(node)

    visit(output)
    for node in order:
        if node.inputs:
            node.grad = 0.0
    output.grad = 1.0
    for node in reversed(order):
        if node.inputs:
            for a, c in zip(node.inputs, node.local_rule(node.grad), strict=True):
                a.grad += c


WALK = WalkExercise(
    name="backward()",
    value_class=Value,
    expressions=[
        (lambda x: x * x, [3.0]),
        (lambda x: (lambda a: a + a.tanh())(x.exp()), [0.7]),  # a = exp(x) used twice
        (lambda w, b: (w * b) * (w - b), [1.3, -0.6]),
    ],
    hint="the hint",
)


@pytest.fixture(autouse=True)
def short_time_limit(monkeypatch):
    monkeypatch.setattr(engine_checks, "TIME_LIMIT", 0.3)


# --- backward() -----------------------------------------------------------------------------


def test_the_right_walk_passes_and_says_so():
    verdict = check_walk(WALK, right_walk)
    assert verdict, verdict.message
    assert "correct on all 3 graphs, called twice" in verdict.message


def variant(source_edit):
    """right_walk with one edit of its source (the learner's mistake)."""
    import inspect
    import textwrap

    source = textwrap.dedent(inspect.getsource(right_walk))
    old, new = source_edit
    assert old in source
    namespace = {}
    exec(source.replace(old, new), namespace)
    return namespace["right_walk"]


@pytest.mark.parametrize(
    "edit, slip, words",
    [
        (("a.grad += c", "a.grad = c"), "assigned", "assigned instead of added"),
        (("in reversed(order)", "in order"), "forward order", "visited before its users"),
        (("    output.grad = 1.0\n", ""), "not seeded", "not set to 1 at the start"),
    ],
    ids=["assigned", "forward order", "not seeded"],
)
def test_a_walk_with_a_mistake_gets_its_name(edit, slip, words):
    verdict = check_walk(WALK, variant(edit))
    assert not verdict and slip in verdict.slips, (verdict.slips, verdict.message)
    assert words in verdict.message


def test_a_plain_recursion_is_a_node_visited_before_its_users_are_done():
    verdict = check_walk(WALK, recursive_walk)  # recursive_walk: below, with the whole messages
    assert not verdict and "order" in verdict.slips, verdict.message
    assert "visited before its users are done" in verdict.message


def test_gradients_left_over_from_an_earlier_call_are_named():
    verdict = check_walk(WALK, variant(("            node.grad = 0.0\n", "            pass\n")))
    assert not verdict and verdict.slips == ("left over",), verdict.message
    assert "left over from an earlier call" in verdict.message


def test_a_walk_that_resets_the_leaves_too_is_told_that_grad_adds_up():
    verdict = check_walk(
        WALK,
        variant(
            ("        if node.inputs:\n            node", "        if True:\n            node")
        ),
    )
    assert not verdict and verdict.slips == ("leaves reset",), verdict.message


def test_a_walk_that_never_ends_gets_a_sentence():
    def endless(output):
        while True:
            pass

    verdict = check_walk(WALK, endless)
    assert not verdict and "did not finish within 0.3 seconds" in verdict.message
    assert "Traceback" not in verdict.message


def test_recursion_past_the_limit_gets_a_sentence_and_the_limit_is_kept():
    limit = sys.getrecursionlimit()

    def deep(output):
        sys.setrecursionlimit(100)
        deep(output)

    verdict = check_walk(WALK, deep)
    assert not verdict and "recursion past the limit" in verdict.message
    assert sys.getrecursionlimit() == limit


def test_an_exception_gets_a_sentence():
    def broken(output):
        raise KeyError("oops")

    verdict = check_walk(WALK, broken)
    assert (
        not verdict and verdict.message == "backward(): your backward() raised KeyError ('oops')."
    )


def test_the_stub_is_not_attempted_and_a_later_not_implemented_error_is_named():
    def stub(output):
        raise NotImplementedError  # the learner's cell, untouched

    verdict = check_walk(WALK, stub)
    assert not verdict and verdict.slips == ("not attempted",)
    assert "not attempted yet. To try it, replace `raise NotImplementedError`" in verdict.message
    assert "JupyterLab" not in verdict.message, "said only where the page is read in the book"
    hint = '<span class="book-only" style="display: none" hidden>run this chapter in JupyterLab'
    assert hint in verdict._repr_html_()

    def half_done(output):
        output.grad = 1.0
        raise NotImplementedError

    assert "still raises NotImplementedError" in check_walk(WALK, half_done).message
    for check, exercise in ((check_operation, SQRT), (check_input_gradients, THREE)):
        assert "not attempted yet" in check(exercise, stub).message


def test_a_gradient_of_the_wrong_kind_gets_a_sentence():
    def tensors(output):
        right_walk(output)
        for a in output.inputs:  # in x * x, the leaf x
            a.grad = torch.ones(2)

    verdict = check_walk(WALK, tensors)
    assert not verdict and verdict.slips == ("wrong kind",), verdict.message
    assert "not a number" in verdict.message


def test_nothing_the_learner_changes_in_the_value_class_stays_changed():
    add = Value.__add__

    def vandal(output):
        Value.__add__ = None
        Value.extra = 1
        right_walk(output)

    check_walk(WALK, vandal)
    assert Value.__add__ is add and not hasattr(Value, "extra")


def test_must_pass_raises_on_a_wrong_reference_and_thanks_a_right_one():
    assert (
        "reference solution matches autograd on all 3 graphs"
        in check_walk(WALK, right_walk, must_pass=True).message
    )
    with pytest.raises(AssertionError, match="assigned instead of added"):
        check_walk(WALK, variant(("a.grad += c", "a.grad = c")), must_pass=True)


# --- an operation ---------------------------------------------------------------------------

SQRT = OperationExercise(
    name="Square root",
    value_class=Value,
    reference=torch.sqrt,
    inputs=[4.0, 0.25, 2.0, 7.3],
    from_output=lambda out: 1 / (2 * out),
    hint="the hint",
)


def sqrt_with(rule):
    def operation(a):
        out = Value(math.sqrt(a.data), (a,), "sqrt")
        out.local_rule = lambda g: rule(g, a, out)
        return out

    return operation


def test_a_right_operation_passes():
    verdict = check_operation(SQRT, sqrt_with(lambda g, a, o: (g / (2 * o.data),)))
    assert verdict, verdict.message


@pytest.mark.parametrize(
    "rule, slip, words",
    [
        (
            lambda g, a, o: (g / (2 * a.data),),
            "input for output",
            "used the input where the output",
        ),
        (lambda g, a, o: (1 / (2 * o.data),), "no upstream", "g, is not multiplied in"),
        (lambda g, a, o: (-g / (2 * o.data),), "sign", "sign is flipped"),
    ],
    ids=["input for output", "no upstream", "sign"],
)
def test_an_operation_with_a_mistake_gets_its_name(rule, slip, words):
    verdict = check_operation(SQRT, sqrt_with(rule))
    assert not verdict and slip in verdict.slips and words in verdict.message, verdict.message


def test_an_unexplained_mistake_shows_the_first_case_and_the_hint():
    verdict = check_operation(SQRT, sqrt_with(lambda g, a, o: (g * 3.0,)))
    assert not verdict and verdict.slips == ()
    assert "for a = 4 and g = 1 your rule hands a 3" in verdict.message
    assert "Hint: the hint" in verdict.message


@pytest.mark.parametrize(
    "operation, words",
    [
        (lambda a: math.sqrt(a.data), "returns a float, not a Value"),
        (sqrt_with(lambda g, a, o: g / (2 * o.data)), "one number per input, as a tuple"),
        (lambda a: Value(math.sqrt(a.data)), "must record its input"),
        (lambda a: Value(math.sqrt(a.data), (a,)), "has no local rule"),
        (lambda a: Value(a.data, (a,)), "holds 4.0, but the operation gives 2"),
    ],
    ids=["float", "bare number", "no inputs", "no rule", "wrong value"],
)
def test_an_operation_of_the_wrong_kind_gets_a_sentence(operation, words):
    verdict = check_operation(SQRT, operation)
    assert not verdict and words in verdict.message, verdict.message


def test_an_operation_that_never_ends_or_fails_gets_a_sentence():
    def endless(a):
        while True:
            pass

    assert "did not finish" in check_operation(SQRT, endless).message
    assert "raised ZeroDivisionError" in check_operation(SQRT, lambda a: 1 / 0).message


# --- every input's gradient -----------------------------------------------------------------

THREE = ExpressionExercise(
    name="Three gradients",
    expression=lambda a, b, c: (a * b).tanh() * (a + c),
    cases=[[3.0, -1.5, 2.0], [0.5, 1.25, -2.0]],
    hint="the hint",
)


def right_three(a, b, c):
    t = math.tanh(a * b)
    return (a + c) * (1 - t * t) * b + t, (a + c) * (1 - t * t) * a, t


def test_right_gradients_pass():
    assert check_input_gradients(THREE, right_three)


def test_a_wrong_gradient_is_named_by_its_input():
    def one_path(a, b, c):
        da, db, dc = right_three(a, b, c)
        return da - math.tanh(a * b), db, dc

    verdict = check_input_gradients(THREE, one_path)
    assert (
        not verdict and "your ∂L/∂a is" in verdict.message and "Hint: the hint" in verdict.message
    )


def test_a_flipped_sign_and_the_wrong_kind_are_named():
    def flipped(a, b, c):
        da, db, dc = right_three(a, b, c)
        return da, db, -dc

    assert "sign is flipped" in check_input_gradients(THREE, flipped).message
    verdict = check_input_gradients(THREE, lambda a, b, c: [1.0, 2.0])
    assert "return 3 numbers, one per input" in verdict.message


# --- whole messages -------------------------------------------------------------------------


def recursive_walk(output):
    output.grad = 1.0

    def push(node):
        for a, c in (
            zip(node.inputs, node.local_rule(node.grad), strict=True) if node.inputs else ()
        ):
            a.grad += c
            push(a)

    push(output)


def halved_walk(output):
    right_walk(output)
    for node in [output, *output.inputs]:
        for a in [node, *node.inputs]:
            if not a.inputs:
                a.grad = 0.5 * a.grad


def tripled_on_the_second_call():
    calls = []

    def walk(output):
        calls.append(output)
        right_walk(output)
        if calls.count(output) == 2:
            right_walk(output)  # the leaves now hold three times autograd's

    return walk


def none_on_the_second_call():
    calls = []

    def walk(output):
        calls.append(output)
        right_walk(output)
        if calls.count(output) == 2:
            for a in output.inputs:
                a.grad = None

    return walk


def error_on_the_second_call():
    calls = []

    def walk(output):
        calls.append(output)
        if calls.count(output) == 2:
            raise ValueError("twice")
        right_walk(output)

    return walk


def endless(*args):
    while True:
        pass


def deep(*args):
    deep(*args)


def half_done(output):
    output.grad = 1.0
    raise NotImplementedError


def stub(*args):
    raise NotImplementedError


def tensor_grads(output):
    right_walk(output)
    for a in output.inputs:
        a.grad = torch.ones(2)


def string_valued(a):
    out = Value(0.0, (a,), "sqrt")
    out.data = "two"
    return out


def one_path(a, b, c):
    da, db, dc = right_three(a, b, c)
    return da - math.tanh(a * b), db, dc


def flipped(a, b, c):
    da, db, dc = right_three(a, b, c)
    return da, db, -dc


def right_on_the_first_case(a, b, c):
    da, db, dc = right_three(a, b, c)
    return (da, db, dc) if a == 3.0 else (da, db + 1.0, dc)


# one graph of two inputs: the messages list both inputs' gradients
TWO = WalkExercise(
    name="backward()",
    value_class=Value,
    expressions=[(lambda w, b: (w * b) * (w - b), [1.3, -0.6])],
)


def does_nothing(output):
    pass


WHOLE = {
    "walk stub": lambda: check_walk(WALK, stub),
    "two assigned": lambda: check_walk(TWO, variant(("a.grad += c", "a.grad = c"))),
    "two left over": lambda: check_walk(
        TWO, variant(("            node.grad = 0.0\n", "            pass\n"))
    ),
    "two does nothing": lambda: check_walk(TWO, does_nothing),
    "walk assigned": lambda: check_walk(WALK, variant(("a.grad += c", "a.grad = c"))),
    "walk forward order": lambda: check_walk(WALK, variant(("in reversed(order)", "in order"))),
    "walk not seeded": lambda: check_walk(WALK, variant(("    output.grad = 1.0\n", ""))),
    "walk recursive": lambda: check_walk(WALK, recursive_walk),
    "walk left over": lambda: check_walk(
        WALK, variant(("            node.grad = 0.0\n", "            pass\n"))
    ),
    "walk leaves reset": lambda: check_walk(
        WALK,
        variant(
            ("        if node.inputs:\n            node", "        if True:\n            node")
        ),
    ),
    "walk twice": lambda: check_walk(WALK, tripled_on_the_second_call()),
    "walk unexplained": lambda: check_walk(WALK, halved_walk),
    "walk endless": lambda: check_walk(WALK, endless),
    "walk deep": lambda: check_walk(WALK, deep),
    "walk half done": lambda: check_walk(WALK, half_done),
    "walk tensor grad": lambda: check_walk(WALK, tensor_grads),
    "walk none grad second": lambda: check_walk(WALK, none_on_the_second_call()),
    "walk error second": lambda: check_walk(WALK, error_on_the_second_call()),
    "walk right": lambda: check_walk(WALK, right_walk),
    "walk reference": lambda: check_walk(WALK, right_walk, must_pass=True),
    "operation right": lambda: check_operation(
        SQRT, sqrt_with(lambda g, a, o: (g / (2 * o.data),))
    ),
    "operation reference": lambda: check_operation(
        SQRT, sqrt_with(lambda g, a, o: (g / (2 * o.data),)), must_pass=True
    ),
    "operation input for output": lambda: check_operation(
        SQRT, sqrt_with(lambda g, a, o: (g / (2 * a.data),))
    ),
    "operation no upstream": lambda: check_operation(
        SQRT, sqrt_with(lambda g, a, o: (1 / (2 * o.data),))
    ),
    "operation sign": lambda: check_operation(
        SQRT, sqrt_with(lambda g, a, o: (-g / (2 * o.data),))
    ),
    "operation unexplained": lambda: check_operation(SQRT, sqrt_with(lambda g, a, o: (g * 3.0,))),
    "operation unexplained second case": lambda: check_operation(
        SQRT, sqrt_with(lambda g, a, o: (g / (2 * o.data) if a.data == 4.0 else 0.0,))
    ),
    "operation float": lambda: check_operation(SQRT, lambda a: math.sqrt(a.data)),
    "operation tensor": lambda: check_operation(SQRT, lambda a: torch.ones(2, 3)),
    "operation none": lambda: check_operation(SQRT, lambda a: None),
    "operation int": lambda: check_operation(SQRT, lambda a: 2),
    "operation bare number": lambda: check_operation(
        SQRT, sqrt_with(lambda g, a, o: g / (2 * o.data))
    ),
    "operation two numbers": lambda: check_operation(SQRT, sqrt_with(lambda g, a, o: (g, g))),
    "operation a bool": lambda: check_operation(SQRT, sqrt_with(lambda g, a, o: (True,))),
    "operation a tensor contribution": lambda: check_operation(
        SQRT, sqrt_with(lambda g, a, o: (torch.tensor([g / (2 * o.data)]),))
    ),
    "operation no inputs": lambda: check_operation(SQRT, lambda a: Value(math.sqrt(a.data))),
    "operation no rule": lambda: check_operation(SQRT, lambda a: Value(math.sqrt(a.data), (a,))),
    "operation wrong value": lambda: check_operation(SQRT, lambda a: Value(a.data, (a,))),
    "operation a string value": lambda: check_operation(SQRT, string_valued),
    "operation endless": lambda: check_operation(SQRT, endless),
    "operation raises": lambda: check_operation(SQRT, lambda a: 1 / 0),
    "operation rule raises": lambda: check_operation(SQRT, sqrt_with(lambda g, a, o: 1 / 0)),
    "operation stub": lambda: check_operation(SQRT, stub),
    "three right": lambda: check_input_gradients(THREE, right_three),
    "three reference": lambda: check_input_gradients(THREE, right_three, must_pass=True),
    "three one path": lambda: check_input_gradients(THREE, one_path),
    "three flipped": lambda: check_input_gradients(THREE, flipped),
    "three two numbers": lambda: check_input_gradients(THREE, lambda a, b, c: [1.0, 2.0]),
    "three none": lambda: check_input_gradients(THREE, lambda a, b, c: (1.0, None, 2.0)),
    "three a number": lambda: check_input_gradients(THREE, lambda a, b, c: 1.0),
    "three raises": lambda: check_input_gradients(THREE, lambda a, b, c: [][0]),
    "three stub": lambda: check_input_gradients(THREE, stub),
    "three second case": lambda: check_input_gradients(THREE, right_on_the_first_case),
}


# what the learner reads, whole: (passed, slips, message) for each answer above
EXPECTED = {
    "walk stub": (
        False,
        ("not attempted",),
        "backward(): not attempted yet. To try it, replace `raise NotImplementedError` in "
        "`stub` with your formula, then run that cell and this one.",
    ),
    "two assigned": (
        False,
        ("assigned",),
        "backward(): for inputs 1.3, −0.6 your backward() gives the gradients −1.14, 2.47, "
        "autograd −1.92, 3.25. It looks as if a gradient is assigned instead of added: a value "
        "used twice must receive the sum of its contributions (+=, not =).",
    ),
    "two left over": (
        False,
        ("left over",),
        "backward(): gradients are left over from an earlier call: a second backward() gives "
        "the inputs −5.76, 9.75 instead of twice autograd's −3.84, 6.5. Start the gradients of "
        "the values in between from 0 at each call.",
    ),
    "two does nothing": (
        False,
        ("forward order", "not seeded"),
        "backward(): for inputs 1.3, −0.6 your backward() gives the gradients 0, 0, autograd "
        "−1.92, 3.25. It looks as if a node is visited before its users are done: the nodes are "
        "visited in forward order, not in reverse; or the output's gradient is not set to 1 at "
        "the start: ∂L/∂L = 1 starts the walk.",
    ),
    "walk assigned": (
        False,
        ("assigned",),
        (
            "backward(): for inputs 3 your backward() gives the gradients 3, autograd 6. It"
            " looks as if a gradient is assigned instead of added: a value used twice must "
            "receive the sum of its contributions (+=, not =)."
        ),
    ),
    "walk forward order": (
        False,
        ("forward order",),
        (
            "backward(): for inputs 0.7 your backward() gives the gradients 0, autograd "
            "2.1523. It looks as if a node is visited before its users are done: the nodes "
            "are visited in forward order, not in reverse."
        ),
    ),
    "walk not seeded": (
        False,
        ("not seeded",),
        (
            "backward(): for inputs 3 your backward() gives the gradients 0, autograd 6. It"
            " looks as if the output's gradient is not set to 1 at the start: ∂L/∂L = 1 "
            "starts the walk."
        ),
    ),
    "walk recursive": (
        False,
        ("order",),
        (
            "backward(): for inputs 0.7 your backward() gives the gradients 4.16605, "
            "autograd 2.1523. It looks as if a node is visited before its users are done: "
            "it passes its gradient on before every use has added its contribution (visit "
            "the nodes in reverse topological order)."
        ),
    ),
    "walk left over": (
        False,
        ("left over",),
        (
            "backward(): gradients are left over from an earlier call: a second backward() "
            "gives the inputs 6.59545 instead of twice autograd's 4.3046. Start the "
            "gradients of the values in between from 0 at each call."
        ),
    ),
    "walk leaves reset": (
        False,
        ("leaves reset",),
        (
            "backward(): a second backward() on the same graph should add to the inputs' "
            "gradients, as PyTorch's .grad does, but yours starts them from 0 again: reset "
            "only the values in between."
        ),
    ),
    "walk twice": (
        False,
        ("twice",),
        (
            "backward(): a second backward() on the same graph gives the inputs 18, not "
            "twice autograd's 12."
        ),
    ),
    "walk unexplained": (
        False,
        (),
        (
            "backward(): for inputs 3 your backward() gives the gradients 0.375, autograd "
            "6. Hint: the hint"
        ),
    ),
    "walk endless": (
        False,
        ("error",),
        (
            "backward(): your backward() did not finish within 0.3 seconds: a walk that "
            "never ends (a loop whose condition stays true, or nodes visited again and "
            "again?)."
        ),
    ),
    "walk deep": (
        False,
        ("error",),
        (
            "backward(): your backward() called itself more deeply than Python allows "
            "(recursion past the limit): does it remember which nodes it has already "
            "visited?"
        ),
    ),
    "walk half done": (
        False,
        ("error",),
        (
            "backward(): your backward() still raises NotImplementedError: replace that "
            "line with your code, run its cell, then run this check again."
        ),
    ),
    "walk tensor grad": (
        False,
        ("wrong kind",),
        (
            "backward(): after your backward(), the gradient of input 1 holds a tensor of "
            "shape (2,), not a number: each .grad must stay a plain number."
        ),
    ),
    "walk none grad second": (
        False,
        ("wrong kind",),
        "backward(): after a second backward(), a gradient is no longer a plain number.",
    ),
    "walk error second": (
        False,
        ("error",),
        "backward(): your backward() raised ValueError (twice).",
    ),
    "walk right": (True, (), "backward(): correct on all 3 graphs, called twice on each."),
    "walk reference": (
        True,
        (),
        "backward(): the reference solution matches autograd on all 3 graphs.",
    ),
    "operation right": (True, (), "Square root: correct on all 4 inputs."),
    "operation reference": (
        True,
        (),
        "Square root: the reference solution matches autograd on all 4 inputs.",
    ),
    "operation input for output": (
        False,
        ("input for output",),
        (
            "Square root: for a = 4 and g = 1 your rule hands a 0.125, but it should "
            "receive 0.25. It looks as if you used the input where the output was needed."
        ),
    ),
    "operation no upstream": (
        False,
        ("no upstream",),
        (
            "Square root: for a = 0.25 and g = −2.5 your rule hands a 1, but it should "
            "receive −2.5. It looks as if the gradient from above, g, is not multiplied in."
        ),
    ),
    "operation sign": (
        False,
        ("sign",),
        (
            "Square root: for a = 4 and g = 1 your rule hands a −0.25, but it should "
            "receive 0.25. It looks as if the sign is flipped."
        ),
    ),
    "operation unexplained": (
        False,
        (),
        (
            "Square root: for a = 4 and g = 1 your rule hands a 3, but it should receive "
            "0.25. Hint: the hint"
        ),
    ),
    "operation unexplained second case": (
        False,
        (),
        (
            "Square root: for a = 0.25 and g = −2.5 your rule hands a 0, but it should "
            "receive −2.5. Hint: the hint"
        ),
    ),
    "operation float": (
        False,
        ("wrong kind",),
        (
            "Square root: your operation returns a float, not a Value: make out = "
            "Value(number, (a,), name), set out.local_rule, and return out."
        ),
    ),
    "operation tensor": (
        False,
        ("wrong kind",),
        (
            "Square root: your operation returns a tensor of shape (2, 3), not a Value: "
            "make out = Value(number, (a,), name), set out.local_rule, and return out."
        ),
    ),
    "operation none": (
        False,
        ("wrong kind",),
        (
            "Square root: your operation returns None, not a Value: make out = "
            "Value(number, (a,), name), set out.local_rule, and return out."
        ),
    ),
    "operation int": (
        False,
        ("wrong kind",),
        (
            "Square root: your operation returns an int, not a Value: make out = "
            "Value(number, (a,), name), set out.local_rule, and return out."
        ),
    ),
    "operation bare number": (
        False,
        ("wrong kind",),
        (
            "Square root: your local rule returns a float; it must return one number per "
            "input, as a tuple: (contribution,)."
        ),
    ),
    "operation two numbers": (
        False,
        ("wrong kind",),
        (
            "Square root: your local rule returns a tuple; it must return one number per "
            "input, as a tuple: (contribution,)."
        ),
    ),
    "operation a bool": (
        False,
        ("wrong kind",),
        (
            "Square root: your local rule returns a tuple; it must return one number per "
            "input, as a tuple: (contribution,)."
        ),
    ),
    "operation a tensor contribution": (True, (), "Square root: correct on all 4 inputs."),
    "operation no inputs": (
        False,
        ("inputs",),
        "Square root: the Value you return must record its input: inputs should be (a,).",
    ),
    "operation no rule": (
        False,
        ("no rule",),
        (
            "Square root: the Value you return has no local rule: set out.local_rule to a "
            "function of g."
        ),
    ),
    "operation wrong value": (
        False,
        ("value",),
        "Square root: for a = 4 your Value holds 4.0, but the operation gives 2.",
    ),
    "operation a string value": (
        False,
        ("value",),
        "Square root: for a = 4 your Value holds 'two', but the operation gives 2.",
    ),
    "operation endless": (
        False,
        ("error",),
        (
            "Square root: your operation did not finish within 0.3 seconds: a walk that "
            "never ends (a loop whose condition stays true, or nodes visited again and "
            "again?)."
        ),
    ),
    "operation raises": (
        False,
        ("error",),
        "Square root: your operation raised ZeroDivisionError (division by zero).",
    ),
    "operation rule raises": (
        False,
        ("error",),
        "Square root: your local rule raised ZeroDivisionError (division by zero).",
    ),
    "operation stub": (
        False,
        ("not attempted",),
        (
            "Square root: not attempted yet. To try it, replace `raise NotImplementedError`"
            " in `stub` with your formula, then run that cell and this one."
        ),
    ),
    "three right": (True, (), "Three gradients: every gradient correct on all 2 cases."),
    "three reference": (
        True,
        (),
        "Three gradients: the reference solution matches autograd on all 2 cases.",
    ),
    "three one path": (
        False,
        ("wrong",),
        (
            "Three gradients: at a = 3, b = −1.5, c = 2, your ∂L/∂a is −0.00370138, "
            "autograd's −1.00345. Hint: the hint"
        ),
    ),
    "three flipped": (
        False,
        ("wrong",),
        (
            "Three gradients: at a = 3, b = −1.5, c = 2, your ∂L/∂c is 0.999753, autograd's"
            " −0.999753. The sign is flipped."
        ),
    ),
    "three two numbers": (
        False,
        ("wrong kind",),
        (
            "Three gradients: your function returns a list; return 3 numbers, one per "
            "input, as a tuple: (dL_da, dL_db, dL_dc)."
        ),
    ),
    "three none": (
        False,
        ("wrong kind",),
        (
            "Three gradients: your function returns a tuple; return 3 numbers, one per "
            "input, as a tuple: (dL_da, dL_db, dL_dc)."
        ),
    ),
    "three a number": (
        False,
        ("wrong kind",),
        (
            "Three gradients: your function returns a float; return 3 numbers, one per "
            "input, as a tuple: (dL_da, dL_db, dL_dc)."
        ),
    ),
    "three raises": (
        False,
        ("error",),
        "Three gradients: your function raised IndexError (list index out of range).",
    ),
    "three stub": (
        False,
        ("not attempted",),
        (
            "Three gradients: not attempted yet. To try it, replace `raise "
            "NotImplementedError` in `stub` with your formula, then run that cell and this "
            "one."
        ),
    ),
    "three second case": (
        False,
        ("wrong",),
        (
            "Three gradients: at a = 0.5, b = 1.25, c = −2, your ∂L/∂b is 0.480686, "
            "autograd's −0.519314. Hint: the hint"
        ),
    ),
}


@pytest.mark.parametrize("case", WHOLE, ids=WHOLE)
def test_the_whole_message_and_the_slips(case):
    verdict = WHOLE[case]()
    passed, slips, message = EXPECTED[case]
    assert (bool(verdict), verdict.slips, verdict.message) == (passed, slips, message)


@pytest.mark.parametrize(
    "check, exercise, answer",
    [
        (check_walk, WALK, stub),
        (check_operation, SQRT, stub),
        (check_input_gradients, THREE, stub),
        (check_operation, SQRT, sqrt_with(lambda g, a, o: (-g / (2 * o.data),))),
        (check_input_gradients, THREE, flipped),
        (check_walk, WALK, error_on_the_second_call()),
        (check_walk, WALK, deep),
        (check_walk, WALK, none_on_the_second_call()),
        (check_walk, WALK, variant(("            node.grad = 0.0\n", "            pass\n"))),
        (
            check_walk,
            WALK,
            variant(
                ("        if node.inputs:\n            node", "        if True:\n            node")
            ),
        ),
        (check_walk, WALK, tripled_on_the_second_call()),
        (check_walk, WALK, tensor_grads),
        (check_walk, WALK, halved_walk),
        (check_input_gradients, THREE, lambda a, b, c: [][0]),
        (check_input_gradients, THREE, lambda a, b, c: 1.0),
        (check_operation, SQRT, lambda a: 1 / 0),
        (check_operation, SQRT, lambda a: None),
        (check_operation, SQRT, lambda a: Value(a.data, (a,))),
        (check_operation, SQRT, lambda a: Value(math.sqrt(a.data))),
        (check_operation, SQRT, lambda a: Value(math.sqrt(a.data), (a,))),
        (check_operation, SQRT, sqrt_with(lambda g, a, o: 1 / 0)),
        (check_operation, SQRT, sqrt_with(lambda g, a, o: g)),
    ],
    ids=[
        "walk stub",
        "operation stub",
        "three stub",
        "operation sign",
        "three sign",
        "walk error",
        "walk deep",
        "walk none",
        "walk left over",
        "walk leaves reset",
        "walk twice",
        "walk tensor",
        "walk unexplained",
        "three raises",
        "three a number",
        "operation raises",
        "operation none",
        "operation value",
        "operation no inputs",
        "operation no rule",
        "operation rule raises",
        "operation rule kind",
    ],
)
def test_a_reference_solution_that_fails_stops_the_page_with_the_same_words(
    check, exercise, answer
):
    expected = check(exercise, answer).message
    with pytest.raises(AssertionError) as error:
        check(exercise, answer, must_pass=True)
    assert str(error.value) == expected


def test_an_operation_is_checked_on_more_inputs_than_there_are_upstream_gradients():
    many = OperationExercise(
        name="Square root",
        value_class=Value,
        reference=torch.sqrt,
        inputs=[4.0, 0.25, 2.0, 7.3, 9.0, 0.5],
    )
    assert len(many.inputs) > len(engine_checks.UPSTREAM)
    verdict = check_operation(many, sqrt_with(lambda g, a, o: (g / (2 * o.data),)))
    assert verdict and verdict.message == "Square root: correct on all 6 inputs."
    wrong = check_operation(
        many, sqrt_with(lambda g, a, o: (g / (2 * o.data) if a.data < 8 else g,))
    )
    assert wrong.message == (
        "Square root: for a = 9 and g = 1 your rule hands a 1, but it should receive 0.166667."
    )


def test_an_input_the_expression_does_not_use_has_a_gradient_of_zero():
    unused = ExpressionExercise(name="Unused", expression=lambda a, b: a * a, cases=[[3.0, 2.0]])
    assert check_input_gradients(unused, lambda a, b: (2 * a, 0.0))
    verdict = check_input_gradients(unused, lambda a, b: (2 * a, 1.0))
    assert verdict.message == "Unused: at a = 3, b = 2, your ∂L/∂b is 1, autograd's 0."


def test_a_gradient_at_the_edge_of_the_tolerance_passes():
    """ATOL (1e-8) is the most a gradient of 0 may be off by, and it may be off by that much."""
    unused = ExpressionExercise(name="Unused", expression=lambda a, b: a * a, cases=[[3.0, 2.0]])
    assert check_input_gradients(unused, lambda a, b: (2 * a, engine_checks.ATOL))
    assert not check_input_gradients(unused, lambda a, b: (2 * a, 2 * engine_checks.ATOL))


# a value that is both inputs of one operation (a * a), deeper in the graph
SQUARED = WalkExercise(
    name="backward()",
    value_class=Value,
    expressions=[
        (lambda x: (lambda a: a * a)(x.exp()), [0.5]),
        (lambda w, b: (lambda a: (a * a) * b)(w.tanh() * b), [0.4, -1.2]),
    ],
)


def test_a_value_that_is_both_inputs_of_an_operation_still_gets_the_slips_named():
    assigned = check_walk(SQUARED, variant(("a.grad += c", "a.grad = c")))
    assert (assigned.slips, assigned.message) == (
        ("assigned",),
        "backward(): for inputs 0.5 your backward() gives the gradients 2.71828, autograd "
        "5.43656. It looks as if a gradient is assigned instead of added: a value used twice "
        "must receive the sum of its contributions (+=, not =).",
    )
    left_over = check_walk(
        SQUARED, variant(("            node.grad = 0.0\n", "            pass\n"))
    )
    assert (left_over.slips, left_over.message) == (
        ("left over",),
        "backward(): gradients are left over from an earlier call: a second backward() gives "
        "the inputs 16.3097 instead of twice autograd's 10.8731. Start the gradients of the "
        "values in between from 0 at each call.",
    )


def test_an_unexplained_walk_without_a_hint_ends_with_the_numbers():
    verdict = check_walk(TWO, halved_walk)
    assert (verdict.slips, verdict.message) == (
        (),
        "backward(): for inputs 1.3, −0.6 your backward() gives the gradients −0.48, 0.8125, "
        "autograd −1.92, 3.25.",
    )


def test_a_flipped_sign_is_named_within_the_checks_tolerance():
    square = ExpressionExercise(name="Square", expression=lambda a: a * a, cases=[[3.0]])
    nearly = check_input_gradients(square, lambda a: (-6.0 * (1 + 1e-7),))  # RTOL is 1e-6
    assert nearly.message.endswith("The sign is flipped."), nearly.message
    small = ExpressionExercise(name="Small", expression=lambda a: a * a, cases=[[5e-4]])
    near_zero = check_input_gradients(small, lambda a: (-1e-3 + 5e-9,))  # ATOL is 1e-8
    assert near_zero.message.endswith("The sign is flipped."), near_zero.message


def test_nothing_an_operation_changes_in_the_value_class_stays_changed():
    add = Value.__add__

    def vandal(a):
        Value.__add__ = None
        Value.extra = 1
        return sqrt_with(lambda g, a, o: (g / (2 * o.data),))(a)

    def vandal_rule(g, a, o):
        Value.__add__ = None
        return (g / (2 * o.data),)

    for operation in (vandal, sqrt_with(vandal_rule)):
        check_operation(SQRT, operation)
        assert Value.__add__ is add and not hasattr(Value, "extra")


def test_a_walk_that_never_ends_is_stopped_and_leaves_no_thread_behind():
    import threading

    before = threading.active_count()
    assert not check_walk(WALK, endless)
    assert threading.active_count() == before, "the endless walk still runs"


def test_an_interrupt_while_a_walk_runs_becomes_a_sentence_and_the_walk_ends(monkeypatch):
    monkeypatch.setattr(engine_checks, "TIME_LIMIT", 10.0)
    verdict, left = checked_with_the_stop_button(lambda walk: check_walk(WALK, walk))
    assert not verdict and verdict.slips == ("interrupted",)
    assert verdict.message == (
        "backward(): the check was interrupted (the stop button, or Ctrl+C) while "
        "`loops_forever` was running, so it has no verdict. It was stopped. Run this cell again "
        "to check it."
    )
    assert not left, "the interrupted walk still runs"


def test_an_answer_the_check_did_not_foresee_gets_a_sentence_not_a_traceback():
    def odd_inputs(a):  # inputs that are not a sequence: tuple() of them raises TypeError
        out = Value(math.sqrt(a.data), (a,), "sqrt")
        out.inputs = 5
        return out

    verdict = check_operation(SQRT, odd_inputs)
    assert not verdict and verdict.slips == ("unjudged",)
    assert verdict.message.startswith("Square root: the checker could not judge this answer (")
    assert verdict.message.endswith(engine_checks.ADVICE)


def test_a_working_directory_removed_under_the_kernel_does_not_stop_the_check(tmp_path):
    import os

    home = os.getcwd()
    gone = tmp_path / "gone"
    gone.mkdir()
    os.chdir(gone)
    gone.rmdir()  # os.getcwd() now raises FileNotFoundError: there is nothing to put back
    try:
        verdict = check_walk(WALK, right_walk)
    finally:
        os.chdir(home)
    assert verdict, verdict.message


def test_a_walk_that_cannot_be_stopped_does_not_keep_python_alive():
    import threading
    import time

    def sleeps(output):
        time.sleep(3)  # inside C: the stop waits for it to return

    before = set(threading.enumerate())
    verdict = check_walk(WALK, sleeps)
    assert not verdict and verdict.slips == ("error",)
    runaway = [t for t in threading.enumerate() if t is not threading.current_thread()]
    assert all(t.daemon for t in runaway), "an abandoned thread must not keep Python alive"
    for thread in set(runaway) - before:  # no thread left for later tests
        thread.join()


def test_a_second_call_of_two_inputs_that_is_not_twice_lists_both():
    calls = []

    def one_more_the_second_time(output):
        calls.append(output)
        right_walk(output)
        if calls.count(output) == 2:
            for leaf in output.inputs[0].inputs:  # w and b, in w * b
                leaf.grad += 1.0

    verdict = check_walk(TWO, one_more_the_second_time)
    assert verdict.message == (
        "backward(): a second backward() on the same graph gives the inputs −2.84, 7.5, not "
        "twice autograd's −3.84, 6.5."
    )


def test_a_walk_that_catches_every_exception_is_still_stopped():
    import threading
    import time

    def keeps_trying(output):
        while True:
            try:
                time.sleep(0.001)
            except Exception:  # noqa: BLE001, S110 (the learner's code)
                pass

    before = threading.active_count()
    verdict = check_walk(WALK, keeps_trying)
    assert not verdict and "did not finish within 0.3 seconds" in verdict.message
    assert threading.active_count() == before, "the walk still runs"


# --- Issue 26: what the mutants showed ----------------------------------------------------------


def test_a_kind_takes_an_before_a_vowel_of_either_case_and_a_before_any_other_letter():
    class Apple:
        pass

    class Xylophone:
        pass

    assert engine_checks._kind(Apple()) == "an Apple"
    assert engine_checks._kind(object()) == "an object"
    assert engine_checks._kind(Xylophone()) == "a Xylophone"
    assert engine_checks._kind("two") == "a str"


def test_a_class_attribute_the_learner_may_assign_is_put_back_docstring_and_weakref_too():
    saved = dict(vars(Value))

    def vandal(output):
        Value.__doc__ = "the learner's"
        Value.__weakref__ = None
        right_walk(output)

    assert check_walk(WALK, vandal)
    assert vars(Value) == saved
    import weakref

    value = Value(1.0)
    assert weakref.ref(value)() is value


def test_a_walk_that_cannot_be_stopped_holds_the_check_up_one_second_at_most():
    import threading
    import time

    def sleeps(output):
        time.sleep(3)  # inside C: the stop reaches it only when it returns

    before = set(threading.enumerate())
    start = time.monotonic()
    verdict = check_walk(WALK, sleeps)
    took = time.monotonic() - start
    for runaway in set(threading.enumerate()) - before:  # no thread left for later tests
        runaway.join()
    assert not verdict and "did not finish within 0.3 seconds" in verdict.message
    # the time limit (0.3 s here), then one second of grace for the stop, not the whole 3 s
    assert took < 1.9, took


def test_the_reference_value_is_computed_in_float64():
    """An operation whose value float32 would round visibly: (a - 0.1) * 1000 near a = 0.1."""
    shifted = OperationExercise(
        name="Shifted",
        value_class=Value,
        reference=lambda t: (t - 0.1) * 1000,
        inputs=[0.1000001, 0.1000003],
    )

    def operation(a):
        out = Value((a.data - 0.1) * 1000, (a,), "shift")
        out.local_rule = lambda g: (1000 * g,)
        return out

    verdict = check_operation(shifted, operation)
    assert verdict, verdict.message


def test_a_value_without_its_inputs_or_its_rule_attribute_gets_a_sentence():
    def no_inputs(a):
        out = sqrt_with(lambda g, a, o: (g / (2 * o.data),))(a)
        del out.inputs
        return out

    def no_rule(a):
        out = Value(math.sqrt(a.data), (a,), "sqrt")
        del out.local_rule
        return out

    assert check_operation(SQRT, no_inputs).message == (
        "Square root: the Value you return must record its input: inputs should be (a,)."
    )
    assert check_operation(SQRT, no_rule).message == (
        "Square root: the Value you return has no local rule: set out.local_rule to a "
        "function of g."
    )


def test_two_slips_that_fit_at_once_are_both_named():
    """Negation: its derivative is -1; with `from_output` giving +1, the input-for-output
    slip and the flipped sign give the same rule, g."""
    negation = OperationExercise(
        name="Negation",
        value_class=Value,
        reference=torch.neg,
        inputs=[2.0, 0.5],
        from_output=lambda v: 1.0,
    )

    def operation(a):
        out = Value(-a.data, (a,), "neg")
        out.local_rule = lambda g: (g,)
        return out

    verdict = check_operation(negation, operation)
    assert verdict.slips == ("input for output", "sign")
    assert verdict.message == (
        "Negation: for a = 2 and g = 1 your rule hands a 1, but it should receive −1. It looks "
        "as if you used the input where the output was needed and the sign is flipped."
    )


# a = exp(x) used by the output and by a * 2, with the output's inputs in that order: the plain
# recursion passes x the paths 1 and then 1 - 2 = -1, 0 in all, as the forward order does (and
# as a walk without the seed)
REUSED = WalkExercise(
    name="backward()",
    value_class=Value,
    expressions=[(lambda x: (lambda a: a - a * 2)(x.exp()), [0.3])],
)


def test_when_the_recursion_and_the_forward_order_both_fit_only_the_recursion_is_named():
    verdict = check_walk(REUSED, variant(("in reversed(order)", "in order")))
    assert verdict.slips == ("order", "not seeded"), verdict.message
    assert "users are done: it passes its gradient on" in verdict.message
    assert "forward order" not in verdict.message


class Broken(Value):
    """A Value whose addition hands back one contribution for its two inputs."""

    def __add__(self, other):
        out = Broken(self.data + other.data, (self, other), "add")
        out.local_rule = lambda g: (g,)
        return out


def test_an_exercise_whose_operation_hands_back_too_few_contributions_is_refused():
    broken = WalkExercise(
        name="backward()",
        value_class=Broken,
        expressions=[(lambda x, y: (x + y) + x, [1.0, 2.0])],
    )

    def walk(output):  # a learner's walk that zips without checking
        output.grad = 1.0
        for a, c in zip(output.inputs, output.local_rule(output.grad)):  # noqa: B905
            a.grad += c

    with pytest.raises(ValueError, match="shorter"):  # the page's reference solution stops
        check_walk(broken, walk, must_pass=True)
    assert check_walk(broken, walk).slips == ("unjudged",), "a learner is told in words"


def test_an_exercise_whose_cases_do_not_give_every_input_a_number_is_refused():
    """b left to its default: autograd gives one gradient, the learner is asked for two."""
    defaulted = ExpressionExercise(
        name="Defaulted", expression=lambda a, b=2.0: a * b, cases=[[3.0]]
    )
    with pytest.raises(ValueError, match="shorter"):
        check_input_gradients(defaulted, lambda a, b=2.0: (2.0, 3.0), must_pass=True)  # a right
    with pytest.raises(ValueError, match="shorter"):
        check_input_gradients(defaulted, lambda a, b=2.0: (5.0, 3.0), must_pass=True)  # a wrong
