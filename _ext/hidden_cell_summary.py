"""The toggle of a hidden code cell as valid HTML.

myst-nb writes "Show code cell source" and "Hide code cell source" as two <p>
inside the <details>' <summary>, where HTML allows only phrasing content (the Nu
HTML checker reports each). This writes the same toggle with <span> elements;
_static/custom.css gives them the layout myst-nb's style sheet gives the <p>.
"""

from html import escape

from myst_nb.sphinx_ import HideCodeCellNode


def visit_hide_cell_input(self, node):
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n')
    self.body.append('<summary aria-label="Toggle hidden content">\n')
    for state, prompt in (("collapsed", "prompt_show"), ("expanded", "prompt_hide")):
        self.body.append(f'<span class="{state} admonition-title">{escape(node[prompt])}</span>\n')
    self.body.append("</summary>\n")


def depart_hide_cell_input(self, node):
    self.body.append("</details>\n")


def setup(app):
    app.setup_extension("myst_nb")  # register after myst-nb, so this visitor wins
    app.add_node(
        HideCodeCellNode, override=True, html=(visit_hide_cell_input, depart_hide_cell_input)
    )
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
