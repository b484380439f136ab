"""The book's words: no workshop word ("seed"), and the glossary's terms linked.

- "seed" may appear only where it means a random seed (`torch.manual_seed`, a `seed`
  argument or parameter, "seeded", "random seed"). The course's examples are "the worked
  examples", in words that need no outside document.
- Every `{term}` role names a term of glossary.md (the -n build checks this too).
- Every chapter links each glossary term it uses, at least once, with `{term}`.
- One name for each thing: no old name (`mse`, `d_mse`, `cost`) in any notebook or page, no
  index letter that is also a size's letter (N, D, J, K) in a sum or a loop, and "worked
  example" at most WORKED_EXAMPLE_LIMIT times a page.

The chapters are checked like every other page; a chapter not yet reworded (not in REWORDED)
has its cases marked xfail(strict=True), so its mark must be removed as soon as it passes.
"""

import ast
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
PAGES = [ROOT / "intro.md", ROOT / "glossary.md", ROOT / "rules.ipynb"]
NOT_YET_REWORDED = pytest.mark.xfail(strict=True, reason="chapter not yet reworded")
REWORDED = {
    "01_1_chain_rule",
    "01_2_scalar_autograd",
    "02_1_matrix_product",
    "02_2_broadcasts_and_lookups",
    "02_3_normalisation",
    "03_1_sigmoid_neuron",
    "03_2_layer_by_layer",
    "03_3_softmax_classifier",
}


def chapter_params():
    return [
        pytest.param(path, marks=() if path.stem in REWORDED else NOT_YET_REWORDED, id=path.stem)
        for path in CHAPTERS
    ]


def page_params():
    return [pytest.param(path, id=path.name) for path in PAGES]


def cells(path):
    """A page as (cell_type, source, outputs); a markdown file is one markdown cell."""
    if path.suffix == ".md":
        return [("markdown", path.read_text(encoding="utf-8"), [])]
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [
        (cell["cell_type"], "".join(cell["source"]), cell.get("outputs", []))
        for cell in notebook["cells"]
    ]


def markdown_of(path):
    return "\n\n".join(source for kind, source, _ in cells(path) if kind == "markdown")


# --- "seed" -------------------------------------------------------------------------

_SEED_WORD = re.compile(r"\w*seed\w*", re.IGNORECASE)
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\\\s]+")  # with line continuations


def prose_seeds(text):
    """Each use of "seed" in prose that does not mean a random seed."""
    found = []
    for match in _SEED_WORD.finditer(text):
        word = match.group().lower()
        before = text[: match.start()].lower()
        after = text[match.end() :]
        if word in ("seeded", "manual_seed"):
            continue
        if word in ("seed", "seeds") and (
            re.search(r"random\s+$", before) or re.match(r"\s*=", after)
        ):
            continue
        found.append(text[max(0, match.start() - 30) : match.end() + 30].replace("\n", " "))
    return found


def code_seeds(source):
    """Each use of "seed" in code that does not mean a random seed.

    Allowed: `manual_seed`, a keyword argument `seed=`, a parameter named `seed` and the
    name `seed` where such a parameter exists. Comments and strings are prose.
    """
    tree = ast.parse(source)
    parameters = {arg.arg for node in ast.walk(tree) for arg in _args(node)}
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Name):
            allowed = node.id == "seed" and "seed" in parameters
            names = [] if allowed else [node.id]
        elif isinstance(node, ast.Attribute):
            names = [] if node.attr == "manual_seed" else [node.attr]
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.arg):
            names = [] if node.arg == "seed" else [node.arg]
        elif isinstance(node, ast.keyword) and node.arg is not None:
            names = [] if node.arg == "seed" else [node.arg]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += prose_seeds(node.value)
        found += [f"code name {name!r}" for name in names if "seed" in name.lower()]
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found += prose_seeds(token.string)
    return found


def _args(node):
    if isinstance(node, ast.FunctionDef | ast.Lambda):
        a = node.args
        return [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, [a.vararg, a.kwarg])]
    return []


def output_text(output):
    """The text a reader sees of one output (images and embedded data left out)."""
    if output["output_type"] == "stream":
        return "".join(output["text"])
    data = output.get("data", {})
    parts = ["".join(data.get(mime, "")) for mime in ("text/plain", "text/markdown")]
    parts.append(_DATA_URI.sub("", "".join(data.get("text/html", ""))))
    return "\n".join(parts)


def seeds_in(path):
    found = []
    for index, (kind, source, outputs) in enumerate(cells(path)):
        where = f"{path.name} cell {index}"
        uses = prose_seeds(source) if kind == "markdown" else code_seeds(source)
        for output in outputs:
            uses += prose_seeds(output_text(output))
        found += [f"{where}: {use}" for use in uses]
    return found


@pytest.mark.parametrize(
    "text, flagged",
    [
        ("In the seed example all three are one-element tensors", True),
        ("The name `mse` comes from the Seed:", True),
        ("as the seed did for `w`", True),
        ("the seed's $W = (3, 1)$", True),
        ("two seeds of the course", True),
        ("`torch.manual_seed(0)` near the top", False),
        ("on seeded random data in float64", False),
        ("a random seed makes it repeatable; random  seeds", False),
        ("`random_case(1, 3, 2, seed=1)`", False),
    ],
)
def test_prose_seeds_tells_the_random_seed_from_the_workshop_word(text, flagged):
    assert bool(prose_seeds(text)) == flagged


@pytest.mark.parametrize(
    "source, flagged",
    [
        ("torch.manual_seed(0)", False),
        ("g = torch.Generator().manual_seed(k)", False),
        ("def random_case(seed, **shapes):\n    return torch.manual_seed(seed)", False),
        ("case = random_biased_case(1, 3, 2, seed=1)", False),
        ('"""Float64 inputs from a seeded generator."""', False),
        ("at_seed = readout(3.0, 1.0)", True),
        ("s_seed = torch.tensor([7.0, -5.0])", True),
        ("seed = torch.tensor([3.0])", True),
        ("x = 1  # the seed: y - w x = -4", True),
        ('"""The seed\'s forward pass."""', True),
        ('print(f"the seed gives {x}")', True),
        ("def readout(w, x=x_seed): pass", True),
    ],
)
def test_code_seeds_tells_the_random_seed_from_the_workshop_word(source, flagged):
    assert bool(code_seeds(source)) == flagged


@pytest.mark.parametrize("path", chapter_params() + page_params())
def test_seed_means_only_a_random_seed(path):
    found = seeds_in(path)
    assert not found, (
        f"{path.name}: 'seed' where it does not mean a random seed (say 'the example', "
        "or name it):\n" + "\n".join(found)
    )


# --- the glossary ---------------------------------------------------------------------

_ROLE = re.compile(r"\{term\}`([^`]+)`")


def glossary_terms():
    """The terms of glossary.md's glossary directive, as written."""
    text = (ROOT / "glossary.md").read_text(encoding="utf-8")
    block = re.search(r"^```\{glossary\}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert block, "glossary.md has no ```{glossary} block"
    return [
        line.strip()
        for line in block.group(1).splitlines()
        if line.strip() and not line[0].isspace() and not line.startswith(":")
    ]


def role_target(inner):
    """{term}`text <target>` links target; {term}`target` links itself."""
    explicit = re.fullmatch(r"(?s)(.*?)\s*<([^<>]+)>", inner)
    return " ".join((explicit.group(2) if explicit else inner).split())


def linked_terms(text):
    return {role_target(inner).lower() for inner in _ROLE.findall(text)}


def test_the_glossary_has_every_term_the_course_needs():
    terms = {term.lower() for term in glossary_terms()}
    needed = {
        "jacobian",
        "vector-jacobian product",
        "broadcast",
        "upstream gradient",
        "saturation",
        "subgradient",
        "float64",
        "rtol",
        "atol",
        "leaf tensor",
        "local derivative",
        "chain rule",
        "computation graph",
        "gradient",
        "autograd",
        "finite differences",
        "batch",
        "pre-activation",
        "activation",
        "retain_grad",
    }
    assert needed <= terms, f"missing from glossary.md: {sorted(needed - terms)}"
    assert len(terms) == len(glossary_terms()), "a term is defined twice"


@pytest.mark.parametrize(
    "inner, target",
    [("Jacobian", "Jacobian"), ("leaf tensors <leaf tensor>", "leaf tensor"), ("a\n b", "a b")],
)
def test_role_target_reads_both_forms_of_the_role(inner, target):
    assert role_target(inner) == target


@pytest.mark.parametrize("path", [*CHAPTERS, *PAGES], ids=lambda p: p.name)
def test_every_term_role_names_a_glossary_term(path):
    terms = {term.lower() for term in glossary_terms()}
    unknown = linked_terms(markdown_of(path)) - terms
    assert not unknown, f"{path.name}: {{term}} links to {sorted(unknown)}, not in glossary.md"


# How a term shows up in prose, beyond its plural: the forms a reader would link.
_FORMS = {
    "saturation": r"saturat(?:ion|ed|es|e|ing)",
    "broadcast": r"broadcast(?:s|ing|ed)?",
    "batch": r"batch(?:es)?",
    "finite differences": r"finite[\s-]+differences?",
}


def used_terms(markdown):
    """Glossary terms the prose uses (not inside maths or links' targets), longest first.

    A longer term hides the shorter ones inside it: "upstream gradient" is not also a use
    of "gradient", nor "pre-activation" of "activation".
    """
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", " ", markdown, flags=re.DOTALL)
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    text = _ROLE.sub(lambda m: " " + re.sub(r"\s*<[^<>]+>$", "", m.group(1)) + " ", text)
    text = re.sub(r"\{\w+\}`[^`]*`", " ", text)  # other roles: {doc}, {eq}, {numref}
    text = re.sub(r"`[^`\n]*`", " ", text)  # code: reduction="none" is no use of the term
    used = set()
    for term in sorted(glossary_terms(), key=len, reverse=True):
        form = _FORMS.get(term.lower(), r"[\s-]+".join(map(re.escape, term.split())) + "(?:s|es)?")
        pattern = re.compile(rf"(?<![\w-]){form}(?!\w)", re.IGNORECASE)
        if pattern.search(text):
            used.add(term.lower())
            text = pattern.sub(" ", text)
    return used


@pytest.mark.parametrize(
    "markdown, used",
    [
        ("The upstream gradient arrives.", {"upstream gradient"}),
        ("the pre-activation, then the activation", {"pre-activation", "activation"}),
        ("a saturated sigmoid; $\\mathrm{gradient}$ in maths", {"saturation"}),
        ("`backward(v)` is a vector-Jacobian product", {"vector-jacobian product"}),
        ("{term}`leaf tensors <leaf tensor>` and {doc}`gradient <x>`", {"leaf tensor"}),
        ("Two Jacobians and the gradients", {"jacobian", "gradient"}),
        ('`mse_loss(y_hat, y, reduction="none")` returns a batch', {"batch"}),
    ],
)
def test_used_terms_finds_uses_in_prose_only(markdown, used):
    assert used_terms(markdown) == used


@pytest.mark.parametrize("path", [*chapter_params(), pytest.param(ROOT / "rules.ipynb")])
def test_each_term_a_chapter_uses_is_linked_to_the_glossary(path):
    markdown = markdown_of(path)
    missing = used_terms(markdown) - linked_terms(markdown)
    assert not missing, (
        f"{path.name} uses these glossary terms but never links them with {{term}}: "
        f"{sorted(missing)}"
    )


# --- one name for each thing ------------------------------------------------------------

NOTEBOOKS_AND_PAGES = [*CHAPTERS, *PAGES]
# The sizes' letters: N samples, D input features, J hidden units, K outputs. An index
# runs over i (samples), p (features), r (hidden units) or q (outputs), never over these.
SIZE_LETTERS = set("ndjk")
_OLD_NAME = re.compile(r"(?<![\w.])(?:d_mse|mse)(?!\w)")
_SUM = re.compile(r"\\(?:sum|prod)_(?:\{((?:[^{}]|\{[^{}]*\})*)\}|([A-Za-z]))")
_SUBSCRIPT = re.compile(r"(?<![\\\w])[A-Za-z]_(?:\{([a-z](?:,\s*)?[a-z])\}|([a-z])(?![A-Za-z]))")
_MATHS = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.DOTALL)
_LOOP = re.compile(r"\bfor\s+([a-z])\s+in\s+range\(")


def visible_text(path):
    """Each cell's source and the text of its outputs, as (where, is it code, text)."""
    for index, (kind, source, outputs) in enumerate(cells(path)):
        yield f"{path.name} cell {index}", kind == "code", source
        for output in outputs:
            yield f"{path.name} cell {index} output", False, output_text(output)


def old_names(text, code=False):
    """`mse`, `d_mse` (not `F.mse_loss`) anywhere; `cost` as a name in code (`code`) or in
    backticks in prose (the word "cost" in a sentence is English, not a name)."""
    found = [m.group() for m in _OLD_NAME.finditer(text)]
    found += re.findall(r"`[^`\n]*\bcost\b[^`\n]*`", text)
    if code:
        found += [f"code name {name}" for name in _code_names(text) if name == "cost"]
    return found


def _code_names(text):
    try:
        return [
            token.string
            for token in tokenize.generate_tokens(io.StringIO(text).readline)
            if token.type == tokenize.NAME
        ]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def size_letter_indices(text, code=False):
    """Sums, products and loops whose index letter is a size's letter, and in prose (not
    `code`, whose f-strings put Python names between dollars) subscripts in maths."""
    found = []
    for match in _SUM.finditer(text):
        index = (match.group(1) or match.group(2)).split("=")[0]
        index = re.sub(r"\\[A-Za-z]+", " ", index)  # \ell, \cdot: not index letters
        if SIZE_LETTERS & set(re.findall(r"[a-z]", index)):
            found.append(match.group())
    maths = "" if code else " ".join(m.group() for m in _MATHS.finditer(text))
    for match in _SUBSCRIPT.finditer(maths):
        if SIZE_LETTERS & set(re.findall(r"[a-z]", match.group(1) or match.group(2))):
            found.append(match.group())
    found += [m.group() for m in _LOOP.finditer(text) if m.group(1) in SIZE_LETTERS]
    return found


@pytest.mark.parametrize(
    "text, found",
    [
        ("E = mse(y, y_hat)", ["mse"]),
        ("$\\mathrm{mse}(y, \\hat y)$ and d_mse(y, y_hat)", ["mse", "d_mse"]),
        ("F.mse_loss(y_hat, y) and squared_error(y, y_hat)", []),
        ("the cost of a step", []),
        ("the `cost` of chapter 1", ["`cost`"]),
        ("N·K work instead of N·K²: it costs less", []),
    ],
)
def test_old_names_finds_the_retired_names(text, found):
    assert old_names(text) == found


def test_old_names_finds_cost_as_a_name_in_code():
    assert old_names("cost = loss.sum()  # the cost", code=True) == ["code name cost"]


@pytest.mark.parametrize(
    "text, found",
    [
        ("$\\sum_k X_{ik} W_{kj}$", ["\\sum_k", "X_{ik}", "W_{kj}"]),
        ("$\\sum_{k=1}^{D}$ and $\\sum_{ij} E_{ij}$", ["\\sum_{k=1}", "\\sum_{ij}", "E_{ij}"]),
        ("$\\sum_d$, $\\sum_n$, $\\sum_{j}$", ["\\sum_d", "\\sum_n", "\\sum_{j}"]),
        ("for k in range(d):\n    for q in range(k): pass", ["for k in range("]),
        ("$\\sum_{i=1}^{N} \\sum_{p} X_{ip} W_{pq}$, $\\sum_{i,q} E_{iq}$", []),
        ("$\\prod_\\ell \\lVert W_\\ell \\rVert$, $\\mathbf{1}_N$, $H_{\\ell-1}$, $y_i$", []),
        ("$\\delta_{qt}$ and $e^{Z_{it}}$; dL_dw and d_sigmoid in code", []),
    ],
)
def test_size_letter_indices_finds_an_index_that_is_a_size_letter(text, found):
    assert size_letter_indices(text) == found


def test_size_letter_indices_leaves_python_names_in_code_alone():
    source = 'title = f"$W = {w_k.item():.2f}$"\nfor k in range(3): pass'
    assert size_letter_indices(source, code=True) == ["for k in range("]


@pytest.mark.parametrize("path", NOTEBOOKS_AND_PAGES, ids=lambda p: p.name)
def test_no_old_name_and_no_size_letter_as_an_index(path):
    found = []
    for where, code, text in visible_text(path):
        names = old_names(text, code) + size_letter_indices(text, code)
        found += [f"{where}: {name}" for name in names]
    assert not found, (
        f"{path.name} uses retired names (say squared_error, d_squared_error, errors, loss) "
        "or an index letter that is a size's letter (use i, p, r, q):\n" + "\n".join(found)
    )


# "A few times per page" (the house style): more than this, and the phrase is a tic.
WORKED_EXAMPLE_LIMIT = 6


@pytest.mark.parametrize("path", NOTEBOOKS_AND_PAGES, ids=lambda p: p.name)
def test_worked_example_is_said_a_few_times_per_page_at_most(path):
    said = sum(
        len(re.findall(r"worked[\s-]+examples?", text, re.IGNORECASE))
        for _, _, text in visible_text(path)
    )
    assert said <= WORKED_EXAMPLE_LIMIT, (
        f"{path.name} says 'worked example' {said} times (at most {WORKED_EXAMPLE_LIMIT}): "
        "vary the wording"
    )


# --- the rules page's citations ------------------------------------------------------------

_CITATION = re.compile(r'\{doc\}`[^`<]*<([^>]+)>`((?:,?\s+(?:and\s+)?"[^"]+")+)')


def rules_citations():
    """(page, section title) for each section the rules page quotes after a {doc} link."""
    found = []
    for page, titles in _CITATION.findall(markdown_of(ROOT / "rules.ipynb")):
        found += [(page, title) for title in re.findall(r'"([^"]+)"', titles)]
    return found


def headings(page):
    """The headings of a page (chapters/x.ipynb or .md), without their #s."""
    path = next(
        (
            ROOT / f"{page}{suffix}"
            for suffix in (".ipynb", ".md")
            if (ROOT / f"{page}{suffix}").is_file()
        ),
        None,
    )
    assert path, f"{page} is neither a notebook nor a Markdown page"
    return [
        line.lstrip("#").strip() for line in markdown_of(path).splitlines() if line.startswith("#")
    ]


def test_rules_citations_are_read_from_the_table():
    assert len(rules_citations()) >= 10, rules_citations()


@pytest.mark.parametrize("page, title", rules_citations(), ids=lambda v: v[:40])
def test_each_section_the_rules_page_quotes_is_a_heading_of_its_page(page, title):
    assert title in headings(page), f'rules.ipynb quotes "{title}", not a heading of {page}'


# --- the intro's notation table, where a program can check it (issue 27) ------------------
# Every notebook in chapters/ (new pages included), the rules page and the glossary.
NOTATION_PAGES = [*CHAPTERS, ROOT / "rules.ipynb", ROOT / "glossary.md"]
# i sample, p input feature, r hidden unit, q output, t step; \ell (a command) the layer.
INDEX_LETTERS = set("iprqt")
_COMMAND_WITH_ARGUMENT = re.compile(r"\\(?:mathrm|text|mathbf|operatorname)\{[^{}]*\}")
_SUBSCRIPTED = re.compile(
    r"(?:(?<![\\\w])([A-Za-z])|\\(sum|prod|max|min))_(?:\{((?:[^{}]|\{[^{}]*\})*)\}|([A-Za-z]))"
)


def subscript_problems(markdown):
    """Subscripts in the maths whose index letters are not the table's (i, p, r, q, t, \\ell),
    and entries of a matrix written in lower case (s_{iq}: the table writes S_{iq})."""
    maths = " ".join(m.group() for m in _MATHS.finditer(markdown))
    found = []
    for match in _SUBSCRIPTED.finditer(maths):
        letter, operator, braced, single = match.groups()
        inside = _COMMAND_WITH_ARGUMENT.sub(" ", braced if braced is not None else single)
        inside = re.sub(r"c_i|c_\{i\}", " ", inside)  # the class of sample i, as an index
        inside = re.sub(r"\\[A-Za-z]+", " ", inside)  # \ell, \cdot, \max: not index letters
        if inside.split("=")[0] != inside:  # \sum_{i=1}: the index is left of "="
            inside = inside.split("=")[0]
        letters = re.findall(r"[a-z]", inside)
        if set(letters) - INDEX_LETTERS:
            found.append(match.group())
        elif letter and letter.islower() and len(letters) >= 2:
            found.append(f"{match.group()} (an entry is upper case)")
    return found


@pytest.mark.parametrize(
    "markdown, found",
    [
        ("$Z_{iq} = \\sum_{p} X_{ip} W_{pq}$, $W_{pq'}$, $\\sum_{i=1}^{N}$", []),
        (
            "$H_{\\ell-1}$, $P_{i\\cdot}$, $\\lVert W \\rVert_{\\mathrm{op}}$, $s_{\\max}$, $w_t$",
            [],
        ),
        ("$P_{ic_i}$, $W_{11}$, $x_2$, $\\mathbf{1}_N$, $\\delta_{q'q}$, $w_{t+1}$", []),
        ("$\\sum_{t} e^{Z_{it}}$", []),
        ("$\\sum_c e^{z_c}$ and $W_{pt}$ fine, $E_a$", ["\\sum_c", "z_c", "E_a"]),
        (
            "$s_{iq}$ and $p_{iq}$",
            ["s_{iq} (an entry is upper case)", "p_{iq} (an entry is upper case)"],
        ),
        ("$\\sum_{k} X_{ik}$", ["\\sum_{k}", "X_{ik}"]),
    ],
)
def test_subscript_problems_finds_index_letters_outside_the_table(markdown, found):
    assert subscript_problems(markdown) == found


_NAME_WITH_SUFFIX = re.compile(r"^[A-Za-z]\w*_([a-z])$")
# An index's letter (i, p, r, q; c for a class) or a size's (n, d, j, k). `_t`, a step of
# gradient descent, is allowed by the table; `_w` or `_x` name what a gradient is taken
# with respect to (`matmul_backward_w`), not an index.
SUFFIX_LETTERS = set("iprqcndjk")


def lone_letter_suffixes(source):
    """Names in code that end in an underscore and an index's or a size's letter (`w_r`,
    `auto_q`, `x_c`, `ones_n`): a suffix is a word or a number (`_random`, `_fd`, `64`, `_0`)."""
    return sorted(
        {
            name
            for name in _code_names(source)
            if (m := _NAME_WITH_SUFFIX.match(name)) and m.group(1) in SUFFIX_LETTERS
        }
    )


@pytest.mark.parametrize(
    "source, found",
    [
        (
            "w_r, x_r = 1, 2\nauto_q = f(w_q)\nfor x_c in cases: pass",
            ["auto_q", "w_q", "w_r", "x_c", "x_r"],
        ),
        ("ones_n = 1\nw_d = 2", ["ones_n", "w_d"]),
        ("w_random, dL_dw_fd, w_0, w_t, x64, lambda w_: w_, dL_dz = 1", []),
        ("matmul_backward_w(x, g)\nloss_a, loss_b = 1, 2", []),
        ("requires_grad_()\nw.grad.zero_()\nx_2, y_2 = 1.0, 2.0", []),
    ],
)
def test_lone_letter_suffixes_finds_index_letters_in_names(source, found):
    assert lone_letter_suffixes(source) == found


_CLASS_NUMBER = re.compile(r"\bclass\s+(\d+)\b", re.IGNORECASE)
_CLASS_K = re.compile(
    r"\bclass(?:es)?\s+(?:\$?K\$?|\{k\})(?![\w-])|classes\s+\$?1\b", re.IGNORECASE
)


def one_based_classes(text):
    """Classes numbered from 1 ("class 1 ... class 3", "class K", "classes 1 to K"): the
    course numbers them 0, 1, ..., K - 1, as PyTorch does."""
    found = [m.group() for m in _CLASS_K.finditer(text)]
    numbers = {int(n) for n in _CLASS_NUMBER.findall(text)}
    if len(numbers) >= 2 and 0 not in numbers and max(numbers) == len(numbers):
        found.append("classes numbered " + ", ".join(map(str, sorted(numbers))))
    return found


@pytest.mark.parametrize(
    "text, found",
    [
        ("Which of class 1, class 2 and class 3 wins?", ["classes numbered 1, 2, 3"]),
        ("the last class K", ["class K"]),
        ("classes 1 to K", ["classes 1"]),
        ("class 0, class 1 or class 2", []),
        ("the right class is class 2; a K-class classifier", []),
    ],
)
def test_one_based_classes_finds_classes_counted_from_1(text, found):
    assert one_based_classes(text) == found


# A d_<f> is a local derivative, the derivative of f with respect to its input; what returns
# a gradient of L is <name>_backward.
_BACKWARD_WORDS = re.compile(r"loss|neuron|matmul|network|layer|backward")


def _local_name(name):
    return re.sub(r"^(?:my|solution|given)_", "", name)


def misnamed_derivatives(source):
    """Functions named d_<f> that return a gradient of L (they take an upstream gradient `g`,
    `G` or `dL_...`, use a `dL_...`, or are named for a loss, neuron, matmul, network or
    layer), and functions handed to check_gradient that are not named <name>_backward."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and _local_name(node.name).startswith("d_"):
            parameters = [arg.arg for arg in _args(node)]
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            upstream = [p for p in parameters if p in ("g", "G") or p.startswith("dL_")]
            if upstream or any(n.startswith("dL_") for n in names):
                found.append(f"{node.name} (works with the gradient of L: name it *_backward)")
            elif _BACKWARD_WORDS.search(node.name):
                found.append(f"{node.name} (a gradient of L: name it *_backward)")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "check_gradient"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Name)
            and not node.args[1].id.endswith("_backward")
        ):
            found.append(f"{node.args[1].id} (checked as a gradient of L: name it *_backward)")
    return found


@pytest.mark.parametrize(
    "source, flagged",
    [
        ("def d_squared_error(y, y_hat):\n    return -2 * (y - y_hat)", False),
        ("def d_sigmoid(s):\n    return sigmoid(s) * (1 - sigmoid(s))", False),
        ("def d_matmul_w(x, dL_dz):\n    return x.T @ dL_dz", True),
        ("def d_bias(g):\n    return g.sum(dim=0)", True),
        ("def d_loss_of(w, x, y):\n    return d_squared_error(y, w * x) * x", True),
        ("def d_neuron(x, y, w, b):\n    return 0", True),
        ("def solution_d_abs_loss(w, x, y):\n    return 0", True),
        ("def f(w):\n    dL_dw = 2 * w\n    return dL_dw\n\ndef d_f(x):\n    return 2 * x", False),
        ("check_gradient(exercise, my_d_bias)", True),
        ("check_gradient(exercise, solution_bias_backward, must_pass=True)", False),
        ("def matmul_backward_w(x, dL_dz):\n    return x.T @ dL_dz", False),
    ],
)
def test_misnamed_derivatives_tells_local_derivatives_from_backward_passes(source, flagged):
    assert bool(misnamed_derivatives(source)) == flagged


_CHAPTER_DOT = re.compile(r"\bchapters?\s+\d+\.\d+", re.IGNORECASE)
_GRADIENT_TRANSPOSE = re.compile(
    r"\\partial\s*[A-Za-z](?:_\{[^{}]*\}|_\w)?\s*\^\s*\{?\\top|∂[A-Za-z][₀-₉ᵢⱼ]*ᵀ"
)


@pytest.mark.parametrize(
    "text, found",
    [
        ("$\\frac{\\partial L}{\\partial S^\\top}$ and ∂L/∂Sᵀ X", ["\\partial S^\\top", "∂Sᵀ"]),
        ("$\\big(\\frac{\\partial L}{\\partial S}\\big)^\\top X$ and (∂L/∂S)ᵀ X, $X^\\top$", []),
    ],
)
def test_gradient_transposes_without_parentheses_are_found(text, found):
    assert _GRADIENT_TRANSPOSE.findall(text) == found


def question_cells(path):
    """(index, cell) of each code cell that calls ask(...) or choose(...)."""
    if path.suffix != ".ipynb":
        return []
    found = []
    for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:
            continue
        calls = [
            n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        ]
        if any(n.func.id in ("ask", "choose") for n in calls):
            found.append((index, cell))
    return found


def _strings(source):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    return "\n".join(
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    )


def notation_problems(path):
    found = []
    for index, (kind, source, outputs) in enumerate(cells(path)):
        where = f"{path.name} cell {index}"
        texts = [source, *(output_text(output) for output in outputs)]
        if kind == "markdown":
            found += [f"{where}: subscript {s}" for s in subscript_problems(source)]
            found += [f"{where}: {c}" for c in one_based_classes(source)]
        else:
            found += [f"{where}: suffix of {n}" for n in lone_letter_suffixes(source)]
            found += [f"{where}: {d}" for d in misnamed_derivatives(source)]
        for text in texts:
            found += [
                f"{where}: {m.group()!r} (say 'page N.M')" for m in _CHAPTER_DOT.finditer(text)
            ]
            found += [
                f"{where}: {t!r} (a transposed gradient needs parentheses)"
                for t in _GRADIENT_TRANSPOSE.findall(text)
            ]
    for index, cell in question_cells(path):
        found += [
            f"{path.name} cell {index}: question {c}"
            for c in one_based_classes(_strings("".join(cell["source"])))
        ]
    return found


@pytest.mark.parametrize("path", NOTATION_PAGES, ids=lambda p: p.name)
def test_each_page_follows_the_notation_table(path):
    found = notation_problems(path)
    assert not found, f"{path.name} departs from the notation table of intro.md:\n" + "\n".join(
        found
    )


@pytest.mark.parametrize("path", NOTATION_PAGES, ids=lambda p: p.name)
def test_a_questions_code_is_hidden_in_the_book_and_in_jupyterlab(path):
    """The book shows only the question (tag remove-input); JupyterLab collapses the code
    that holds its answer and slips (metadata jupyter.source_hidden)."""
    found = []
    for index, cell in question_cells(path):
        metadata = cell.get("metadata", {})
        if "remove-input" not in metadata.get("tags", []):
            found.append(f"cell {index}: no remove-input tag")
        if not metadata.get("jupyter", {}).get("source_hidden"):
            found.append(f"cell {index}: no source_hidden metadata")
    assert not found, f"{path.name}: " + "; ".join(found)
