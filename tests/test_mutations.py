"""Mutation testing: a wrong hand derivation must make its chapter fail.

Each mutant rewrites one hand-derived formula in a chapter's code (every place
it occurs, as a learner with that misconception would write it everywhere),
runs the chapter's code cells top to bottom, and expects one of the chapter's
own assertions to fail. The unchanged chapter runs through the same harness
and must pass, so a harness that fails everything would be caught.

The cells run in this process, not in a kernel: the same code, top to bottom,
without paying a kernel start per mutant. nbval runs them in a real kernel.
"""

from pathlib import Path

import pytest

from chapter_runner import CHAPTERS, chapter_cells, run_cells, run_notebook

# Where each notebook of MUTANTS lives: chapters/, or the top of the repository.
FOLDERS = {"rules": Path(__file__).resolve().parent.parent}


def cells_of(chapter):
    return chapter_cells(chapter, FOLDERS.get(chapter, CHAPTERS))


def run(cells, chapter):
    return run_cells(cells, chapter, folder=FOLDERS.get(chapter, CHAPTERS))


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

# Issue 28's survivors on pages 3.1 and 3.2, one mutant per cause: each passed the pages'
# own assertions before (only nbval's stored outputs, or nothing, noticed it).
PAGE_3_1_ISSUE_28_MUTANTS = {
    # The worked example's targets are all 1: the second term vanishes there.
    "BCE: the second term's log(1 - y hat) as log(y hat)": [
        ("(1 - y) * torch.log(1 - y_hat)", "(1 - y) * torch.log(y_hat)")
    ],
    "d_binary_cross_entropy without the second term (the same when every target is 1)": [
        ("return (y_hat - y) / (y_hat * (1 - y_hat))", "return -y / y_hat")
    ],
    # The question's target was 0, where sigma(s) - y and sigma(s) + y agree.
    "BCE question: the target added": [
        (
            "dL_ds_question = sigmoid(s_question.detach()) - y_question",
            "dL_ds_question = sigmoid(s_question.detach()) + y_question",
        )
    ],
    # The slider readout's sigma(s), sigma'(s) and loss were never compared.
    "readout: sigma' shown for sigma": [
        ('"σ(s)": sigmoid(s).item()', '"σ(s)": d_sigmoid(s).item()')
    ],
    "readout: sigma shown for sigma'": [
        ('"σ\'(s)": d_sigmoid(s).item()', '"σ\'(s)": sigmoid(s).item()')
    ],
    "readout: the loss halved": [
        (
            '"loss L": neuron_loss(x, y, w, b).item()',
            '"loss L": neuron_loss(x, y, w, b).item() / 2',
        )
    ],
    # The printed slope at 0 was recomputed, not asserted.
    "slope at 0 read off sigma": [
        ("at_zero = d_sigmoid(torch.tensor(0.0))", "at_zero = sigmoid(torch.tensor(0.0))")
    ],
}

PAGE_3_2_ISSUE_28_MUTANTS = {
    # neuron_backward met only D = K = 1 (x_bump), where a bias gradient of shape (1,) works.
    "neuron_backward: dL/db summed without keepdim": [
        (
            "return x.T @ dL_ds, dL_ds.sum(dim=0, keepdim=True)",
            "return x.T @ dL_ds, dL_ds.sum(dim=0)",
        )
    ],
    # sigma'(sigma(s)) lies in (0.196, 0.25]: it satisfied every bound it fed.
    "depth: slope_max from sigma'(sigma(s))": [
        (
            "slope_max = d_sigmoid(pre_activations[layer]).max()",
            "slope_max = d_sigmoid(sigmoid(pre_activations[layer])).max()",
        )
    ],
    # The printed bound was checked on one side only: a looser one passed.
    "depth: the bound without its factor 1/4": [
        (
            "bound = 0.25 * torch.linalg.matrix_norm(w_layer, ord=2)",
            "bound = torch.linalg.matrix_norm(w_layer, ord=2)",
        )
    ],
    "depth: the bound with the Frobenius norm": [
        ("torch.linalg.matrix_norm(w_layer, ord=2)", "torch.linalg.matrix_norm(w_layer)")
    ],
    # The questions' answers were never asserted.
    "db2 question: one sample's share as the answer": [
        (
            "dL_db2_question = bias_backward(dL_dyhat_question)",
            "dL_db2_question = dL_dyhat_question[:1]",
        )
    ],
    "depth question: the square on the norm alone": [
        (
            "bound_two_steps = (0.25 * w_op_question) ** 2",
            "bound_two_steps = 0.25 * w_op_question**2",
        )
    ],
}

# Issue 31 on pages 3.1 and 3.2: a formula question's answer and the formulas the book's
# sliders evaluate are asserted against the page's own results when it runs.
PAGE_3_1_FORMULA_MUTANTS = {
    "dL/dS question: sigma' as sigma": [('"G * σ(S) * (1 - σ(S))",', '"G * σ(S)",')],
    "BCE question: sigma' kept": [('"σ(S) - Y",', '"(σ(S) - Y) * σ(S) * (1 - σ(S))",')],
    "sliders in the book: sigma' shown for sigma": [
        ('"σ\'(s)": "y_hat * (1 - y_hat)",', '"σ\'(s)": "y_hat",')
    ],
    "sliders in the book: dL/dw without x": [
        ('"dL/dw by hand": "x * dL_ds",', '"dL/dw by hand": "dL_ds",')
    ],
}

PAGE_3_2_FORMULA_MUTANTS = {
    "dX question: the transpose of the answer, W G^T": [('"G @ W.T",', '"W @ G.T",')],
    "dS1 question: sigma' left out": [('"(G @ W2.T) * σ(S1) * (1 - σ(S1))",', '"G @ W2.T",')],
}

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
                "return loss_backward(x, y, w).sum().reshape(w.shape)",
                "return loss_backward(x, y, w)[:1].sum().reshape(w.shape)",
            )
        ],
        "micro-batches: w.grad reset before each backward()": [
            ("for i in range(2):\n", "for i in range(2):\n    w.grad = None\n")
        ],
        "mean not divided by N": [
            ("return sum_loss_backward(x, y, w) / x.numel()", "return sum_loss_backward(x, y, w)")
        ],
        # Issue 28: what only the example's coincidences (x = y = 2, L = dL/dw = 16) or the
        # stored outputs protected. The exercise's given backward pass has one wrong line:
        "find the mistake: the planted mistake removed": [
            (
                "dL_dw_errors = (dL_dyhat * dyhat_dw).mean()",
                "dL_dw_errors = (dL_dyhat * dyhat_dw).sum()",
            )
        ],
        "find the mistake: a second wrong line": [
            (
                "dL_dw_errors = (dL_dyhat * dyhat_dw).mean()\n    dL_dw_decay = 2 * 0.1 * w",
                "dL_dw_errors = (dL_dyhat * dyhat_dw).mean()\n    dL_dw_decay = 0.1 * w",
            )
        ],
        "slope at w_0: x and y swapped (the same when x = y)": [
            (
                "return loss_of(w_0, x, y), loss_backward(x, y, w_0)",
                "return loss_of(w_0, x, y), loss_backward(y, x, w_0)",
            )
        ],
        "slope at w_0: the loss in place of its derivative (both 16 here)": [
            (
                "return loss_of(w_0, x, y), loss_backward(x, y, w_0)",
                "return loss_of(w_0, x, y), loss_of(w_0, x, y)",
            )
        ],
        "hand descent: x and y swapped (the same when x = y)": [
            ("dL_dw = loss_backward(x, y, w_t)", "dL_dw = loss_backward(y, x, w_t)")
        ],
        "closed form: y squared for x squared (the same when x = y)": [
            ("(1 - 2 * lr * x**2) ** steps", "(1 - 2 * lr * y**2) ** steps")
        ],
        "float32: a negative ulp": [
            ("torch.nextafter(y_hat32, y_hat32 + 1)", "torch.nextafter(y_hat32, y_hat32 - 1)")
        ],
        # Issue 31: the formulas a question or the sliders hold, each asserted on the page.
        "sliders' formula: the factor x dropped from the hand row": [
            (
                '"∂L/∂w by hand (loss_backward)": "dL_dyhat * x"',
                '"∂L/∂w by hand (loss_backward)": "dL_dyhat"',
            )
        ],
        "formula question: the sum rule without its sum": [
            ('answer="(-2 * (y - w * x) * x).sum()"', 'answer="-2 * (y - w * x) * x"')
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
            ("return 2 * (x[:, 0] ** 2).sum()", "return (x[:, 0] ** 2).sum()")
        ],
        "contour arrow along the gradient, not its negative": [
            ("step = -dL_dw[0, :2] / kappa", "step = dL_dw[0, :2] / kappa")
        ],
        "slider readout: W12's gradient shown for W11": [
            ('"∂L/∂W₁₁ by hand": dL_dw_hand[0, 0]', '"∂L/∂W₁₁ by hand": dL_dw_hand[0, 1]')
        ],
        "slider readout: the loss at the starting W, not at (W11, W12)": [
            ('"loss L": loss_of(x64, w64, y64)', '"loss L": loss_of(x64, w.double(), y64)')
        ],
        "descent: a step along the gradient": [
            ("w_step[0, :2] - lr * dL_dw_step", "w_step[0, :2] + lr * dL_dw_step")
        ],
        # Issue 28: D = 1 in the example makes X's first column all of X; the random
        # (5 x 3)(3 x 4) case stops these.
        "curvature: every feature's squares (the same when D = 1)": [
            ("return 2 * (x[:, 0] ** 2).sum()", "return 2 * (x**2).sum()")
        ],
        "slider readout: Z from the first feature only (the same when D = 1)": [
            (
                "dL_dw_hand = matmul_backward_w(x64, d_squared_error(y64, x64 @ w64))",
                "dL_dw_hand = matmul_backward_w(x64, d_squared_error(y64, x64[:, :1] @ w64[:1]))",
            )
        ],
        "descent: Z from the first feature only (the same when D = 1)": [
            (
                "matmul_backward_w(x, d_squared_error(y, x @ w_step))",
                "matmul_backward_w(x, d_squared_error(y, x[:, :1] @ w_step[:1]))",
            )
        ],
        # The contour figure's data: a mean has the same lowest point as the sum.
        "contours: the loss averaged, not summed": [
            (
                "squared_error(y, x @ w_grid).sum(dim=(-2, -1))",
                "squared_error(y, x @ w_grid).mean(dim=(-2, -1))",
            )
        ],
        # A question's slip: column 2 again, which only autograd's column 1 tells apart.
        "question: the column-1 slip read from column 2": [
            ("(x[:, 0] * dL_dz[:, 0]).sum()", "(x[:, 0] * dL_dz[:, 1]).sum()")
        ],
        # Issue 31: the formulas a question or the sliders hold, each asserted on the page.
        "formula question: dL/dX with the transpose on both factors": [
            ('answer="dL_dz @ w.T"', 'answer="dL_dz.T @ w.T"')
        ],
        "sliders' formula: the slid entries added to W's, not put in their place": [
            (
                '"w_new": "w * (1 - one_11 - one_12) + w11 * one_11 + w12 * one_12"',
                '"w_new": "w + w11 * one_11 + w12 * one_12"',
            )
        ],
    },
    # The rules page (at the top of the repository, not in chapters/).
    "rules": {
        "sigmoid's rule: sigma in place of sigma'": [
            ("[G * sigma(s) * (1 - sigma(s))]", "[G * sigma(s)]")
        ],
        "softmax's rule without <G, p>": [
            ("return p * (G - (G * p).sum(dim=1, keepdim=True))", "return p * G")
        ],
        "a row of the table left unchecked (tanh)": [
            ('check(\n    "tanh",', '(lambda *row, **parts: None)(\n    "tanh",')
        ],
        "depth bound: the weights' norms dropped": [
            (
                "bound = quarter**M * norms.prod() * torch.linalg.norm(G)",
                "bound = quarter**M * torch.linalg.norm(G)",
            )
        ],
        "depth bound: the upstream gradient's norm dropped": [
            (
                "bound = quarter**M * norms.prod() * torch.linalg.norm(G)",
                "bound = quarter**M * norms.prod()",
            )
        ],
        "depth bound: the factor 4^-M dropped": [
            (
                "bound = quarter**M * norms.prod() * torch.linalg.norm(G)",
                "bound = norms.prod() * torch.linalg.norm(G)",
            )
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
            (
                "dL_dw_random = x_random.T @ dL_ds_random",
                "dL_dw_random = dL_ds_random.T @ x_random",
            ),
        ],
        RANDOM_NEURON_MUTANTS[1]: [
            (
                "dL_db = dL_ds.sum(dim=0, keepdim=True)",
                "dL_db = dL_ds.sum(dim=(0, 1), keepdim=True)",
            ),
            (
                "dL_db_random = dL_ds_random.sum(dim=0, keepdim=True)",
                "dL_db_random = dL_ds_random.sum(dim=(0, 1), keepdim=True)",
            ),
        ],
        RANDOM_NEURON_MUTANTS[2]: [
            (
                "dL_ds = dL_dyhat * d_sigmoid(s.detach())",
                "dL_ds = dL_dyhat * d_sigmoid(s.detach()).sum(dim=1, keepdim=True)",
            ),
            (
                "dL_ds_random = dL_dyhat_random * d_sigmoid(s_random)",
                "dL_ds_random = dL_dyhat_random * d_sigmoid(s_random).sum(dim=1, keepdim=True)",
            ),
        ],
        RANDOM_NEURON_MUTANTS[3]: [
            (
                "dL_dyhat = d_squared_error(y, y_hat.detach())",
                "dL_dyhat = d_squared_error(y, y_hat.detach()).sum(dim=1, keepdim=True)",
            ),
            (
                "dL_dyhat_random = d_squared_error(y_random, sigmoid(s_random))",
                "dL_dyhat_random = d_squared_error(y_random, sigmoid(s_random))"
                ".sum(dim=1, keepdim=True)",
            ),
        ],
        # What the table of the two samples reads: the slope column.
        "sigma' column read at y hat instead of s": [
            ("sigma_prime = d_sigmoid(s.detach())", "sigma_prime = d_sigmoid(y_hat.detach())")
        ],
        # The infimum: sigma' never gets near 1.5 either, but it does not approach 0.25.
        "errors towards the infimum over sigma' instead of sigma": [
            (
                "errors_far = squared_error(y_far, sigmoid(s_far))",
                "errors_far = squared_error(y_far, d_sigmoid(s_far))",
            )
        ],
        # The sliders start where no two values are equal (b = 1, y = 0.5).
        "readout with b and y swapped": [("for v in (w, b, x, y))", "for v in (w, y, x, b))")],
        # Binary cross-entropy on the logit.
        "the squared error's sigma' kept in the BCE gradient": [
            (
                "dL_ds_bce = sigmoid(s_bce) - y_bce",
                "dL_ds_bce = (sigmoid(s_bce) - y_bce) * d_sigmoid(s_bce)",
            ),
            (
                "dL_ds_bce_random = y_hat_random_bce - y_random_bce",
                "dL_ds_bce_random = (y_hat_random_bce - y_random_bce) * d_sigmoid(s_random_bce)",
            ),
            (
                "return (sigmoid(s) - y) / s.numel()",
                "return (sigmoid(s) - y) * d_sigmoid(s) / s.numel()",
            ),
        ],
        "BCE gradient with the sign flipped": [
            ("dL_ds_bce = sigmoid(s_bce) - y_bce", "dL_ds_bce = y_bce - sigmoid(s_bce)"),
            (
                "dL_ds_bce_random = y_hat_random_bce - y_random_bce",
                "dL_ds_bce_random = y_random_bce - y_hat_random_bce",
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
        # Issue 28: what only the worked example's coincidences or the stored outputs guarded.
        **PAGE_3_1_ISSUE_28_MUTANTS,
        **PAGE_3_1_FORMULA_MUTANTS,
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
        "dL/db1 not summed over the batch": [
            ("dL_db1 = bias_backward(dL_ds1)", "dL_db1 = dL_ds1")
        ],
        "dL/dH through W2 instead of W2^T": [
            ("dL_dh = matmul_backward_x(w2.detach(), dL_dyhat)", "dL_dh = dL_dyhat @ w2.detach()"),
            ("dL_dh = matmul_backward_x(w2, dL_dyhat)", "dL_dh = dL_dyhat @ w2"),
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
            ("dL_dh = matmul_backward_x(weights[layer], dL_ds)", "dL_dh = dL_ds @ weights[layer]")
        ],
        "depth: dL/dW from the layer's output instead of its input": [
            (
                'grads["w"].insert(0, matmul_backward_w(outputs[layer], dL_ds))',
                'grads["w"].insert(0, matmul_backward_w(outputs[layer + 1], dL_ds))',
            )
        ],
        "depth: the 1/4 bound read off sigma instead of sigma'": [
            (
                "slope_max = d_sigmoid(pre_activations[layer]).max()",
                "slope_max = sigmoid(pre_activations[layer]).max()",
            )
        ],
        # The exercises: the residual layer, the BCE network, the whole network's backward.
        "residual layer: the identity path lost": [
            (
                "return dL_dh + matmul_backward_x(w, dL_dh * d_sigmoid(s))",
                "return matmul_backward_x(w, dL_dh * d_sigmoid(s))",
            )
        ],
        "BCE network: the output's sigma' kept": [
            (
                "dL_ds2 = sigmoid(h @ w2 + b2) - y",
                "dL_ds2 = (sigmoid(h @ w2 + b2) - y) * d_sigmoid(h @ w2 + b2)",
            )
        ],
        "whole network: the output's sigma' dropped": [
            ("dL_ds2 = g * y_hat * (1 - y_hat)", "dL_ds2 = g")
        ],
        # Issue 28: what only the worked example's coincidences or the stored outputs guarded.
        **PAGE_3_2_ISSUE_28_MUTANTS,
        **PAGE_3_2_FORMULA_MUTANTS,
    },
    "03_3_softmax_classifier": {
        "softmax's Jacobian without -p^T p": [
            ("return torch.diag(p.reshape(-1)) - p.T @ p", "return torch.diag(p.reshape(-1))")
        ],
        # For a 1 x K row p, p p^T is one number, which broadcasts over diag(p).
        "softmax's Jacobian with the dot product p p^T for the outer product": [
            ("p.T @ p", "p @ p.T")
        ],
        "softmax's VJP without <g, p>": [("return p * (g - g_dot_probs)", "return p * g")],
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
                "return (p - one_hot(labels, k) - s.max(dim=1, keepdim=True).values) / n",
            )
        ],
        # What the page shows is what it asserted: a wrong formula where a shown number
        # comes from (issue 28).
        "the Jacobian shown without its -p^T p": [
            (
                "by_hand.append(d_softmax(softmax(s_row)))",
                "by_hand.append(torch.diag(softmax(s_row).reshape(-1)))",
            )
        ],
        "the large-logit gradient shown without the shift": [
            (
                "dL_ds_stable[name] = stable_cross_entropy_backward(s_case, labels)",
                "dL_ds_stable[name] = cross_entropy_backward(s_case, labels)",
            )
        ],
        "accuracy: a count of the right samples, not a fraction": [
            (".double().mean().item()", ".double().sum().item()")
        ],
        "accuracy: the fraction of wrong samples": [
            ("(s.argmax(dim=1) == labels)", "(s.argmax(dim=1) != labels)")
        ],
        "the linear classifier trained without its bias's gradient": [
            (
                'linear["b"] = linear["b"] - lr * dL_ds_linear.sum(dim=0, keepdim=True)',
                'linear["b"] = linear["b"]',
            )
        ],
        # The questions' answers and right options (issue 28).
        "Jacobian question: the answer read off the diagonal": [
            ("answer = d_softmax_question[0, 1]", "answer = d_softmax_question[0, 0]")
        ],
        "dL/dS question: the answer read from another class's entry": [
            ("answer = dL_ds_question[0, 0]", "answer = dL_ds_question[0, 1]")
        ],
        "Jacobian shape question: another option marked right": [
            ("right_shape = 0", "right_shape = 1")
        ],
        "max-shift question: another option marked right": [
            ("right_shift = 0", "right_shift = 3")
        ],
        # The formula questions' answers (issue 31): each is asserted against autograd.
        "VJP formula question: the dot product summed over the samples": [
            (
                '"P * (G - (G * P).sum(1, keepdim=True))"',
                '"P * (G - (G * P).sum(0, keepdim=True))"',
            )
        ],
        "dL/dS formula question: the answer without /N": [('"(P - Y) / N"', '"P - Y"')],
        # Three spiral points sit at the origin and b1 starts at 0: their hidden
        # pre-activations are exactly 0, where torch.relu's slope is 0.
        "ReLU's mask with >=": [("return (s > 0).to(s.dtype)", "return (s >= 0).to(s.dtype)")],
    },
    # Page 2.2: the broadcast rule, the reductions and the lookup, each asserted against
    # autograd on shapes where N, D, K and V differ (a wrong axis changes the shape).
    "02_2_broadcasts_and_lookups": {
        "broadcast: keepdim dropped": [
            ("g = g.sum(dim=axis, keepdim=True)", "g = g.sum(dim=axis)")
        ],
        "variance: the mean taken over the wrong axis": [
            (
                "x_centred = x - x.mean(dim=dim, keepdim=True)",
                "x_centred = x - x.mean(dim=1 - dim, keepdim=True)",
            )
        ],
        "embedding: a repeated index added once": [
            ("dL_dc.index_add_(0, ix, dL_da)", "dL_dc[ix] += dL_da")
        ],
        # Issue 31: a formula question's answer is asserted equal to autograd's on the page.
        "formula question: the bias row's gradient with keepdim lost": [
            ('answer="G.sum(0, keepdim=True)"', 'answer="G.sum(0)"')
        ],
        "formula question: the table's gradient with the factors swapped": [
            ('answer="one_hot.T @ dL_da"', 'answer="dL_da.T @ one_hot"')
        ],
    },
    # Page 2.3: batch normalisation, asserted against autograd, F.batch_norm, nn.BatchNorm1d
    # and finite differences, in float64 (so that leaving eps = 1e-5 out shows).
    "02_3_normalisation": {
        "batch norm: dL/dbeta summed over the wrong axis": [
            (
                "dL_dbeta = dL_dout.sum(dim=0, keepdim=True)",
                "dL_dbeta = dL_dout.sum(dim=1, keepdim=True)",
            )
        ],
        "batch norm: keepdim dropped in dL/dbeta": [
            ("dL_dbeta = dL_dout.sum(dim=0, keepdim=True)", "dL_dbeta = dL_dout.sum(dim=0)")
        ],
        "batch norm: the biased and the unbiased variance swapped": [
            (
                "var = (x_centred**2).mean(dim=0, keepdim=True)",
                "var = (x_centred**2).sum(dim=0, keepdim=True) / (n - 1)",
            ),
            (
                "running_var = (x_centred.detach() ** 2).sum(dim=0) / (n - 1)",
                "running_var = (x_centred.detach() ** 2).mean(dim=0)",
            ),
        ],
        "batch norm: the mean's term dropped from the fused dL/dX": [
            ("(n * g - sum_g - along_x_norm)", "(n * g - along_x_norm)")
        ],
        "batch norm: eps left out of the square root": [("+ eps) ** -0.5", ") ** -0.5")],
        # Issue 31: a formula question's answer is asserted equal to the page's own result.
        "formula question: dL/dgamma without its factor X hat": [
            (
                'answer="(dL_dout * x_norm).sum(0, keepdim=True)"',
                'answer="dL_dout.sum(0, keepdim=True)"',
            )
        ],
        "formula question: the fused dL/dX without the mean's path": [
            (
                'answer="inv_std / N * (N * dL_dx_norm - dL_dx_norm.sum(0) "',
                'answer="inv_std / N * (N * dL_dx_norm "',
            )
        ],
    },
}

# Page 1.2's engine: each mutant is stopped by the page's own comparisons with autograd (on
# page 1.1's example, on x * x and exp(x) + exp(x), on 300 random expressions) or with
# torch.optim.SGD. Multiply's partners swapped gives w·g instead of x·g on the example (w ≠ x);
# tanh' from the input and division's sign show only on the random expressions. A formula
# question's answer is asserted equal to autograd's on the page's inputs when its cell runs.
MUTANTS["01_2_scalar_autograd"] = {
    "engine: += made =": [("a.grad += contribution", "a.grad = contribution")],
    "engine: the walk in forward order": [("for node in reversed(order):", "for node in order:")],
    "engine: the seed 1 dropped": [("    output.grad = 1.0\n", "")],
    "engine: multiply's partners swapped": [
        ("(g * b.data, g * a.data)", "(g * a.data, g * b.data)")
    ],
    "engine: tanh' taken from the input": [
        ("(g * d_tanh_from_output(out.data),)", "(g * d_tanh_from_output(a.data),)")
    ],
    "engine: division's rule with the wrong sign": [
        ("-g * a.data / b.data**2", "g * a.data / b.data**2")
    ],
    "engine: the zeroing skipped": [("    w.grad = 0.0  # zero the leaf's gradient\n", "")],
    "formula question: tanh's rule with 1 + o²": [
        ('answer="g * (1 - o^2)"', 'answer="g * (1 + o^2)"')
    ],
    "formula question: division's rule without its minus": [
        ('answer="-g * a / b^2"', 'answer="g * a / b^2"')
    ],
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
    outcome = run_notebook(FOLDERS.get(chapter, CHAPTERS) / f"{chapter}.ipynb").outcome
    assert outcome is None, f"{chapter} fails unmodified: {outcome!r}"


CASES = [(chapter, name) for chapter, mutants in MUTANTS.items() for name in mutants]


@pytest.mark.parametrize("chapter, mutant", CASES, ids=[f"{c}: {m}" for c, m in CASES])
def test_a_wrong_derivation_fails_the_chapters_assertions(chapter, mutant, record_property):
    outcome = run(mutate(cells_of(chapter), MUTANTS[chapter][mutant]), chapter)
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
    # random values: the page's own draws, or the random slider settings at which explore()
    # holds the book's formulas against the readout
    assert "torch.randn(" in cells[number - 1] or "explore(" in cells[number - 1], (
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
    assert 'auto_random["' in cells[number - 1], (
        f"the mutant was stopped in cell {number}, not by the random neuron:\n{cells[number - 1]}"
    )


# Page 1.2's worked examples use no tanh and no division: the 300 random expressions, which
# use every operation, must stop these two.
ENGINE_RANDOM_ONLY = [
    "engine: tanh' taken from the input",
    "engine: division's rule with the wrong sign",
]


@pytest.mark.parametrize("mutant", ENGINE_RANDOM_ONLY)
def test_page_1_2s_random_expressions_stop_what_its_examples_do_not_use(mutant):
    chapter = "01_2_scalar_autograd"
    cells = mutate(chapter_cells(chapter), MUTANTS[chapter][mutant])
    outcome = run_cells(cells, chapter)
    assert outcome is not None, f"{chapter} still passes with the mutant {mutant!r}"
    error, number = outcome
    assert isinstance(error, AssertionError), f"stopped in cell {number} with {error!r}"
    assert "random_expression(rng)" in cells[number - 1], (
        f"the mutant was stopped in cell {number}, not by the random expressions"
    )
