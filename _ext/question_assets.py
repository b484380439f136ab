"""The "Check yourself" questions' scripts and style, on the pages that have questions.

chapters/questions.py writes each question into a cell's output as a
<form class="question">; question_static/questions.js checks the answers in the
browser and question_static/questions.css draws the forms. This adds the two files to
a page only when its body holds a question: once per page however many it has, the
script deferred, both served from the book itself. A page with a formula question
(chapters/formula_questions.py, data-kind="formula") also gets
question_static/formulas.js, which reads and evaluates typed formulas; so does a page
whose sliders move in the book (chapters/sliders.py, data-kind="explore"), with the
style; other pages load neither.

They live beside this extension, not in _static/, because Jupyter Book adds every .js
and .css file of _static/ to every page.
"""

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "question_static"
SCRIPT, STYLE, FORMULAS = "questions.js", "questions.css", "formulas.js"
MARK = '<form class="question"'
FORMULA_MARK = 'data-kind="formula"'
EXPLORE_MARK = 'data-kind="explore"'  # sliders the book moves (chapters/sliders.py)


def has_questions(body):
    return MARK in body


def add_static_path(app, config):
    config.html_static_path.append(str(STATIC))


def add_assets(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    questions, explore = has_questions(body), EXPLORE_MARK in body
    if questions or explore:
        app.add_css_file(STYLE)
    if questions:
        app.add_js_file(SCRIPT, loading_method="defer")
    if FORMULA_MARK in body or explore:
        app.add_js_file(FORMULAS, loading_method="defer")


def setup(app):
    app.connect("config-inited", add_static_path)
    app.connect("html-page-context", add_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
