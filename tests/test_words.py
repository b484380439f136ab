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
