"""Unit tests for chapters/exercises/autograd_function.py."""

import pytest
import torch

from exercises import (
    FunctionExercise,
    check_autograd_function,
    check_gradient,
    words,
)
from exercises_examples import LAYER, MEAN, TanhLayer, layer_case, right_mean


def layer_with(backward=None, forward=None):
    """TanhLayer with its backward's gradients changed by ``backward(grads)``."""

    class Layer(TanhLayer):
        pass

    if forward is not None:
        Layer.forward = staticmethod(forward)
    if backward is not None:
        Layer.backward = staticmethod(lambda ctx, g: backward(TanhLayer.backward(ctx, g)))
    return Layer


def test_a_right_autograd_function_passes_and_gradcheck_agrees():
    verdict = check_autograd_function(LAYER, TanhLayer)
    assert verdict, repr(verdict)
    assert repr(verdict) == (
        "A tanh layer: correct. Your forward and backward match autograd on all 3 cases, "
        "and torch.autograd.gradcheck agrees."
    )
    reference = check_autograd_function(LAYER, TanhLayer, must_pass=True)
    assert reference
    assert "the reference solution matches autograd on all 3 cases and passes gradcheck" in (
        repr(reference)
    )


class StubLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, dL_dh):
        raise NotImplementedError


class HalfStubLayer(TanhLayer):
    @staticmethod
    def backward(ctx, dL_dh):
        """Still to write."""
        raise NotImplementedError()


class NoBackwardLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        return torch.tanh(x @ w + b)


@pytest.mark.parametrize("layer", [StubLayer, HalfStubLayer, NoBackwardLayer])
def test_an_untouched_autograd_function_is_not_attempted(layer):
    verdict = check_autograd_function(LAYER, layer)
    assert not verdict and verdict.slips == ("not attempted",), repr(verdict)
    assert f"in `{layer.__name__}.forward` and `{layer.__name__}.backward`" in repr(verdict)
    with pytest.raises(AssertionError, match="not attempted"):
        check_autograd_function(LAYER, layer, must_pass=True)


def test_a_wrong_forward_is_named_before_any_gradient():
    layer = layer_with(forward=lambda ctx, x, w, b: torch.tanh(x @ w))
    verdict = check_autograd_function(LAYER, layer)
    assert not verdict and verdict.slips == ("forward",), repr(verdict)
    assert "The forward is wrong. On case 1 of 3" in repr(verdict)


def negate(grads, which):
    return tuple(-g if i == which else g for i, g in enumerate(grads))


@pytest.mark.parametrize("which, name", [(0, "x"), (1, "w"), (2, "b")])
def test_the_input_whose_gradient_is_wrong_is_named_with_its_slip(which, name):
    verdict = check_autograd_function(LAYER, layer_with(lambda grads: negate(grads, which)))
    assert not verdict and verdict.slips == ("sign",), repr(verdict)
    assert f"The forward is right, but the gradient for {name} is wrong. On case 1" in repr(
        verdict
    )
    assert "Diagnosis: every entry has the wrong sign" in repr(verdict)


def test_every_wrong_input_is_named():
    layer = layer_with(lambda grads: (grads[0], grads[1] * 2, grads[2] + 1))
    verdict = check_autograd_function(LAYER, layer)
    assert "the gradient for w is wrong (and so is the gradient for b)" in repr(verdict)
    assert verdict.slips == ("twice",)
    every = check_autograd_function(LAYER, layer_with(lambda grads: tuple(-g for g in grads)))
    assert "the gradient for x is wrong (and so is the gradient for w, b)" in repr(every)


def test_a_backward_without_the_sum_over_the_batch_is_diagnosed():
    layer = layer_with(lambda grads: (grads[0], grads[1], None))

    class NotSummed(TanhLayer):
        @staticmethod
        def backward(ctx, dL_dh):
            x, w, h = ctx.saved_tensors
            dL_ds = dL_dh * (1 - h**2)
            return dL_ds @ w.T, x.T @ dL_ds, dL_ds

    assert check_autograd_function(LAYER, NotSummed).slips == ("batch sum",)
    none = check_autograd_function(LAYER, layer)
    assert not none and "the gradient for b: `Layer.backward` returns None for b" in repr(none)


@pytest.mark.parametrize(
    "backward, message, slips",
    [
        (lambda grads: grads[:2], "returns 2 gradients, for 3 inputs (x, w, b)", ("count",)),
        (lambda grads: grads[0], "returns 1 gradient, for 3 inputs (x, w, b)", ("count",)),
        (lambda grads: [*grads], "returns a list. Return the gradients as a tuple", ("type",)),
        (lambda grads: (*grads[:2], grads[2].float()), "got dtype torch.float32", ("type",)),
        (lambda grads: (*grads[:2], grads[2][0]), "expected a gradient of shape (1, 4) for b", ()),
    ],
)
def test_what_backward_returns_is_checked_before_autograd_sees_it(backward, message, slips):
    verdict = check_autograd_function(LAYER, layer_with(backward))
    assert message in repr(verdict), repr(verdict)
    assert verdict.slips == slips or (message == "expected a gradient of shape (1, 4) for b")


def test_a_backward_that_gradcheck_refuses_fails():
    class Unsaved(TanhLayer):
        calls = 0

        @staticmethod
        def backward(ctx, dL_dh):
            Unsaved.calls += 1  # right the first times, wrong once gradcheck calls it
            grads = TanhLayer.backward(ctx, dL_dh)
            return grads if Unsaved.calls <= 3 else tuple(2 * g for g in grads)

    verdict = check_autograd_function(LAYER, Unsaved)
    assert not verdict and verdict.slips == ("gradcheck",), repr(verdict)
    assert "torch.autograd.gradcheck refuses them on case 1 of 3" in repr(verdict)


def raising_forward(ctx, x, w, b):
    raise ValueError("shapes do not match " + "x" * 5000)


def raising_backward(grads):
    raise RuntimeError("bad")


@pytest.mark.parametrize(
    "layer, message",
    [
        (layer_with(forward=raising_forward), "`Layer.apply` raised ValueError (shapes do not"),
        (layer_with(raising_backward), "right, but `Layer.backward` raised RuntimeError (bad)"),
        (layer_with(forward=lambda ctx, x, w, b: (x, w)), "got a tuple"),
        (layer_with(forward=lambda ctx, x, w, b: None), "`Layer.forward` returned None"),
    ],
)
def test_whatever_the_class_does_the_learner_gets_a_sentence(layer, message):
    grad_mode, dtype = torch.is_grad_enabled(), torch.get_default_dtype()
    verdict = check_autograd_function(LAYER, layer)
    assert not verdict and message in repr(verdict), repr(verdict)
    assert len(repr(verdict)) < 1000 and "Traceback" not in repr(verdict)
    assert (torch.is_grad_enabled(), torch.get_default_dtype()) == (grad_mode, dtype)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((TanhLayer, LAYER), "takes the exercise first, then your class"),
        ((MEAN, TanhLayer), "expects an exercise that the chapter made with FunctionExercise"),
        ((LAYER, TanhLayer.apply), "expected a class that subclasses torch.autograd.Function"),
        ((LAYER, "TanhLayer"), "expected a class that subclasses torch.autograd.Function"),
    ],
)
def test_check_autograd_function_explains_wrong_arguments(arguments, message):
    verdict = check_autograd_function(*arguments)
    assert not verdict and message in repr(verdict), repr(verdict)


def layer_where(number=1):
    case = LAYER.inputs[number - 1]
    return f"on case {number} of 3 ({words._describe(case)})"


LAYER_CALLED = (
    "It is called as Layer.apply(x, w, b) with float64 tensors that require grad: call it "
    "yourself on those inputs to see where."
)


def whole_function_messages():
    where = layer_where()
    return {
        "not attempted": (
            StubLayer,
            ("not attempted",),
            "A tanh layer: not attempted yet. To try it, replace "
            "`raise NotImplementedError` in `StubLayer.forward` and `StubLayer.backward` with "
            "your formula, then run that cell and this one.",
        ),
        "not a class": (
            TanhLayer.apply,
            (),
            "A tanh layer: expected a class that subclasses torch.autograd.Function, got a "
            "method. Pass the class itself, not `.apply` nor a call of it.",
        ),
        "forward raises": (
            layer_with(forward=raising_forward),
            ("raised",),
            f"A tanh layer: `Layer.apply` raised ValueError (shapes do not match "
            f"{'x' * (words.MAX_ERROR_TEXT - 20)} …), {where}. {LAYER_CALLED}",
        ),
        "backward raises": (
            layer_with(raising_backward),
            ("raised",),
            f"A tanh layer: the forward is right, but `Layer.backward` raised RuntimeError (bad), "
            f"{where}. {LAYER_CALLED}",
        ),
        "forward returns None": (
            layer_with(forward=lambda ctx, x, w, b: None),
            ("type",),
            f"A tanh layer: the forward: `Layer.forward` returned None: did you forget `return`? "
            f"({where}).",
        ),
        "a list": (
            layer_with(lambda grads: [*grads]),
            ("type",),
            "A tanh layer: `Layer.backward` returns a list. Return the gradients as a tuple, one "
            "per input of forward: `return dL_dx, dL_dw, dL_db`.",
        ),
        "one gradient": (
            layer_with(lambda grads: grads[0]),
            ("count",),
            "A tanh layer: `Layer.backward` returns 1 gradient, for 3 inputs (x, w, b). Return "
            "one gradient per input of forward, in that order.",
        ),
        "a gradient of the wrong type": (
            layer_with(lambda grads: (grads[0], grads[1].float(), grads[2])),
            ("type",),
            "A tanh layer: the gradient for w: expected a float64 tensor (the inputs are "
            "float64), got dtype torch.float32. Compute it from the inputs instead of writing "
            f"torch.tensor(...) ({where}).",
        ),
    }


@pytest.mark.parametrize("case", list(whole_function_messages()))
def test_the_whole_message_about_an_autograd_function(case):
    layer, slips, message = whole_function_messages()[case]
    verdict = check_autograd_function(LAYER, layer)
    assert not verdict and verdict.slips == slips
    assert repr(verdict) == message


def test_the_whole_message_for_a_wrong_forward_and_a_wrong_gradient():
    expected = LAYER._outputs[0]
    wrong_forward = layer_with(forward=lambda ctx, x, w, b: torch.tanh(x @ w + b) + 1)
    assert repr(check_autograd_function(LAYER, wrong_forward)) == (
        "A tanh layer: not yet. The forward is wrong. "
        f"On case 1 of 3 ({words._describe(LAYER.inputs[0])}), "
        f"the largest error is 1 at index (0, 0): expected {expected[0, 0].item():.6g}, "
        f"got {expected[0, 0].item() + 1:.6g}. Fix the forward "
        "first, then the backward."
    )
    shape = check_autograd_function(LAYER, layer_with(forward=lambda ctx, x, w, b: x))
    assert repr(shape) == (
        "A tanh layer: not yet. The forward returns shape (3, 2), where (3, 4) is expected, "
        f"{layer_where()}. Fix the forward first, then the backward."
    )
    assert not shape and shape.slips == ("forward",)

    def bumped(gradient):
        gradient = gradient.clone()
        gradient[0, 0] += 1
        return gradient

    wrong_b = layer_with(lambda grads: (grads[0], grads[1], bumped(grads[2])))
    verdict = check_autograd_function(LAYER, wrong_b)
    gradient = LAYER._gradients[0][2]
    assert verdict.slips == ()
    assert repr(verdict) == (
        "A tanh layer: not yet. The forward is right, but the gradient for b is wrong. "
        f"On case 1 of 3 ({words._describe(LAYER.inputs[0])}), the largest error is 1 at "
        f"index (0, 0): expected {gradient[0, 0].item():.6g}, got "
        f"{gradient[0, 0].item() + 1:.6g}. It is wrong on 3 of the 3 cases.\n"
        "Hint: tanh'(s) = 1 - tanh(s)**2."
    )


def test_the_whole_message_when_gradcheck_refuses():
    class Unsaved(TanhLayer):
        calls = 0

        @staticmethod
        def backward(ctx, dL_dh):
            Unsaved.calls += 1
            grads = TanhLayer.backward(ctx, dL_dh)
            return grads if Unsaved.calls <= 3 else tuple(2 * g for g in grads)

    message = repr(check_autograd_function(LAYER, Unsaved))
    start = (
        "A tanh layer: not yet. Forward and backward match autograd, but "
        f"torch.autograd.gradcheck refuses them {layer_where()}: GradcheckError (Jacobian "
        "mismatch for output 0 with respect to input 0,"
    )
    assert message.startswith(start), message
    assert message.endswith(
        " …). Check that backward uses only what forward saved, and changes nothing in place."
    )


def test_the_whole_messages_for_arguments_in_the_wrong_place():
    swapped = check_autograd_function(TanhLayer, LAYER)
    assert swapped.slips == ("arguments",) and repr(swapped) == (
        "check_autograd_function takes the exercise first, then your class: write "
        "check_autograd_function(exercise, answer) with the two swapped back."
    )
    other = check_autograd_function(MEAN, TanhLayer)
    assert other.slips == ("arguments",) and repr(other) == (
        "check_autograd_function expects an exercise that the chapter made with "
        "FunctionExercise(...) first, got an Exercise. Pass that exercise, then your class."
    )
    assert repr(check_gradient(right_mean, right_mean)) == (
        "check_gradient expects an exercise that the chapter made with Exercise(...) first, "
        "got a function. Pass that exercise, then your function."
    )


def test_a_function_exercise_whose_first_input_is_a_number_has_one_sample():
    exercise = FunctionExercise(
        "Scaled",
        reference=lambda a, x: a * torch.tanh(x),
        cases=[{"a": 2.0, "x": [[1.0, -0.5], [0.3, 2.0]]}],
    )

    class Scaled(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, x):
            h = torch.tanh(x)
            ctx.save_for_backward(a, h)
            return a * h

        @staticmethod
        def backward(ctx, dL_dy):
            a, h = ctx.saved_tensors
            return (dL_dy * h).sum() / 2, dL_dy * a * (1 - h**2) / 2

    verdict = check_autograd_function(exercise, Scaled)
    assert verdict.slips == ("half",), repr(verdict)


def made_layer():
    return FunctionExercise(
        "A tanh layer",
        reference=lambda x, w, b: torch.tanh(x @ w + b),
        cases=[layer_case(3, 2, 4, seed=1), layer_case(3, 2, 4, seed=2)],
        hint="tanh'(s) = 1 - tanh(s)**2.",
    )


def test_a_function_exercise_made_now_has_seeded_float64_upstream_gradients():
    first, second = made_layer(), made_layer()
    for a, b in zip(first._upstream, second._upstream, strict=True):
        assert a.dtype == torch.float64 and torch.equal(a, b)
    assert not torch.equal(first._upstream[0], first._upstream[1]), "one seed per case"
    assert torch.equal(
        first._outputs[0],
        torch.tanh(first.inputs[0]["x"] @ first.inputs[0]["w"] + first.inputs[0]["b"]),
    )


@pytest.mark.parametrize("which, name", [(0, "x"), (1, "w"), (2, "b")])
def test_a_function_exercise_made_now_names_each_input_and_slip(which, name):
    exercise = made_layer()
    assert check_autograd_function(exercise, TanhLayer)
    half = layer_with(lambda grads: tuple(g / 2 if i == which else g for i, g in enumerate(grads)))
    verdict = check_autograd_function(exercise, half)
    assert verdict.slips == ("half",) and f"the gradient for {name} is wrong." in repr(verdict)


# --- Issue 26: messages that blamed the wrong thing ----------------------------------------------


def test_a_backward_that_changes_the_saved_output_in_place_is_named():
    class InPlace(TanhLayer):
        @staticmethod
        def backward(ctx, dL_dh):
            x, w, h = ctx.saved_tensors
            dL_ds = dL_dh * h.mul_(h).neg_().add_(1)  # 1 - h², written into h itself
            return dL_ds @ w.T, x.T @ dL_ds, dL_ds.sum(dim=0, keepdim=True)

    verdict = check_autograd_function(LAYER, InPlace)
    assert not verdict and verdict.slips == ("in place",), repr(verdict)
    assert repr(verdict) == (
        f"A tanh layer: the forward is right, but `InPlace.backward` changes the forward's "
        f"output in place, {layer_where()}: autograd saved that tensor, and every later use of "
        "it now reads other numbers. Compute new tensors in backward (such as `y * (1 - y)`), "
        "not in-place ones (`y.mul_(...)`, `y *= ...`)."
    )


def test_a_backward_with_no_return_is_asked_about_return():
    class NoReturn(TanhLayer):
        @staticmethod
        def backward(ctx, dL_dh):
            x, w, h = ctx.saved_tensors
            dL_ds = dL_dh * (1 - h**2)  # noqa: F841 (computed, never returned)

    verdict = check_autograd_function(LAYER, NoReturn)
    assert not verdict and verdict.slips == ("type",)
    assert repr(verdict) == (
        "A tanh layer: `NoReturn.backward` returned None: did you forget `return`? Return one "
        "gradient per input of forward: `return dL_dx, dL_dw, dL_db`."
    )


def test_a_backward_that_returns_none_for_one_input_is_told_that_input_needs_it():
    verdict = check_autograd_function(LAYER, layer_with(lambda grads: (grads[0], None, grads[2])))
    assert not verdict and verdict.slips == ("type",)
    assert repr(verdict) == (
        "A tanh layer: the gradient for w: `Layer.backward` returns None for w, which needs a "
        f"gradient too: compute dL_dw and return it in w's place ({layer_where()})."
    )
    assert "forget `return`" not in repr(verdict)


def test_a_forward_in_float32_gets_the_precision_diagnosis():
    class Float32(TanhLayer):
        @staticmethod
        def forward(ctx, x, w, b):
            h = torch.tanh(x.float() @ w.float() + b.float()).double()
            ctx.save_for_backward(x, w, h)
            return h

    verdict = check_autograd_function(LAYER, Float32)
    assert verdict.slips == ("forward", "precision"), repr(verdict)
    assert repr(verdict).endswith(
        "\nDiagnosis: your forward agrees with the reference only to float32's 7 digits: some "
        "step is computed in float32. Keep every step in float64 (no `.float()`, and "
        "`dtype=torch.float64` in any `torch.tensor(...)`)."
    )


def test_the_entry_named_is_one_outside_the_tolerance():
    expected = torch.tensor([1e4, 1.0], dtype=torch.float64)
    got = expected + torch.tensor([1e-3, 1e-5], dtype=torch.float64)  # 1e-7 and 1e-5 relative
    said = words._difference(got, expected, "on case 1 of 1")
    assert "at index (1,)" in said, said


def test_an_nn_module_class_in_place_of_the_function_is_named():
    class Layer(torch.nn.Module):
        def forward(self, x, w, b):
            return torch.tanh(x @ w + b)

    verdict = check_autograd_function(LAYER, Layer)
    assert repr(verdict) == (
        "A tanh layer: expected a class that subclasses torch.autograd.Function, got the class "
        "`Layer`, an nn.Module (a layer). Pass the class itself, not `.apply` nor a call of it."
    )


class Embedding(torch.autograd.Function):
    """Rows of a table picked by integer indices: the index gets no gradient."""

    @staticmethod
    def forward(ctx, table, ix):
        ctx.save_for_backward(ix)
        ctx.rows = table.shape[0]
        return table[ix]

    @staticmethod
    def backward(ctx, dL_dout):
        (ix,) = ctx.saved_tensors
        dL_dtable = torch.zeros(ctx.rows, dL_dout.shape[1], dtype=dL_dout.dtype)
        return dL_dtable.index_add_(0, ix, dL_dout), None


EMBEDDING = FunctionExercise(
    name="An embedding",
    reference=lambda table, ix: table[ix],
    cases=[
        {
            "table": torch.randn(4, 3, generator=torch.Generator().manual_seed(0)),
            "ix": torch.tensor([0, 2, 2, 3, 0]),
        },
        {
            "table": torch.randn(5, 2, generator=torch.Generator().manual_seed(1)),
            "ix": torch.tensor([4, 4, 1]),
        },
    ],
)


def test_an_integer_input_of_a_function_gets_no_gradient():
    assert EMBEDDING.inputs[0]["ix"].dtype == torch.int64
    assert check_autograd_function(EMBEDDING, Embedding), "index_add_ is right"

    class GradientForIx(Embedding):
        @staticmethod
        def backward(ctx, dL_dout):
            dL_dtable, _ = Embedding.backward(ctx, dL_dout)
            return dL_dtable, torch.zeros(5)

    verdict = check_autograd_function(EMBEDDING, GradientForIx)
    assert not verdict and verdict.slips == ("type",)
    assert "returns a tensor of shape (5,) for ix, an integer input (indices or labels)" in repr(
        verdict
    )


def test_an_embedding_that_assigns_repeated_rows_is_diagnosed():
    class Assigns(Embedding):
        @staticmethod
        def backward(ctx, dL_dout):
            (ix,) = ctx.saved_tensors
            dL_dtable = torch.zeros(ctx.rows, dL_dout.shape[1], dtype=dL_dout.dtype)
            dL_dtable[ix] = dL_dout  # a row picked twice keeps one of its gradients
            return dL_dtable, None

    verdict = check_autograd_function(EMBEDDING, Assigns)
    assert verdict.slips == ("repeated index added once",), repr(verdict)


@pytest.mark.parametrize("order", ["table first", "ix first"])
def test_an_exercise_with_an_integer_input_anywhere_is_made_and_checked(order):
    """Made here, as a page's cell makes it: the integer input has no gradient to compare."""
    if order == "table first":
        exercise = FunctionExercise("An embedding", lambda table, ix: table[ix], EMBEDDING.cases)
        answer = Embedding
    else:
        cases = [{"ix": case["ix"], "table": case["table"]} for case in EMBEDDING.cases]
        exercise = FunctionExercise("An embedding", lambda ix, table: table[ix], cases)
        answer = IxFirst  # below: Embedding with its inputs the other way round

    verdict = check_autograd_function(exercise, answer)
    assert verdict, repr(verdict)


def test_an_output_autograd_does_not_track_is_not_blamed_on_the_backward():
    """mark_non_differentiable leaves the output without a graph: the backward never runs,
    so nothing can have changed the output in place."""

    class Untracked(TanhLayer):
        @staticmethod
        def forward(ctx, x, w, b):
            h = TanhLayer.forward(ctx, x, w, b)
            ctx.mark_non_differentiable(h)
            return h

    verdict = check_autograd_function(LAYER, Untracked)
    assert not verdict and verdict.slips == ("type",), repr(verdict)
    assert "changes the forward's output in place" not in repr(verdict)
    assert "returns 0 gradients" not in repr(verdict), "the backward was never called"
    assert verdict.message.startswith(
        f"{LAYER.name}: the forward is right, but autograd never calls `Untracked.backward`: "
        "the output of `Untracked.forward` is not in autograd's graph (on case 1 of"
    )
    assert verdict.message.endswith(
        "Did forward call `ctx.mark_non_differentiable` on it? Leave that out: the output "
        "needs a gradient, and backward is what computes the next one."
    )


# --- Issue 26, mutation ------------------------------------------------------------------------


def test_an_untouched_autograd_function_says_in_the_book_to_run_the_chapter():
    verdict = check_autograd_function(LAYER, StubLayer)
    assert "run this chapter in JupyterLab" not in repr(verdict)
    assert (
        '<span class="book-only" style="display: none" hidden>run this chapter in JupyterLab, '
        "</span>replace `raise NotImplementedError` in `StubLayer.forward`"
    ) in verdict._repr_html_()


def test_a_forward_off_by_float32_rounding_alone_gets_the_precision_diagnosis():
    """A float64 forward whose numbers are off by 5e-5 relative, within float32's agreement:
    the same words as a forward computed in float32."""
    layer = layer_with(forward=lambda ctx, x, w, b: torch.tanh(x @ w + b) * (1 + 5e-5))
    verdict = check_autograd_function(LAYER, layer)
    assert verdict.slips == ("forward", "precision"), repr(verdict)
    assert "Diagnosis: your forward agrees with the reference only to float32's 7 digits" in (
        repr(verdict)
    )
    far = layer_with(forward=lambda ctx, x, w, b: torch.tanh(x @ w + b) * (1 + 5e-3))
    assert check_autograd_function(LAYER, far).slips == ("forward",)


def test_a_forward_off_near_zero_by_float32_rounding_gets_the_precision_diagnosis():
    """An output of 0 off by 1e-6: within float32's absolute agreement, not float64's."""
    exercise = FunctionExercise(
        "A product",
        reference=lambda x, w: x * w,
        cases=[{"x": [[0.0, 1.5], [2.0, -0.5]], "w": [[0.5, 2.0]]}],
    )

    class Product(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w + 1e-6

        @staticmethod
        def backward(ctx, dL_dy):
            x, w = ctx.saved_tensors
            return dL_dy * w, (dL_dy * x).sum(dim=0, keepdim=True)

    verdict = check_autograd_function(exercise, Product)
    assert verdict.slips == ("forward", "precision"), repr(verdict)


class IxFirst(torch.autograd.Function):
    """EMBEDDING with the index first: the table's gradient comes after the index's None."""

    @staticmethod
    def forward(ctx, ix, table):
        return Embedding.forward(ctx, table, ix)

    @staticmethod
    def backward(ctx, dL_dout):
        return tuple(reversed(Embedding.backward(ctx, dL_dout)))


def test_the_gradient_after_an_integer_input_is_checked_too():
    cases = [{"ix": case["ix"], "table": case["table"]} for case in EMBEDDING.cases]
    exercise = FunctionExercise("An embedding", lambda ix, table: table[ix], cases)
    assert check_autograd_function(exercise, IxFirst)

    class Twice(IxFirst):
        @staticmethod
        def backward(ctx, dL_dout):
            none, dL_dtable = IxFirst.backward(ctx, dL_dout)
            return none, 2 * dL_dtable

    verdict = check_autograd_function(exercise, Twice)
    assert verdict.slips == ("twice",), repr(verdict)
    assert "The forward is right, but the gradient for table is wrong." in repr(verdict)


def test_a_backward_that_computes_a_step_in_float32_gets_the_precision_diagnosis():
    class Float32Backward(TanhLayer):
        @staticmethod
        def backward(ctx, dL_dh):
            dL_dx, dL_dw, dL_db = TanhLayer.backward(ctx, dL_dh)
            return dL_dx.float().double(), dL_dw, dL_db

    verdict = check_autograd_function(LAYER, Float32Backward)
    assert not verdict and verdict.slips == ("precision",), repr(verdict)
    assert "the gradient for x is wrong" in repr(verdict)


def test_a_gradient_from_an_async_helper_names_the_backward():
    async def bias_gradient(dL_ds):
        return dL_ds.sum(dim=0, keepdim=True)

    made = []

    class Async(TanhLayer):
        @staticmethod
        def backward(ctx, dL_dh):
            dL_dx, dL_dw, dL_db = TanhLayer.backward(ctx, dL_dh)
            made.append(bias_gradient(dL_db))
            return dL_dx, dL_dw, made[-1]

    verdict = check_autograd_function(LAYER, Async)
    for coroutine in made:
        coroutine.close()
    assert verdict.slips == ("type",), repr(verdict)
    assert repr(verdict).startswith(
        "A tanh layer: the gradient for b: `Async.backward` is an `async def`: write it as a "
        "plain `def` that returns the tensor (on case 1 of 3"
    ), repr(verdict)


def test_a_float32_forward_far_from_the_reference_is_not_told_it_agrees_to_7_digits():
    """A forward computed in float32 and off by 10%: the float32 step is named, in words
    that do not claim float32's digits of agreement."""
    layer = layer_with(
        forward=lambda ctx, x, w, b: (torch.tanh(x.float() @ w.float() + b.float()) * 1.1).double()
    )
    verdict = check_autograd_function(LAYER, layer)
    assert verdict.slips == ("forward", "precision"), repr(verdict)
    assert "agrees with the reference only to float32's 7 digits" not in repr(verdict)
    assert (
        "Diagnosis: some step is computed in float32, and your numbers are further from the "
        "reference's than float32's rounding usually leaves them" in repr(verdict)
    )
