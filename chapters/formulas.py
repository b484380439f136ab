"""Typed formulas: a small expression language over matrices, read and evaluated safely.

A reader types a derived formula, such as ``G @ W.T``, ``X.T @ G``, ``G.sum(0)``,
``s * (1 - s) * g`` or ``(P - Y) / N``; ``evaluate`` computes it on float64 tensors for
the names it is given, or says in words what is wrong: a syntax error with its position,
an unknown name, shapes that do not fit (with their sizes' letters), a number too large.
The text is data: it is parsed here, token by token, and never handed to Python's
``eval``. ``_ext/question_static/formulas.js`` reads and evaluates the same language in
the book, with the same words (``tests/test_formulas_browser.py`` runs both on one corpus).

The language, in one line for the reader (``SYNTAX``, whose examples use names no
question uses, so that it gives no answer away): names and numbers; ``+ - * / @``;
``**`` or ``^`` for a power with a number as exponent; ``.T``, ``ᵀ`` or ``^T`` for the
transpose; ``.sum(0)``, ``.sum(1)``, ``.sum()`` and ``.mean(...)`` the same way, with
``keepdim=True`` if wanted; ``exp``, ``log``, ``tanh``, ``sqrt``, ``sigmoid`` or ``σ``.
The maths spellings are read too: ``−`` for minus, ``⊙`` and ``×`` for ``*``, and ``·`` or
a space between two factors for a product: the matrix product when only it fits their
shapes, entry by entry when only that fits, and a question back when both would.

Arrays have at most two axes and broadcast as in PyTorch.

Importing it has no side effects.
"""

import re

import torch

__all__ = ["FormulaError", "SYNTAX", "evaluate", "parse"]

SYNTAX = (
    "Type it as in the code, with the names listed: A @ B.T, A.sum(0, keepdim=True), "
    "a * (1 + b) / N, exp(-a) (also Bᵀ or B^T, − for minus, · or a space for a product)."
)
MAX_LENGTH = 200  # characters a formula may have
MAX_DEPTH = 20  # brackets, calls and signs inside one another
MAX_EXPONENT = 10  # the largest power, in size
MAX_NUMBER = 1e6  # the largest number written in a formula
FUNCTIONS = ("exp", "log", "tanh", "sqrt", "sigmoid", "σ")
REDUCTIONS = ("sum", "mean")
TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]*)"
    r"|(?P<op>\*\*|\^T|(?:\.T|\.sum|\.mean)(?![A-Za-z0-9_\u0370-\u03ff])|[-+*/@^(),=ᵀ·⊙×−]))"
)
SAME = {"−": "-", "⊙": "*", "×": "*"}  # maths spellings of the code's operators


class FormulaError(ValueError):
    """What is wrong with a formula, in words a reader can act on."""


def _tokens(text):
    """(kind, text, position) for each token; position counts from 1, as a reader does."""
    found, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = TOKEN.match(text, at)
        if match is None or match.end() == at:
            start = at + len(text[at:]) - len(text[at:].lstrip())
            raise FormulaError(
                f"“{text[start]}” at position {start + 1} is not part of a formula."
            )
        kind = match.lastgroup
        value = match.group(kind)
        found.append((kind, SAME.get(value, value), match.start(kind) + 1))
        at = match.end()
    found.append(("end", "", len(text) + 1))
    return found


class _Parser:
    """Recursive descent over the tokens; builds a tree of tuples:
    ("number", x), ("name", n, position), ("neg", a), (op, a, b) for + - * / @ ** and
    "juxt" (a product written as · or a space), ("T", a), ("reduce", method, a, dim,
    keepdim), ("call", f, a); each node ends with its source text, for messages."""

    def __init__(self, text):
        self.text, self.tokens, self.at, self.depth = text, _tokens(text), 0, 0

    def peek(self):
        return self.tokens[self.at]

    def take(self):
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, op, after):
        kind, value, position = self.take()
        if value != op:
            got = "the end" if kind == "end" else f"“{value}”"
            raise FormulaError(f"Expected “{op}” at position {position} {after}, found {got}.")

    def deeper(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"The formula is nested too deeply (more than {MAX_DEPTH} levels).")

    def source(self, start):
        first = self.tokens[start][2] - 1
        last = self.tokens[self.at - 1]
        return self.text[first : last[2] - 1 + len(last[1])].strip()

    def formula(self):
        if self.peek()[0] == "end":
            raise FormulaError("Type a formula first.")
        tree = self.sum()
        kind, value, position = self.peek()
        if kind != "end":
            raise FormulaError(f"Unexpected “{value}” at position {position}.")
        return tree

    def sum(self):
        start = self.at
        tree = self.product()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            tree = (op, tree, self.product(), self.source(start))
        return tree

    def starts_factor(self):
        kind, value, _ = self.peek()
        return kind in ("number", "name") or value == "("

    def product(self):
        start = self.at
        tree = self.unary()
        while True:
            value = self.peek()[1]
            if value in ("*", "/", "@", "·"):
                self.take()
                op = "juxt" if value == "·" else value
            elif self.starts_factor():
                op = "juxt"
            else:
                return tree
            tree = (op, tree, self.unary(), self.source(start))

    def unary(self):
        start = self.at
        if self.peek()[1] in ("-", "+"):
            sign = self.take()[1]
            self.deeper()
            inner = self.unary()
            self.depth -= 1
            return ("neg", inner, self.source(start)) if sign == "-" else inner
        return self.power()

    def power(self):
        start = self.at
        base = self.postfix()
        if self.peek()[1] in ("**", "^"):
            _, op, position = self.take()
            negative = False
            while self.peek()[1] in ("-", "+"):
                negative ^= self.take()[1] == "-"
            kind, value, _ = self.take()
            if kind != "number":
                raise FormulaError(
                    f"After “{op}” at position {position}, the exponent must be a number."
                )
            exponent = -float(value) if negative else float(value)
            if abs(exponent) > MAX_EXPONENT:
                raise FormulaError(
                    f"The exponent {value} at position {position} is too large: "
                    f"powers up to {MAX_EXPONENT} are read."
                )
            return ("**", base, ("number", exponent, value), self.source(start))
        return base

    def postfix(self):
        start = self.at
        tree = self.atom()
        while True:
            value = self.peek()[1]
            if value in (".T", "ᵀ", "^T"):
                self.take()
                tree = ("T", tree, self.source(start))
            elif value in (".sum", ".mean"):
                self.take()
                dim, keepdim = self.reduction_arguments(value)
                tree = ("reduce", value[1:], tree, dim, keepdim, self.source(start))
            else:
                return tree

    def reduction_arguments(self, method):
        self.expect("(", f"after “{method}”")
        dim, keepdim = None, False
        while self.peek()[1] != ")":
            kind, value, position = self.take()
            if kind == "name" and value in ("dim", "axis", "keepdim"):
                self.expect("=", f"after “{value}”")
                word = value
                kind, value, position = self.take()
            else:
                word = "dim"
            if word == "keepdim":
                if value not in ("True", "False"):
                    raise FormulaError(f"keepdim is True or False (position {position}).")
                keepdim = value == "True"
            else:
                negative = False
                if value == "-":
                    negative, (kind, value, position) = True, self.take()
                if kind != "number" or value not in ("0", "1"):
                    raise FormulaError(
                        f"{method}(…) takes the axis 0 (down the rows) or 1 (along each row), "
                        f"at position {position}."
                    )
                dim = -int(value) if negative else int(value)
            if self.peek()[1] == ",":
                self.take()
        self.take()
        return dim, keepdim

    def atom(self):
        start = self.at
        kind, value, position = self.take()
        if kind == "number":
            number = float(value)
            if number > MAX_NUMBER:
                raise FormulaError(f"The number {value} at position {position} is too large.")
            return ("number", number, value)
        if kind == "name":
            if value in FUNCTIONS and self.peek()[1] == "(":
                self.take()
                self.deeper()
                inner = self.sum()
                self.depth -= 1
                self.expect(")", f"to close {value}(")
                return ("call", value, inner, self.source(start))
            return ("name", value, position, value)
        if value == "(":
            self.deeper()
            inner = self.sum()
            self.depth -= 1
            self.expect(")", f"to close the “(” at position {position}")
            return inner
        got = "the end" if kind == "end" else f"“{value}”"
        raise FormulaError(
            f"Expected a name, a number or “(” at position {position}, found {got}."
        )


def parse(text):
    """The formula's tree, or FormulaError. ``text`` is any string."""
    if not isinstance(text, str):
        raise FormulaError("A formula is text.")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"The formula is too long: at most {MAX_LENGTH} characters.")
    return _Parser(text).formula()


# -- Evaluation ------------------------------------------------------------------------------


def _shape_words(value, letters):
    """A shape in the question's letters: "N×K", "a single row of K", "a number"."""
    named = [letters.get(size, str(size)) for size in value.shape]
    if not named:
        return "a number"
    if len(named) == 1:
        return f"a vector of {named[0]} (one axis)"
    return "×".join(named)


def _text(tree):
    """The source text of a node: every node keeps it last."""
    return tree[-1]


class _Evaluator:
    def __init__(self, values, letters):
        self.values, self.letters = values, letters

    def shape(self, value):
        return _shape_words(value, self.letters)

    def run(self, tree):
        kind = tree[0]
        if kind == "number":
            return torch.tensor(tree[1], dtype=torch.float64)
        if kind == "name":
            if tree[1] not in self.values:
                names = ", ".join(sorted(self.values))
                raise FormulaError(
                    f"Unknown name “{tree[1]}” at position {tree[2]}: the names here are {names}."
                )
            return self.values[tree[1]]
        if kind == "neg":
            return -self.run(tree[1])
        if kind == "T":
            value = self.run(tree[1])
            return value.T if value.dim() == 2 else value
        if kind == "call":
            value = self.run(tree[2])
            function = {"σ": "sigmoid"}.get(tree[1], tree[1])
            return getattr(torch, function)(value)
        if kind == "reduce":
            _, method, inner, dim, keepdim, _ = tree
            value = self.run(inner)
            if dim is not None and not -value.dim() <= dim < max(value.dim(), 1):
                raise FormulaError(
                    f"{_text(inner)} is {self.shape(value)}: it has no axis {dim} to "
                    f"{method} over."
                )
            reduce = getattr(value, method)
            if dim is None:
                result = reduce()
                return result.reshape([1] * value.dim()) if keepdim else result
            return reduce(dim=dim, keepdim=keepdim)
        left, right = self.run(tree[1]), self.run(tree[2])
        if kind == "juxt":
            kind = self.product_kind(tree, left, right)
        if kind == "@":
            return self.matmul(tree, left, right)
        if kind == "**":
            return left ** tree[2][1]
        self.broadcastable(tree, left, right, kind)
        return {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div}[kind](left, right)

    def product_kind(self, tree, left, right):
        """For "·" or a space: the matrix product, entry by entry, or ask. A number is
        never a matrix and broadcasts with anything, so it multiplies entry by entry."""
        matrix = left.dim() == 2 and right.dim() == 2 and left.shape[1] == right.shape[0]
        entries = _broadcasts(left.shape, right.shape)
        if matrix and entries:
            raise FormulaError(
                f"In {tree[-1]}, a product could be the matrix product or entry by entry: "
                "write @ or * between the two."
            )
        if not matrix and not entries:
            raise FormulaError(
                f"{_text(tree[1])} is {self.shape(left)} and {_text(tree[2])} is "
                f"{self.shape(right)}: neither a matrix product nor a product entry by entry "
                "fits them. Is one of them transposed?"
            )
        return "@" if matrix else "*"

    def matmul(self, tree, left, right):
        a, b = _text(tree[1]), _text(tree[2])
        for side, value in ((a, left), (b, right)):
            if value.dim() != 2:
                raise FormulaError(
                    f"@ multiplies two matrices, and {side} is {self.shape(value)}."
                )
        if left.shape[1] != right.shape[0]:
            inner = [self.letters.get(n, str(n)) for n in (left.shape[1], right.shape[0])]
            raise FormulaError(
                f"{a} is {self.shape(left)} and {b} is {self.shape(right)}, so {tree[-1]} "
                f"needs {inner[0]} = {inner[1]}: which one is transposed?"
            )
        return left @ right

    def broadcastable(self, tree, left, right, op):
        if not _broadcasts(left.shape, right.shape):
            raise FormulaError(
                f"{_text(tree[1])} is {self.shape(left)} and {_text(tree[2])} is "
                f"{self.shape(right)}: “{op}” works entry by entry, so their shapes must match "
                "(or one be a single row, column or number)."
            )


def _broadcasts(a, b):
    """Whether two shapes broadcast together, as in PyTorch."""
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y and 1 not in (x, y):
            return False
    return True


def evaluate(text, values, letters=None):
    """The value of formula ``text`` with ``values`` (name -> float64 tensor of at most two
    axes), as a float64 tensor; FormulaError says in words what is wrong. ``letters`` maps
    a size to its letter ({4: "N", 3: "D"}) for the messages."""
    tree = parse(text)
    for name, value in values.items():
        if not isinstance(value, torch.Tensor) or value.dim() > 2:
            raise TypeError(f"the value of {name} must be a tensor of at most two axes")
    values = {name: value.to(torch.float64) for name, value in values.items()}
    result = _Evaluator(values, letters or {}).run(tree)
    if not bool(torch.isfinite(result).all()):
        raise FormulaError(
            "Your formula gives values that are not finite numbers here (too large, or a "
            "log or a division by zero)."
        )
    return result


def size_letters(sizes):
    """{size: letter} from {letter: size}; sizes must differ and be more than 1."""
    if len(set(sizes.values())) != len(sizes) or any(size < 2 for size in sizes.values()):
        raise ValueError(f"the sizes must all differ and be more than 1, got {sizes}")
    return {size: letter for letter, size in sizes.items()}
