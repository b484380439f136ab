"""The table of contents: its menu button opens it on a phone, and its toggles have names.

pydata-sphinx-theme 0.17 binds the "Toggle primary sidebar" listener to the first
`.primary-toggle` of the page (`document.querySelector`). Unless `navbar_persistent` is set,
it defaults that option to the search field, and then draws its own header, which holds a
`.primary-toggle` that sphinx-book-theme 1.3.0 hides: the listener goes to that hidden button,
and the visible one, in the article's header, does nothing (pydata-sphinx-theme issue #2451;
sphinx-book-theme issues #988 and #999). sphinx-book-theme draws no navbar items of its own,
so with `navbar_persistent` set to nothing the hidden header is not drawn, and the visible
button is the only one. Jupyter Book's _config.yml cannot set one theme option without
replacing all of them, hence this extension. Remove it when a sphinx-book-theme release
carries the fix (its PR #1000).

A chapter with sections (chapter 3's pages) gets a toggle in the table of contents: a
<summary> that holds only an icon, which a screen reader announces with no name (axe:
summary-name, serious). After the build each such toggle is given one.
"""

from built_pages import rewrite_pages

ICON_ONLY = '<summary><span class="toctree-toggle" role="presentation">'
NAMED = ICON_ONLY.replace("<summary>", '<summary aria-label="Show or hide the sections">')


def name_toggles(html):
    return html.replace(ICON_ONLY, NAMED)


def on_build_finished(app, exception):
    rewrite_pages(app, exception, lambda html, page: name_toggles(html))


def on_config_inited(app, config):
    config.html_theme_options.setdefault("navbar_persistent", [])


def setup(app):
    app.connect("config-inited", on_config_inited)
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
