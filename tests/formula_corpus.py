"""Formulas for the tests of chapters/formulas.py and its twin in the book's script: every
operator and spelling, broadcasting, and every kind of mistake, on named values of sizes
that all differ (N = 5, D = 3, K = 4). Shared by tests/test_formulas.py and
tests/test_formulas_browser.py."""

import random

import torch

SIZES = {"N": 5, "D": 3, "K": 4}
LETTERS = {size: letter for letter, size in SIZES.items()}


def values():
    """The named values every formula of the corpus may use, rounded to two decimals."""
    generator = torch.Generator().manual_seed(7)

    def draw(*shape, low=None):
        if low is None:
            value = torch.randn(shape, generator=generator, dtype=torch.float64)
        else:
            value = low + (1 - 2 * low) * torch.rand(
                shape, generator=generator, dtype=torch.float64
            )
        return torch.round(value, decimals=2)

    n, d, k = SIZES["N"], SIZES["D"], SIZES["K"]
    return {
        "G": draw(n, k),
        "W": draw(d, k),
        "X": draw(n, d),
        "s": draw(n, k, low=0.05),
        "g": draw(n, k),
        "b": draw(1, k),
        "c": draw(n, 1),
        "v": draw(k),
        "a": draw(),
        "N": torch.tensor(float(n), dtype=torch.float64),
    }


CORPUS = [
    # right answers and their rewritings
    "G @ W.T", "G @ Wᵀ", "G @ W^T", "G W^T", "G · Wᵀ", "(W @ G.T).T", "X.T @ G", "(G.T @ X).T",
    "Xᵀ G", "G.sum(0)", "G.sum(0, keepdim=True)", "G.sum(dim=0, keepdim=True)",
    "G.sum(axis=1)", "G.sum(-1)", "G.sum(-2, keepdim=True)", "G.sum()", "G.sum(keepdim=True)",
    "G.mean(0)", "G.mean(1, keepdim=True)", "G.mean()", "v.sum(0)", "v.sum(0, keepdim=True)",
    "a.sum(0)", "s * (1 - s) * g", "s ⊙ (1 − s) ⊙ g", "s (1 - s) g", "s × (1 − s) × g",
    "(s - g) / N", "(s − g)/N", "-2 * (g - s)", "−2(g − s)", "2 * -G", "--G", "+G", "-(-G)",
    "G ** 2", "G^2", "G ** -1", "s ** 0.5", "2 ** 3", "a ** 2", "G**2.5",
    "exp(G)", "log(s)", "tanh(G)", "sqrt(s)", "sigmoid(G)", "σ(G) * (1 - σ(G))",
    "exp(-G) / (1 + exp(-G)) ** 2", "1 / (1 + exp(-X @ W))",
    # broadcasting
    "G + b", "G * b", "b + G", "G - c", "c * G", "b * c", "G + v", "v * v", "G + a", "a * W",
    "G / b", "b.T", "v.T", "a.T", "(G + b).sum(0, keepdim=True)", "X @ W + b",
    # shape errors
    "G @ W", "W @ G", "X @ G", "G + W", "G * X", "X G", "G @ v", "v @ G", "a @ G",
    "G @ W.T.sum(0)", "G + X.T", "b @ c", "G.sum(2)", "v.sum(1)", "G.sum(-3)", "c · G",
    "G W", "G·G", "X.T @ X.T",
    # syntax errors and unknown names
    "", "   ", "G @", "@ G", "G @ W.T +", "(G", "G)", "((G)", "G..T", "G.T.T.", "G.sum(",
    "G.sum(0", "G.sum(2, keepdim=True)", "G.sum(keepdim=yes)", "G.sum(dim 0)", "G.max(0)",
    "exp G", "exp()", "log(", "G ** W", "G ** ", "G ^ ", "G ** 11", "G ** 1e9", "1e400",
    "1234567", "2,3", "G = W", "V @ W", "w @ G", "__import__('os')", "constructor",
    "G.constructor", "__proto__", "toString", "G; W", "G & W", "G | W", "G % 2", "'G'",
    "G[0]", "G # W", "x = 1", "lambda: G", "G if W else X", "😀 + G", "G\t@\tW.T",
    "G @ W.T\n", "σ", "sigmoid", "exp", "sum(G)", "G.sum", "G.T(0)", "2 3", "2G", "G2",
    "((((((((((((((((((((((G))))))))))))))))))))))", "-" * 30 + "G", "G" + " + G" * 60,
    # values that are not finite
    "G / 0", "log(-s)", "log(0 * s)", "sqrt(-s)", "exp(1000 * s)", "G ** -10 * 0",
    "1 / (G - G)",
]  # fmt: skip

PIECES = ["G", "W", "X", "s", "g", "b", "c", "v", "a", "N", "2", "0.5", "1e3", "(", ")", "@",
          "*", "/", "+", "-", "−", "**", "^", ".T", "ᵀ", ".sum(0)", ".sum(1, keepdim=True)",
          ".mean()", "exp(", "σ(", "·", " ", "⊙", ",", ".", "=", "Q", "_"]  # fmt: skip


def random_formulas(count, seed=0):
    """Strings of formula pieces, most of them wrong in some way: the two readers must say
    the same of each."""
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12))) for _ in range(count)]
