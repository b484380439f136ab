"""The book's repository: its button and the launch buttons, only when the build knows it.

_config.yml names no repository, so a local build shows no repository button, no Binder or
Colab button, and no placeholder. A build that knows where the book lives says so with
environment variables (the GitHub pages workflow passes its own repository):

    BOOK_REPOSITORY_URL=https://github.com/OWNER/REPO    the repository, on GitHub
    BOOK_REPOSITORY_BRANCH=main                          its branch (default: main)

Given a URL, this extension sets what `repository:` and `launch_buttons:` in _config.yml
would set (the theme's repository_url and repository_branch, the repository button, Binder
and Colab), and tells the pages: the tag `repository` is set (for `{only} repository`
blocks) and the MyST substitution `{{ repository }}` is a link to it.
"""

import os
import re

from sphinx.errors import ConfigError

URL_VARIABLE = "BOOK_REPOSITORY_URL"
BRANCH_VARIABLE = "BOOK_REPOSITORY_BRANCH"
# The launch buttons build their links from github.com/OWNER/REPO.
GITHUB_REPOSITORY = re.compile(r"^https://github\.com/[\w.-]+/[\w.-]+$")
BINDER = "https://mybinder.org"
COLAB = "https://colab.research.google.com"


def repository_from_environment(environ=os.environ):
    """(url, branch) given by the environment, or (None, None) when no URL is given."""
    url = environ.get(URL_VARIABLE, "").strip().rstrip("/")
    if not url:
        return None, None
    if url.endswith(".git"):
        url = url[: -len(".git")]
    if not GITHUB_REPOSITORY.match(url):
        raise ConfigError(
            f"{URL_VARIABLE}={url!r} is not a GitHub repository's address; "
            "give one like https://github.com/OWNER/REPO, or leave it unset for a book "
            "with no repository or launch buttons."
        )
    branch = environ.get(BRANCH_VARIABLE, "").strip() or "main"
    return url, branch


def on_config_inited(app, config):
    url, branch = repository_from_environment()
    options = config.html_theme_options
    substitutions = dict(config.myst_substitutions)
    if url is None:
        # Jupyter Book's default config names its own repository; no page may link there.
        options["repository_url"] = ""
        options["use_repository_button"] = False
        launch = dict(options.get("launch_buttons") or {})
        launch.update(binderhub_url="", colab_url="", jupyterhub_url="", thebe=False)
        options["launch_buttons"] = launch
        substitutions["repository"] = ""
    else:
        options["repository_url"] = url
        options["repository_branch"] = branch
        options["use_repository_button"] = True
        launch = dict(options.get("launch_buttons") or {})
        launch.update(binderhub_url=BINDER, colab_url=COLAB)
        options["launch_buttons"] = launch
        substitutions["repository"] = f"[{url.removeprefix('https://')}]({url})"
        app.tags.add("repository")
    config.myst_substitutions = substitutions


def setup(app):
    app.connect("config-inited", on_config_inited)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
