"""Formulas typeset when the book is built: Sphinx's math becomes MathML.

Browsers draw MathML themselves, so a page needs no script to show its formulas
(MathJax typeset them in the reader's browser: most of a chapter's blocking time
on a phone, and a layout shift as the first screen reflowed). latex2mathml, pure
Python, converts the LaTeX; a few changes then make its output draw right in
MathML Core, the part of MathML that Chromium, Firefox and Safari share:

- a multi-letter ``<mo>`` (from ``\\operatorname``, ``\\max``) becomes an ``<mi>``,
  upright and without operator spacing, as TeX sets a function name;
- ``mathvariant`` other than ``normal`` is not in MathML Core: bold letters and
  digits become Unicode's mathematical bold ones, monospace a CSS font family;
- ``columnalign`` on a table cell becomes CSS ``text-align``.

The LaTeX source stays in the page as the formula's annotation (not shown).
A formula the converter cannot read, or a macro it does not know, is a build
warning naming the formula (and so an error under ``jupyter-book build -W``).
"""

import re
import xml.etree.ElementTree as ET

from docutils import nodes
from latex2mathml.converter import convert_to_element
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)

_ENTITY = re.compile(r"&#x([0-9A-Fa-f]+);")
_BOLD_STARTS = {"A": 0x1D400, "a": 0x1D41A, "0": 0x1D7CE}  # Mathematical Bold A, a, 0
_ALIGNMENT_CELL = re.compile(r"&|\\\\")
_ARITY = {"msub": 2, "msup": 2, "msubsup": 3, "munder": 2, "mover": 2, "munderover": 3}
_ARITY.update({"mfrac": 2, "mroot": 2})


class TeXError(ValueError):
    """A formula that cannot be typeset as MathML."""


def _bold(text):
    def one(ch):
        for first, start in _BOLD_STARTS.items():
            span = 10 if first == "0" else 26
            if ord(first) <= ord(ch) < ord(first) + span:
                return chr(start + ord(ch) - ord(first))
        return ch

    return "".join(one(ch) for ch in text)


def _top_level_row_break(tex):
    """True when ``\\\\`` separates lines outside any ``\\begin{...}`` environment."""
    depth = 0
    for token in re.finditer(r"\\begin\{[^}]*\}|\\end\{[^}]*\}|\\\\", tex):
        text = token.group()
        if text.startswith("\\begin"):
            depth += 1
        elif text.startswith("\\end"):
            depth -= 1
        elif depth == 0:
            return True
    return False


def _fix_arity(element):
    """Give a script or fraction element exactly its number of children.

    latex2mathml writes ``\\begin{pmatrix}...\\end{pmatrix}_{ij}`` as an
    ``<msub>`` holding the bracket, the table, the bracket and the index: the
    base, everything but the scripts, goes into one ``<mrow>``.
    """
    arity = _ARITY.get(element.tag)
    if arity is None or len(element) == arity:
        return
    if len(element) < arity:
        raise TeXError(f"<{element.tag}> with {len(element)} parts, {arity} expected")
    base = ET.Element("mrow")
    parts = list(element)
    base.extend(parts[: len(parts) - arity + 1])
    for part in parts:
        element.remove(part)
    element.extend([base, *parts[len(parts) - arity + 1 :]])


def tex_to_mathml(tex, display=False):
    """The MathML (a string) for one formula's LaTeX; TeXError if it cannot be typeset."""
    source = tex.strip()
    if not source:
        raise TeXError("empty formula")
    # amsmath's `aligned` (lines aligned inside one equation) is the `align*` table that
    # latex2mathml knows, without a number of its own.
    source = source.replace("\\begin{aligned}", "\\begin{align*}")
    source = source.replace("\\end{aligned}", "\\end{align*}")
    if display and _top_level_row_break(source):
        source = "\\begin{split}" + source + "\\end{split}"  # as Sphinx's MathJax output does
    try:
        math = convert_to_element(source, display="block" if display else "inline")
    except Exception as exc:  # noqa: BLE001 (latex2mathml raises many kinds)
        raise TeXError(f"latex2mathml cannot read it ({type(exc).__name__}: {exc})") from None
    for element in math.iter():
        if element.text:
            element.text = _ENTITY.sub(lambda m: chr(int(m.group(1), 16)), element.text)
            if element.text.startswith("\\"):
                raise TeXError(f"unknown macro {element.text}")
            if element.tag in ("mi", "mo") and _ALIGNMENT_CELL.fullmatch(element.text):
                raise TeXError(f"{element.text!r} outside an environment latex2mathml knows")
            if element.tag == "mo" and len(element.text) > 1 and element.text.isalpha():
                element.tag = "mi"
        variant = element.get("mathvariant")
        if variant == "bold":
            del element.attrib["mathvariant"]
            for inner in element.iter():
                inner.text = inner.text and _bold(inner.text)
        elif variant == "monospace":
            del element.attrib["mathvariant"]
            element.set("style", "font-family: var(--pst-font-family-monospace, monospace)")
        elif variant not in (None, "normal"):
            raise TeXError(f"mathvariant={variant!r} has no MathML Core equivalent here")
        if element.tag == "mtd" and "columnalign" in element.attrib:
            element.set("style", f"text-align: {element.attrib.pop('columnalign')}")
    for element in list(math.iter()):
        _fix_arity(element)
    # <math><semantics><mrow>...</mrow><annotation>LaTeX</annotation></semantics></math>
    semantics = ET.Element("semantics")
    semantics.extend(list(math))
    for child in list(math):
        math.remove(child)
    annotation = ET.SubElement(semantics, "annotation", encoding="application/x-tex")
    annotation.text = tex.strip()
    math.append(semantics)
    return ET.tostring(math, encoding="unicode", short_empty_elements=False)


def _typeset(self, node, tex, display):
    try:
        return tex_to_mathml(tex, display=display)
    except TeXError as exc:
        logger.warning(f"formula not typeset: {exc}: {tex.strip()!r}", location=node)
        return self.encode(tex)  # left as raw TeX, which the browser tests also catch


def html_visit_math(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(_typeset(self, node, node.astext(), display=False) + "</span>")
    raise nodes.SkipNode


def html_visit_displaymath(self, node):
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    for part in parts:  # Sphinx's own renderers stack the parts, one equation each
        self.body.append(_typeset(self, node, part, display=True))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathml", (html_visit_math, None), (html_visit_displaymath, None))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
