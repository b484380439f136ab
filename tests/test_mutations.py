"""Mutation testing: a wrong hand derivation must make its chapter fail.

Each mutant rewrites one hand-derived formula in a chapter's code (every place
it occurs, as a learner with that misconception would write it everywhere),
runs the chapter's code cells top to bottom, and expects one of the chapter's
own assertions to fail. The unchanged chapter runs through the same harness
and must pass, so a harness that fails everything would be caught.

The cells run in this process, not in a kernel: the same code, top to bottom,
without paying a kernel start per mutant. nbval runs them in a real kernel.
"""

import pytest

from chapter_runner import chapter_cells, run_cells, run_notebook

# Every chapter defines d_mse, the derivative of the squared error, the same way.
D_MSE_MUTANTS = {
    "sign flipped in d_mse": [("return -2 * (y - y_hat)", "return 2 * (y - y_hat)")],
    "factor 2 dropped in d_mse": [("return -2 * (y - y_hat)", "return -(y - y_hat)")],
}

# Page 3.2's mutant that only shows when N, D, J and K differ (see below).
SIZE_MUTANT = "bias gradient: mean times the wrong size (hidden when N = K = J)"

# Page 3.1's mutants that give its neuron's numbers (D = K = 1): each step is checked
# again on a random neuron with N = 5, D = 3, K = 2, and only that check stops them.
RANDOM_NEURON_MUTANTS = [
    "dL/dW: transpose swapped (the same when D = K = 1)",
    "dL/db: summed over the outputs too (the same when K = 1)",
    "dL/dS: sigma' summed over the outputs (the same when K = 1)",
    "dL/dY hat: the errors summed over the outputs (the same when K = 1)",
]

# chapter -> {mutant: [(correct text, wrong text), ...]}
MUTANTS = {
    "01_1_chain_rule": {
        **D_MSE_MUTANTS,
        "squared error: the square replaced by an absolute value": [
            ("return (y - y_hat) ** 2", "return (y - y_hat).abs()")
        ],
        "inner derivative x dropped": [("dL_dw = dL_dyhat * dyhat_dw", "dL_dw = dL_dyhat")],
        # x = y = 2 in the worked example: only the checks on random inputs tell these apart
        "y where x belongs in dyhat_dw": [("dyhat_dw = x", "dyhat_dw = y")],
        "readout with x and y swapped": [
            (
                "x = torch.tensor([x], dtype=torch.float64)\n"
                "    y = torch.tensor([y], dtype=torch.float64)",
                "x = torch.tensor([y], dtype=torch.float64)\n"
                "    y = torch.tensor([x], dtype=torch.float64)",
            )
        ],
        # The float32 finite difference, split into what the rounded inputs and the rounded
        # losses contribute.
        "float32: the step taken as 2 eps, as if a and b were not rounded": [
            ("step_ratio = (a - b) / (2 * eps)", "step_ratio = torch.ones_like(a)")
        ],
        "float32: the slope between a and b taken as 2 (y - midpoint)": [
            ("slope_ab = d_squared_error(y64, (a + b) / 2)", "slope_ab = 2 * (y64 - (a + b) / 2)")
        ],
        # 0 in the worked example (both losses are float32 numbers): random values stop it
        "float32: the losses' rounding left out": [
            ("from_losses = rounding / (2 * eps)", "from_losses = 0 * rounding")
        ],
        "gradient descent: a step uphill": [("w_t = w_t - lr * dL_dw", "w_t = w_t + lr * dL_dw")],
        "closed form: the factor 2 of the square's derivative dropped": [
            ("1 - 2 * lr * x**2", "1 - lr * x**2")
        ],
        "two samples: only the first sample summed": [
            (
                "return d_loss_of(w, x, y).sum().reshape(w.shape)",
                "return d_loss_of(w, x, y)[:1].sum().reshape(w.shape)",
            )
        ],
        "micro-batches: w.grad reset before each backward()": [
            ("for i in range(2):\n", "for i in range(2):\n    w.grad = None\n")
        ],
        "mean not divided by N": [
            ("return d_sum_loss(w, x, y) / x.numel()", "return d_sum_loss(w, x, y)")
        ],
    },
    "02_1_matrix_product": {
        **D_MSE_MUTANTS,
        "dL/dW: transpose swapped": [("return x.T @ dL_dz", "return dL_dz.T @ x")],
        "dL/dX: transpose on the wrong factor": [("return dL_dz @ w.T", "return dL_dz.T @ w.T")],
        # D = 1 in the worked example, so p = q = 0 at its entry (1, 1): only the random
        # (5 x 3)(3 x 4) case, where the indices differ and no entry is 1, tells these apart.
        "index formula of Z: W_qp in place of W_pq": [("x[i, p] * w[p, q]", "x[i, p] * w[q, p]")],
        "index formula of Z: X_pi in place of X_ip": [("x[i, p] * w[p, q]", "x[p, i] * w[p, q]")],
        # D = 1 and a zero in dL/dZ in the worked example: the random case tells these apart
        "index step: the row i = 1 skipped": [("for i in range(n))", "for i in range(1, n))")],
        "index step: X_i1 in place of X_ip": [("x[i, p] * dL_dz[i, q]", "x[i, 0] * dL_dz[i, q]")],
        # backward() from the matrix of errors must refuse
        "errors summed before backward() is shown refusing the matrix": [
            ("errors_ag = squared_error(y, z_ag)\n", "errors_ag = squared_error(y, z_ag).sum()\n")
        ],
        # the loss surface: curvature, the arrow of the contour figure, the slider, descent
        "curvature: factor 2 dropped": [
            ("curvature = 2 * (x[:, 0] ** 2).sum()", "curvature = (x[:, 0] ** 2).sum()")
        ],
        "contour arrow along the gradient, not its negative": [
            ("step = -dL_dw[0, :2] / curvature", "step = dL_dw[0, :2] / curvature")
        ],
        "slider readout: w2's gradient shown for w1": [
            ('"∂L/∂w₁ by hand": dL_dw_hand[0, 0]', '"∂L/∂w₁ by hand": dL_dw_hand[0, 1]')
        ],
        "slider readout: the loss at the starting W, not at (w1, w2)": [
            ('"loss L": loss_of(x64, w64, y64)', '"loss L": loss_of(x64, w.double(), y64)')
        ],
        "descent: a step along the gradient": [
            ("w_step[0, :2] - lr * dL_dw_step", "w_step[0, :2] + lr * dL_dw_step")
        ],
    },
    "03_1_sigmoid_neuron": {
        **D_MSE_MUTANTS,
        "sigma' replaced by sigma": [
            ("return sigmoid(s) * (1 - sigmoid(s))", "return sigmoid(s)")
        ],
        "bias gradient not summed over the batch": [
            ("dL_db = dL_ds.sum(dim=0, keepdim=True)", "dL_db = dL_ds")
        ],
        # D = K = 1 in the page's neuron: only the random neuron's steps (D = 3, K = 2)
        # tell these apart; see test_the_random_neurons_steps_alone_stop_these_mutants.
        RANDOM_NEURON_MUTANTS[0]: [
            ("dL_dw = x.T @ dL_ds", "dL_dw = dL_ds.T @ x"),
            ("dL_dw_r = x_r.T @ dL_ds_r", "dL_dw_r = dL_ds_r.T @ x_r"),
        ],
        RANDOM_NEURON_MUTANTS[1]: [
            (
                "dL_db = dL_ds.sum(dim=0, keepdim=True)",
                "dL_db = dL_ds.sum(dim=(0, 1), keepdim=True)",
            ),
            (
                "dL_db_r = dL_ds_r.sum(dim=0, keepdim=True)",
                "dL_db_r = dL_ds_r.sum(dim=(0, 1), keepdim=True)",
            ),
        ],
        RANDOM_NEURON_MUTANTS[2]: [
            (
                "dL_ds = dL_dyhat * d_sigmoid(s.detach())",
                "dL_ds = dL_dyhat * d_sigmoid(s.detach()).sum(dim=1, keepdim=True)",
            ),
            (
                "dL_ds_r = dL_dyhat_r * d_sigmoid(s_r)",
                "dL_ds_r = dL_dyhat_r * d_sigmoid(s_r).sum(dim=1, keepdim=True)",
            ),
        ],
        RANDOM_NEURON_MUTANTS[3]: [
            (
                "dL_dyhat = d_squared_error(y, y_hat.detach())",
                "dL_dyhat = d_squared_error(y, y_hat.detach()).sum(dim=1, keepdim=True)",
            ),
            (
                "dL_dyhat_r = d_squared_error(y_r, sigmoid(s_r))",
                "dL_dyhat_r = d_squared_error(y_r, sigmoid(s_r)).sum(dim=1, keepdim=True)",
            ),
        ],
        # What the table of the two samples reads: the slope column and the shrink factor.
        "sigma' column read at y hat instead of s": [
            ("sigma_prime = d_sigmoid(s.detach())", "sigma_prime = d_sigmoid(y_hat.detach())")
        ],
        "shrink factor upside down": [("shrink = dL_dyhat / dL_ds", "shrink = dL_ds / dL_dyhat")],
        # A one-sided assert (> 0.25) let this through: sigma' never gets near 1.5 either.
        "best error over sigma' instead of sigma": [
            (
                "best_error = squared_error(y_far, sigmoid(s_wide)).min()",
                "best_error = squared_error(y_far, d_sigmoid(s_wide)).min()",
            )
        ],
        # The sliders start where no two values are equal (b = 1, y = 0.5).
        "readout with b and y swapped": [("for v in (w, b, x, y))", "for v in (w, y, x, b))")],
        # Binary cross-entropy on the logit.
        "the squared error's sigma' kept in the BCE gradient": [
            (
                "dL_ds_bce = sigmoid(logits) - y_bce",
                "dL_ds_bce = (sigmoid(logits) - y_bce) * d_sigmoid(logits)",
            ),
            (
                "dL_ds_bce_r = sigmoid(logits_r) - targets_r",
                "dL_ds_bce_r = (sigmoid(logits_r) - targets_r) * d_sigmoid(logits_r)",
            ),
            (
                "return (sigmoid(logits) - y) / logits.numel()",
                "return (sigmoid(logits) - y) * d_sigmoid(logits) / logits.numel()",
            ),
        ],
        "BCE gradient with the sign flipped": [
            ("dL_ds_bce = sigmoid(logits) - y_bce", "dL_ds_bce = y_bce - sigmoid(logits)"),
            (
                "dL_ds_bce_r = sigmoid(logits_r) - targets_r",
                "dL_ds_bce_r = targets_r - sigmoid(logits_r)",
            ),
        ],
        "d_binary_cross_entropy: the numerator's sign flipped": [
            (
                "return (y_hat - y) / (y_hat * (1 - y_hat))",
                "return (y - y_hat) / (y_hat * (1 - y_hat))",
            )
        ],
        # The kink case of the ReLU exercise sits on s = 0.
        "ReLU's mask with >=": [("(s > 0)", "(s >= 0)")],
    },
    "03_2_layer_by_layer": {
        **D_MSE_MUTANTS,
        "sigma' replaced by sigma": [
            ("return sigmoid(s) * (1 - sigmoid(s))", "return sigmoid(s)")
        ],
        # The gradient to the layer below and the two layers.
        "dL/dS1: sigma' dropped": [
            ("dL_ds1 = dL_dh * d_sigmoid(s1.detach())", "dL_ds1 = dL_dh"),
            ("dL_ds1 = dL_dh * d_sigmoid(s1)", "dL_ds1 = dL_dh"),
        ],
        # W multiplied from the left, shapes made to fit: W dL/dS^T, the transpose of dL/dX.
        "dL/dX: W on the wrong side of dL/dS": [("return dL_dz @ w.T", "return w @ dL_dz.T")],
        # The sum over the outputs q kept to its first term: right when K = 1 only.
        "dL/dX: only the first output's path": [
            ("return dL_dz @ w.T", "return dL_dz[:, :1] @ w.T[:1]")
        ],
        "dL/db1 not summed over the batch": [("dL_db1 = d_bias(dL_ds1)", "dL_db1 = dL_ds1")],
        "dL/dH through W2 instead of W2^T": [
            ("dL_dh = d_matmul_x(w2.detach(), dL_dyhat)", "dL_dh = dL_dyhat @ w2.detach()"),
            ("dL_dh = d_matmul_x(w2, dL_dyhat)", "dL_dh = dL_dyhat @ w2"),
        ],
        # Only shows when sizes differ: a batch mean scaled back up by the number of
        # columns instead of the number of rows equals the sum when N = K (and N = J),
        # as in the page's network (N = D = J = K = 2). The random shapes kill it.
        SIZE_MUTANT: [
            (
                "return dL_dz.sum(dim=0, keepdim=True)",
                "return dL_dz.mean(dim=0, keepdim=True) * dL_dz.shape[1]",
            )
        ],
        # Gradients through depth: the stack's backward pass (square weights, so a missing
        # transpose still fits) and the 1/4 bound.
        "depth: sigma' taken at the layer's output H, not at S": [
            (
                "dL_ds = dL_dh * d_activation(pre_activations[layer])",
                "dL_ds = dL_dh * d_activation(outputs[layer + 1])",
            )
        ],
        "depth: down through W instead of W^T": [
            ("dL_dh = d_matmul_x(weights[layer], dL_ds)", "dL_dh = dL_ds @ weights[layer]")
        ],
        "depth: dL/dW from the layer's output instead of its input": [
            (
                'grads["w"].insert(0, d_matmul_w(outputs[layer], dL_ds))',
                'grads["w"].insert(0, d_matmul_w(outputs[layer + 1], dL_ds))',
            )
        ],
        "depth: the 1/4 bound read off sigma instead of sigma'": [
            (
                "slope_max = d_sigmoid(pre_activations[layer]).max()",
                "slope_max = sigmoid(pre_activations[layer]).max()",
            )
        ],
        # The kink case of exercise 1 (the ReLU layer's dL/dX) sits on s = 0.
        "ReLU's mask with >=": [("(s > 0)", "(s >= 0)")],
        # Exercises 2 and 4 (the tanh hidden layer, the tanh layer as a Function).
        "tanh' written as 1 - tanh": [("(1 - h**2)", "(1 - h)")],
    },
    "03_3_softmax_classifier": {
        "softmax's Jacobian without -pp^T": [
            ("return torch.diag(p) - torch.outer(p, p)", "return torch.diag(p)")
        ],
        "softmax's VJP without <g, p>": [("return p * (g - g_dot_p)", "return p * g")],
        "cross-entropy gradient without /N": [
            ("return (p - y) / n", "return p - y"),
            ("return (p - one_hot(labels, k)) / n", "return p - one_hot(labels, k)"),
        ],
        "one-hot with the label's class shifted": [
            (
                "y[torch.arange(len(labels)), labels] = 1.0",
                "y[torch.arange(len(labels)), (labels + 1) % k] = 1.0",
            )
        ],
        "the max-shift subtracted in the gradient too": [
            (
                "return (p - one_hot(labels, k)) / n",
                "return (p - one_hot(labels, k) - z.max(dim=1, keepdim=True).values) / n",
            )
        ],
        # Three spiral points sit at the origin and b1 starts at 0: their hidden
        # pre-activations are exactly 0, where torch.relu's slope is 0.
        "ReLU's mask with >=": [("return (s > 0).to(s.dtype)", "return (s >= 0).to(s.dtype)")],
    },
}


def mutate(cells, edits):
    for correct, wrong in edits:
        found = sum(cell.count(correct) for cell in cells)
        assert found, f"the chapter no longer contains {correct!r}: update MUTANTS"
        cells = [cell.replace(correct, wrong) for cell in cells]
    return cells


@pytest.mark.shares_notebook_runs  # kept on one worker with the others (tests/conftest.py)
@pytest.mark.parametrize("chapter", MUTANTS)
def test_the_correct_chapter_passes_the_same_harness(chapter):
    # run_notebook runs all the cells with run_cells, as each mutant below is run
    outcome = run_notebook(chapter).outcome
    assert outcome is None, f"{chapter} fails unmodified: {outcome!r}"


CASES = [(chapter, name) for chapter, mutants in MUTANTS.items() for name in mutants]


@pytest.mark.parametrize("chapter, mutant", CASES, ids=[f"{c}: {m}" for c, m in CASES])
def test_a_wrong_derivation_fails_the_chapters_assertions(chapter, mutant, record_property):
    outcome = run_cells(mutate(chapter_cells(chapter), MUTANTS[chapter][mutant]), chapter)
    killed = outcome is not None and isinstance(outcome[0], AssertionError)
    record_property("mutant", f"{chapter}: {mutant}: {'killed' if killed else 'SURVIVED'}")
    assert outcome is not None, f"{chapter} still passes with the mutant {mutant!r}"
    error, number = outcome
    assert isinstance(error, AssertionError), (
        f"{chapter} with {mutant!r} stopped in cell {number} with {error!r}, "
        "not at one of its own assertions"
    )


# Chapter 1's mutants that its example hides (x = y = 2, and both float32 losses of the
# finite difference are float32 numbers, so their rounding is 0): a check on random values
# must stop each.
HIDDEN_BY_THE_SINGLE_VALUE_EXAMPLE = [
    "y where x belongs in dyhat_dw",
    "readout with x and y swapped",
    "float32: the losses' rounding left out",
]


@pytest.mark.parametrize("mutant", HIDDEN_BY_THE_SINGLE_VALUE_EXAMPLE)
def test_chapter_1s_random_values_stop_what_its_example_hides(mutant):
    chapter = "01_1_chain_rule"
    cells = mutate(chapter_cells(chapter), MUTANTS[chapter][mutant])
    outcome = run_cells(cells, chapter)
    assert outcome is not None, f"{chapter} still passes with the mutant {mutant!r}"
    error, number = outcome
    assert isinstance(error, AssertionError), f"stopped in cell {number} with {error!r}"
    assert "torch.randn(" in cells[number - 1], (
        f"the mutant was stopped in cell {number}, not on random values:\n{cells[number - 1]}"
    )


def test_the_size_mutant_passes_the_worked_example_and_fails_on_random_shapes():
    """Page 3.2's network has N = D = J = K = 2: the mutant must get through every
    cell up to the random shapes (all sizes different) and be stopped there."""
    chapter, mutant = "03_2_layer_by_layer", SIZE_MUTANT
    cells = mutate(chapter_cells(chapter), MUTANTS[chapter][mutant])
    outcome = run_cells(cells, chapter)
    assert outcome is not None, f"{chapter} still passes with the mutant {mutant!r}"
    error, number = outcome
    assert isinstance(error, AssertionError), f"stopped in cell {number} with {error!r}"
    assert cells[number - 1].startswith("for n, d, j, k in"), (
        f"the mutant was stopped in cell {number}, not by the random shapes:\n{cells[number - 1]}"
    )


@pytest.mark.parametrize("mutant", RANDOM_NEURON_MUTANTS)
def test_the_random_neurons_steps_alone_stop_these_mutants(mutant):
    """Each gets through every cell on the worked example (D = K = 1) and is stopped by a
    step's check on the random neuron (names ending in _r, compared with auto_r)."""
    chapter = "03_1_sigmoid_neuron"
    cells = mutate(chapter_cells(chapter), MUTANTS[chapter][mutant])
    outcome = run_cells(cells, chapter)
    assert outcome is not None, f"{chapter} still passes with the mutant {mutant!r}"
    error, number = outcome
    assert isinstance(error, AssertionError), f"stopped in cell {number} with {error!r}"
    assert 'auto_r["' in cells[number - 1], (
        f"the mutant was stopped in cell {number}, not by the random neuron:\n{cells[number - 1]}"
    )
