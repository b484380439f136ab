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
    def recursive(output):
        output.grad = 1.0

        def push(node):
            for a, c in (
                zip(node.inputs, node.local_rule(node.grad), strict=True) if node.inputs else ()
            ):
                a.grad += c
                push(a)

        push(output)

    verdict = check_walk(WALK, recursive)
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
