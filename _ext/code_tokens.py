"""Code blocks without the highlighting spans that change nothing.

Pygments wraps every token of a code block in a <span> with the token's class:
`<span class="n">dL_dw</span><span class="p">(</span>`. In the theme's colours a
name (n), punctuation (p) and whitespace (w) are drawn in the code block's own
colour, light or dark, so their spans only add elements: about 2,000 on a chapter
page, where each costs the phone style and layout work while the page loads.
After the HTML build this finds, in the build's pygments.css, the token classes
whose only rule in each colour scheme is the block's own colour, and unwraps their
spans inside code blocks. The text, and how it looks, stay the same.
"""

import re
from pathlib import Path

from built_pages import rewrite_pages

RULE = re.compile(
    r'^html\[data-theme="(light|dark)"\] \.highlight(?: \.([a-z0-9]+))? \{ ([^}]*?) \}', re.M
)
UNPREFIXED = re.compile(r"^\.highlight \.([a-z0-9]+)", re.M)
BLOCK = re.compile(r'<div class="highlight"><pre>.*?</pre>', re.DOTALL)


def plain_classes(css):
    """The token classes drawn, in every scheme, in the code block's own colour only."""
    base, tokens = {}, {}
    for scheme, token, declarations in RULE.findall(css):
        if not token:
            colour = re.search(r"(?:^|;)\s*color: ([^;]+)", declarations)
            base[scheme] = colour.group(1).strip() if colour else None
        else:
            tokens.setdefault(token, {})[scheme] = declarations.strip().rstrip(";").strip()
    styled_elsewhere = set(UNPREFIXED.findall(css))
    return {
        token
        for token, rules in tokens.items()
        if base
        and set(rules) == set(base)
        and all(rules[scheme] == f"color: {base[scheme]}" for scheme in base)
        and token not in styled_elsewhere
    }


def unwrap_plain_tokens(html, classes):
    """``html`` with the spans of ``classes`` inside code blocks replaced by their text."""
    if not classes:
        return html
    span = re.compile(
        rf'<span class="(?:{"|".join(map(re.escape, sorted(classes)))})">([^<]*)</span>'
    )
    return BLOCK.sub(lambda block: span.sub(r"\1", block.group(0)), html)


def on_build_finished(app, exception):
    css = Path(app.outdir) / "_static" / "pygments.css"
    classes = plain_classes(css.read_text(encoding="utf-8")) if css.is_file() else set()
    rewrite_pages(app, exception, lambda html, page: unwrap_plain_tokens(html, classes))


def setup(app):
    # pydata-sphinx-theme writes the light and dark pygments.css on build-finished too,
    # at the default priority (500): read it after.
    app.connect("build-finished", on_build_finished, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
