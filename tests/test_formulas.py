"""Unit tests for chapters/formulas.py: typed formulas read and evaluated on tensors, and
every mistake in them said in words (never an exception of another kind, never code run)."""

import builtins
import warnings

import pytest
import torch
from formula_corpus import CORPUS, LETTERS, random_formulas, values
from formulas import SYNTAX, FormulaError, evaluate, parse, size_letters

VALUES = values()


def value_or_message(text):
    try:
        return evaluate(text, VALUES, LETTERS)
    except FormulaError as error:
        return str(error)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("G @ W.T", lambda v: v["G"] @ v["W"].T),
        ("G W^T", lambda v: v["G"] @ v["W"].T),
        ("(G.T @ X).T", lambda v: v["X"].T @ v["G"]),
        ("Xᵀ G", lambda v: v["X"].T @ v["G"]),
        ("G.sum(0)", lambda v: v["G"].sum(0)),
        ("G.sum(0, keepdim=True)", lambda v: v["G"].sum(0, keepdim=True)),
        ("G.sum(keepdim=True)", lambda v: v["G"].sum().reshape(1, 1)),
        ("G.mean(1, keepdim=True)", lambda v: v["G"].mean(1, keepdim=True)),
        ("s ⊙ (1 − s) ⊙ g", lambda v: v["s"] * (1 - v["s"]) * v["g"]),
        ("s (1 - s) g", lambda v: v["s"] * (1 - v["s"]) * v["g"]),
        ("(s - g) / N", lambda v: (v["s"] - v["g"]) / 5),
        ("−2(g − s)", lambda v: -2 * (v["g"] - v["s"])),
        ("-G ** 2", lambda v: -(v["G"] ** 2)),
        ("2 ** -1", lambda v: torch.tensor(0.5, dtype=torch.float64)),
        ("σ(G) * (1 - σ(G))", lambda v: torch.sigmoid(v["G"]) * (1 - torch.sigmoid(v["G"]))),
        ("G + b", lambda v: v["G"] + v["b"]),
        ("c * G", lambda v: v["c"] * v["G"]),
        ("b * c", lambda v: v["b"] * v["c"]),
        ("G + v", lambda v: v["G"] + v["v"]),
        ("v.T", lambda v: v["v"]),
        ("G - X @ W / 2", lambda v: v["G"] - v["X"] @ v["W"] / 2),
        ("1 - 2 - 3", lambda v: torch.tensor(-4.0, dtype=torch.float64)),
        ("8 / 4 / 2", lambda v: torch.tensor(1.0, dtype=torch.float64)),
    ],
)
def test_a_formula_means_what_pytorch_code_would(text, expected):
    got = evaluate(text, VALUES, LETTERS)
    want = expected(VALUES)
    assert got.shape == want.shape, (text, got.shape, want.shape)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "text, message",
    [
        ("G @ W", "G is N×K and W is D×K, so G @ W needs K = D: which one is transposed?"),
        ("X @ G", "X is N×D and G is N×K, so X @ G needs D = N: which one is transposed?"),
        (
            "G + W",
            "G is N×K and W is D×K: “+” works entry by entry, so their shapes must match (or "
            "one be a single row, column or number).",
        ),
        (
            "X G",
            "X is N×D and G is N×K: neither a matrix product nor a product entry by entry fits "
            "them. Is one of them transposed?",
        ),
        ("G @ v", "@ multiplies two matrices, and v is a vector of K (one axis)."),
        (
            "G.sum(2)",
            ".sum(…) takes the axis 0 (down the rows) or 1 (along each row), at position 7.",
        ),
        ("v.sum(1)", "v is a vector of K (one axis): it has no axis 1 to sum over."),
        (
            "V @ W",
            "Unknown name “V” at position 1: the names here are G, N, W, X, a, b, c, g, s, v.",
        ),
        ("G @ W.T +", "Expected a name, a number or “(” at position 10, found the end."),
        ("(G", "Expected “)” at position 3 to close the “(” at position 1, found the end."),
        ("G)", "Unexpected “)” at position 2."),
        ("G..T", "“.” at position 2 is not part of a formula."),
        ("G ** W", "After “**” at position 3, the exponent must be a number."),
        ("G ** 11", "The exponent 11 at position 3 is too large: powers up to 10 are read."),
        ("1e400", "The number 1e400 at position 1 is too large."),
        ("", "Type a formula first."),
        ("G.sum(keepdim=yes)", "keepdim is True or False (position 15)."),
        (
            "G / 0",
            "Your formula gives values that are not finite numbers here (too large, or a log or "
            "a division by zero).",
        ),
    ],
)
def test_each_mistake_gets_its_sentence(text, message):
    with pytest.raises(FormulaError) as raised:
        evaluate(text, VALUES, LETTERS)
    assert str(raised.value) == message


def test_a_square_product_written_as_a_space_asks_which_product_is_meant():
    square = {
        "A": torch.ones(3, 3, dtype=torch.float64),
        "B": torch.ones(3, 3, dtype=torch.float64),
    }
    with pytest.raises(FormulaError, match="could be the matrix product or entry by entry"):
        evaluate("A B", square)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('pathlib').Path('{marker}').touch()",
        "open('{marker}', 'w')",
        "exec('open(\\'{marker}\\', \\'w\\')')",
        "eval('1')",
        "constructor",
        "G.constructor",
        "__class__",
        "().__class__.__bases__",
        "G; import os",
        "breakpoint()",
    ],
)
def test_typed_text_is_read_never_run(text, tmp_path, monkeypatch):
    marker = tmp_path / "written"
    ran = []
    for name in ("eval", "exec", "compile", "breakpoint"):
        monkeypatch.setattr(builtins, name, lambda *a, _n=name, **k: ran.append(_n))
    with pytest.raises(FormulaError):
        evaluate(text.format(marker=marker), VALUES, LETTERS)
    monkeypatch.undo()
    assert ran == [] and not marker.exists(), f"{text!r} ran: {ran}"


def test_long_deep_and_huge_input_gets_a_message_and_returns_quickly():
    for text, words in [
        ("G + " * 60 + "G", "too long"),
        ("(" * 25 + "G" + ")" * 25, "nested too deeply"),
        ("-" * 30 + "G", "nested too deeply"),
        ("exp(" * 21 + "G" + ")" * 21, "nested too deeply"),
        ("G ** 1e9", "too large"),
        ("G ** -100", "too large"),
        ("9" * 50, "too large"),
    ]:
        with pytest.raises(FormulaError, match=words):
            evaluate(text, VALUES, LETTERS)


def test_anything_typed_gives_a_value_or_a_sentence():
    for text in CORPUS + random_formulas(400):
        result = value_or_message(text)
        if isinstance(result, str):
            assert result.endswith((".", "?")) and "Traceback" not in result, (text, result)
        else:
            assert result.dtype == torch.float64 and bool(torch.isfinite(result).all()), text


def test_values_of_other_kinds_are_refused_by_the_caller_not_the_reader():
    with pytest.raises(TypeError, match="at most two axes"):
        evaluate("A", {"A": torch.ones(2, 2, 2)})
    with pytest.raises(TypeError, match="at most two axes"):
        evaluate("A", {"A": [[1.0]]})
    with pytest.raises(FormulaError, match="A formula is text"):
        parse(None)


def test_sizes_must_differ_and_exceed_one():
    assert size_letters({"N": 5, "K": 4}) == {5: "N", 4: "K"}
    with pytest.raises(ValueError, match="must all differ"):
        size_letters({"N": 4, "K": 4})
    with pytest.raises(ValueError, match="more than 1"):
        size_letters({"N": 1, "K": 4})


def test_the_syntax_line_shows_the_examples_it_promises():
    for example in ("A @ B.T", "A.sum(0, keepdim=True)", "a * (1 + b) / N", "exp(-a)", "Bᵀ"):
        assert example in SYNTAX
    assert "\n" not in SYNTAX


@pytest.mark.parametrize(
    "text, expected",
    [
        ("G.sum(-1)", lambda v: v["G"].sum(-1)),
        ("v.sum(-1)", lambda v: v["v"].sum(-1)),
        ("G.mean(dim=-1, keepdim=True)", lambda v: v["G"].mean(-1, keepdim=True)),
        ("G.sum(dim=0)", lambda v: v["G"].sum(0)),
        ("G.sum(axis=1)", lambda v: v["G"].sum(1)),
        ("G.sum(0, keepdim=False)", lambda v: v["G"].sum(0)),
        ("G.sum()", lambda v: v["G"].sum()),
        ("G ** +2", lambda v: v["G"] ** 2),
        ("2 ** --1", lambda v: torch.tensor(2.0, dtype=torch.float64)),
        ("a ** 10", lambda v: v["a"] ** 10),
        ("G ^ 2", lambda v: v["G"] ** 2),
        ("G · W.T", lambda v: v["G"] @ v["W"].T),
        ("G 2", lambda v: 2 * v["G"]),
        ("2 v", lambda v: 2 * v["v"]),
        ("+G", lambda v: v["G"]),
        ("1e6", lambda v: torch.tensor(1e6, dtype=torch.float64)),
    ],
)
def test_the_other_spellings_mean_what_pytorch_code_would(text, expected):
    got = evaluate(text, VALUES, LETTERS)
    want = expected(VALUES)
    assert got.shape == want.shape, (text, got.shape, want.shape)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "text, message",
    [
        # the whole operand is named, however long, and only the part of the formula at fault
        ("G + X.T", None),
        ("X G.T", None),
        ("a + G @ X.T + a", "G is N×K and X.T is D×N, so G @ X.T needs K = D: which one is"),
        ("a @ G", "@ multiplies two matrices, and a is a number."),
        ("G.T + W", "G.T is K×N and W is D×K: “+” works entry by entry"),
        ("exp(G", "Expected “)” at position 6 to close exp(, found the end."),
        ("G + )", "Expected a name, a number or “(” at position 5, found “)”."),
        ("G.sum 0", "Expected “(” at position 7 after “.sum”, found “0”."),
        ("G.sum(dim 0)", "Expected “=” at position 11 after “dim”, found “0”."),
        (
            "G.sum(x=0)",
            ".sum(…) takes the axis 0 (down the rows) or 1 (along each row), at position 7.",
        ),
    ],
)
def test_each_message_names_the_part_at_fault(text, message):
    with pytest.raises(FormulaError) as raised:
        evaluate(text, VALUES, LETTERS)
    if message is None:
        operand = text.split()[-1]
        assert f" and {operand} is " in str(raised.value), str(raised.value)
    else:
        assert str(raised.value).startswith(message), str(raised.value)


def test_sizes_without_a_letter_are_said_as_numbers():
    values = {"A": torch.ones(2, 3), "B": torch.ones(2, 3)}
    with pytest.raises(FormulaError) as raised:
        evaluate("A @ B", values)
    assert str(raised.value) == (
        "A is 2×3 and B is 2×3, so A @ B needs 3 = 2: which one is transposed?"
    )


def test_a_square_product_message_says_where_and_what_to_write():
    square = {"A": torch.ones(3, 3), "B": torch.ones(3, 3)}
    with pytest.raises(FormulaError) as raised:
        evaluate("A B + A", square)
    assert str(raised.value) == (
        "In A B, a product could be the matrix product or entry by entry: "
        "write @ or * between the two."
    )


def test_values_of_another_dtype_are_computed_in_float64():
    result = evaluate("A / 3", {"A": torch.ones(2, 2, dtype=torch.float32)})
    assert result.dtype == torch.float64
    torch.testing.assert_close(result, torch.full((2, 2), 1 / 3, dtype=torch.float64))


def test_a_transpose_of_a_vector_or_a_number_leaves_it_as_it_is_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for text, name in [("v.T", "v"), ("aᵀ", "a")]:
            assert torch.equal(evaluate(text, VALUES, LETTERS), VALUES[name])


def test_the_limits_are_exactly_the_ones_stated():
    assert evaluate("a" + " + a" * 49 + "   ", VALUES, LETTERS).shape == ()  # 200 characters
    with pytest.raises(FormulaError) as raised:
        parse(1)
    assert str(raised.value) == "A formula is text."
    for before in ("", "exp(a) + ", "(a) + ", "-a + "):
        assert evaluate(before + "(" * 20 + "a" + ")" * 20, VALUES, LETTERS).shape == ()
        with pytest.raises(FormulaError, match="nested too deeply"):
            evaluate(before + "(" * 21 + "a" + ")" * 21, VALUES, LETTERS)


def test_no_sizes_give_no_letters():
    assert size_letters({}) == {}
    assert size_letters({"N": 2, "K": 3}) == {2: "N", 3: "K"}
