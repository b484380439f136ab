"""Mutation testing of the helper modules beside the chapters (`make mutation`).

mutmut (pinned in requirements.txt) changes the helper modules one small edit at a
time (a constant, an operator, a comparison, a string) and runs their unit tests
against each change. A change that no test notices "survives". Some survivors
cannot be noticed by any test, because the changed code does the same thing
(an equivalent mutant); each of those is listed, with the reason, in
tests/mutation_survivors.md. The kill rate counts every other mutant.

mutmut names a module after its file's path, and the notebooks and the tests
import the helpers as top-level modules (`from exercises import ...`), so the
run happens in a workspace, _build/mutation, that holds the modules at its top
and their tests in tests/. Every helper is copied there, the ones not mutated in this run too
(a test may import them); a helper that is a package (chapters/exercises/) is copied whole
and every module of it mutated. A module's tests are tests/test_<name>.py and
tests/test_<name>_*.py (not the browser tests, which need the built book), with the modules
the tests share (tests/*.py that are not tests), the pages and the rules page, the book's
extension (_ext/) and the Nu HTML checker (`make vnu`). Exit status 0 when the kill rate meets
the target and every survivor is explained.
"""

import argparse
import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE = ROOT / "_build" / "mutation"
SURVIVORS = ROOT / "tests" / "mutation_survivors.md"
MODULES = [
    "finite_differences",
    "animations",
    "sliders",
    "graphs",
    "figures",
    "decision_regions",
    "formulas",
    "exercises",
    "formula_questions",
    "questions",
]
# Helper modules run only with --only until they reach the target: their survivors are not
# all killed or explained yet.
PENDING = []
IGNORED = shutil.ignore_patterns("__pycache__")  # not copied into the workspace
TARGET = 1.0  # of the mutants that are not equivalent: every survivor is explained

CONFIG = """\
[tool.mutmut]
source_paths = [{sources}]
also_copy = [{unmutated}]
pytest_add_cli_args_test_selection = ["tests"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:nbval", "-p", "no:xdist"]

[tool.pytest.ini_options]
filterwarnings = ["ignore:Animation was deleted without rendering:UserWarning"]
"""


# tests of a helper module that are named after what they test, not after the module
MORE_TESTS = {"graphs": ["test_engine_graph.py"]}


def tests_of(module):
    """The unit tests of a helper module: tests/test_<module>.py and tests/test_<module>_*.py,
    not the browser tests (they need the built book), and its MORE_TESTS."""
    tests = [ROOT / "tests" / f"test_{module}.py"]
    tests += sorted((ROOT / "tests").glob(f"test_{module}_*.py"))
    tests += [ROOT / "tests" / name for name in MORE_TESTS.get(module, [])]
    return [test for test in tests if test.exists() and not test.stem.endswith("_browser")]


def prepare():
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    (WORKSPACE / "tests").mkdir(parents=True)
    sources, unmutated = [], []
    helpers = [path.stem for path in (ROOT / "chapters").glob("*.py")]
    helpers += [path.name for path in (ROOT / "chapters").iterdir() if path.is_dir()]
    for module in sorted(set(helpers)):
        package = ROOT / "chapters" / module
        if module.startswith(("_", ".")) or (
            package.is_dir() and not (package / "__init__.py").exists()
        ):
            continue
        name = module if package.is_dir() else f"{module}.py"
        if package.is_dir():
            shutil.copytree(package, WORKSPACE / module, ignore=IGNORED)
        else:
            shutil.copy2(ROOT / "chapters" / name, WORKSPACE)
        # a helper not mutated in this run is still there for the tests that import it
        (sources if module in MODULES else unmutated).append(f'"{name}"')
        if module in MODULES:
            for test in tests_of(module):
                shutil.copy2(test, WORKSPACE / "tests")
    # the pages, for the tests that run a page's cells (tests/chapter_runner.py) or read
    # their stored questions
    (WORKSPACE / "chapters").mkdir()
    for page in (ROOT / "chapters").glob("*.ipynb"):
        shutil.copy2(page, WORKSPACE / "chapters")
    shutil.copy2(ROOT / "rules.ipynb", WORKSPACE)
    unmutated += ['"chapters"', '"rules.ipynb"']
    # the book's extension, for the tests of questions (_ext/question_assets.py adds their
    # script to a page), and the Nu HTML checker that `make vnu` installed, for theirs
    shutil.copytree(ROOT / "_ext", WORKSPACE / "_ext", ignore=IGNORED)
    unmutated.append('"_ext"')
    if (ROOT / "tests" / "node_modules").is_dir():
        (WORKSPACE / "tests" / "node_modules").symlink_to(ROOT / "tests" / "node_modules")
    # the modules the tests share (exercises_examples.py, formula_corpus.py, ...)
    for shared in (ROOT / "tests").glob("*.py"):
        if not shared.name.startswith(("test_", "conftest", "mutation")):
            shutil.copy2(shared, WORKSPACE / "tests")
    config = CONFIG.format(sources=", ".join(sources), unmutated=", ".join(unmutated))
    (WORKSPACE / "pyproject.toml").write_text(config)


def mutmut(*arguments):
    command = [str(Path(sys.executable).parent / "mutmut"), *arguments]
    return subprocess.run(command, cwd=WORKSPACE, capture_output=True, text=True)


def explained():
    """mutant name -> why it is equivalent, from tests/mutation_survivors.md (the modules
    mutated in this run only)."""
    rows = re.findall(r"^- `([\w.]+)`: (.+)$", SURVIVORS.read_text(), re.MULTILINE)
    return {name: why for name, why in rows if name.split(".")[0] in MODULES}


def main(arguments=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        nargs="+",
        choices=MODULES + PENDING,
        default=MODULES,
        metavar="MODULE",
        help="mutate only these modules (a quicker run while working on their tests)",
    )
    parser.add_argument(
        "--mutants",
        nargs="+",
        default=[],
        metavar="PATTERN",
        help="run and count only the mutants whose names match (fnmatch), such as "
        "'exercises.catalogue.*': one module of a package, while working on its tests",
    )
    parser.add_argument(
        "--max-children", type=int, help="mutants run side by side (default: one per core)"
    )
    options = parser.parse_args(arguments)
    MODULES[:] = options.only  # what prepare() and explained() read
    prepare()
    chosen = options.mutants

    def counted_here(name):
        return not chosen or any(fnmatch.fnmatch(name, pattern) for pattern in chosen)

    children = [f"--max-children={options.max_children}"] if options.max_children else []
    run = mutmut("run", *children, *chosen)
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-3000:])
        return 2
    results = mutmut("results", "--all", "true").stdout
    statuses = dict(re.findall(r"^\s*([\w.]+): (\w[\w ]*)$", results, re.MULTILINE))
    statuses = {name: status for name, status in statuses.items() if counted_here(name)}
    killed = [name for name, status in statuses.items() if status in ("killed", "timeout")]
    survived = sorted(name for name, status in statuses.items() if name not in killed)
    equivalent = {name: why for name, why in explained().items() if counted_here(name)}
    unexplained = [name for name in survived if name not in equivalent]
    stale = sorted(set(equivalent) - set(survived))
    counted = len(statuses) - len(equivalent.keys() & set(survived))
    rate = len(killed) / counted if counted else 0.0
    print(f"mutants: {len(statuses)}, killed: {len(killed)}, survived: {len(survived)}")
    print(f"equivalent (tests/mutation_survivors.md): {len(equivalent.keys() & set(survived))}")
    print(f"kill rate: {len(killed)}/{counted} non-equivalent mutants ({rate:.1%})")
    for name in unexplained:
        print(f"SURVIVED, not explained: {name} ({statuses[name]})")
        print(mutmut("show", name).stdout)
    for name in stale:
        print(f"listed as equivalent but no longer survives: {name}")
    return 0 if rate >= TARGET and not unexplained and not stale else 1


if __name__ == "__main__":
    sys.exit(main())
