"""`make lab` and the course zip's README open JupyterLab on the course: no pop-up asking
about Jupyter news (the `announcements` plugin), switched off in the environment's own
settings by the same command in both."""

import json
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PLUGIN = "@jupyterlab/apputils-extension:announcements"
DISABLE = f"jupyter labextension disable --level=sys_prefix {PLUGIN}"


def lab_recipe():
    shown = subprocess.run(
        ["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [line for line in shown.splitlines() if "jupyter" in line]


def test_the_plugin_make_lab_switches_off_is_jupyterlabs_news_pop_up():
    static = Path(sys.prefix) / "share" / "jupyter" / "lab" / "static"
    described = [
        text[text.index(f'id:"{PLUGIN}"') :][:200]
        for text in (path.read_text(encoding="utf-8") for path in static.glob("jlab_core*.js"))
        if f'id:"{PLUGIN}"' in text
    ]
    assert described, f"JupyterLab has no plugin {PLUGIN}"
    assert "fetch news" in described[0], described[0]


def test_make_lab_switches_the_news_pop_up_off_before_starting_jupyterlab():
    recipe = lab_recipe()
    assert DISABLE in recipe[0] and " lab " in recipe[1] + " ", recipe
    command = shlex.split(recipe[0].split(">")[0])
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
    config = Path(sys.prefix) / "etc" / "jupyter" / "labconfig" / "page_config.json"
    disabled = json.loads(config.read_text(encoding="utf-8"))["disabledExtensions"]
    assert disabled.get(PLUGIN) is True, disabled


def test_the_zips_readme_gives_the_same_command_for_every_system():
    readme = (ROOT / "_ext" / "download_README.md").read_text(encoding="utf-8")
    assert f".venv\\Scripts\\{DISABLE}" in readme
    assert f".venv/bin/{DISABLE}" in readme
    assert readme.index(DISABLE) < readme.index("jupyter lab "), "before the first start"
