# One entry point for people and CI alike. Every target creates the virtual
# environment and installs requirements.txt first if that has not happened yet.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PORT ?= 8000


.PHONY: help book serve test test-slow nbval lint chromium lab execute mutation clean java npm vnu lighthouse page-speed

help:
	@echo "make book     build the book into _build/html"
	@echo "make serve    build, then serve the book on http://127.0.0.1:$(PORT)"
	@echo "make test     build the book and run every test (nbval and tests/) but the slow one"
	@echo "make test-slow   the zip's notebooks in a fresh venv, a real install (minutes)"
	@echo "make nbval    run the chapters and the rules page against their stored outputs"
	@echo "make lab      open the chapters in JupyterLab"
	@echo "make execute  re-run every chapter top to bottom and store its outputs"
	@echo "make mutation mutation-test the helper modules and print the kill rate (minutes)"
	@echo "make page-speed  Lighthouse on every page, next to the Jupyter Book template"

$(INSTALLED): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# -W: a warning fails the build; -n: nitpicky, every reference must resolve.
book: $(INSTALLED)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is in _build/html. Read it with: make serve"

serve: book
	@echo "Serving the book on http://127.0.0.1:$(PORT) (Ctrl-C stops)"
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# Everything CI runs but `make test-slow`: lint, the book build, then one pytest on two
# workers for the chapters under nbval and the tests in tests/ (tests/conftest.py
# groups them: one build, one server, one browser and one in-process run of each
# notebook per worker, shared).
# One OpenMP thread for torch in the tests, their workers and kernels (tests/conftest.py says
# why); `make nbval` too.
test test-slow nbval: export OMP_NUM_THREADS = 1
test: lint book chromium vnu
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow" chapters rules.ipynb tests

# The one test that cannot share anything: every notebook of the course zip run in a
# fresh venv with only the zip's requirements.txt installed (a real install, minutes).
# CI runs it after `make test` (.ci/run).
test-slow: book
	$(BIN)/python -m pytest -m slow tests/test_download.py

# The chapters and the rules page, each run top to bottom by nbval against its stored
# outputs (about 7 s). Three workers on two cores run the notebooks side by side:
# a kernel spends part of every cell waiting on nbval's round trip.
nbval: $(INSTALLED)
	$(BIN)/python -m pytest -n 3 chapters rules.ipynb

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# $(call apt_install,COMMAND,PACKAGE): install Debian's PACKAGE when COMMAND is
# missing; as root that needs no prompt, otherwise it prints the command to run.
apt_install = command -v $(1) >/dev/null || { \
	if [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(2); \
	else \
		echo "$(1) is missing. Install it with: sudo apt-get install -y $(2)"; exit 1; \
	fi; }

# The browser tests drive Debian's Chromium (Playwright's own download does not
# work offline).
chromium:
	@$(call apt_install,chromium,chromium)

# The Nu HTML checker for tests/test_valid_pages.py: vnu.jar from npm's vnu-jar,
# pinned in tests/package-lock.json, run with Java. --ignore-scripts: the package's
# install script only fetches a Java when none is found, and `make java` installs one.
VNU_JAR := tests/node_modules/vnu-jar/build/dist/vnu.jar
vnu: java npm $(VNU_JAR)
$(VNU_JAR): tests/package-lock.json
	npm ci --prefix tests --ignore-scripts --no-audit --no-fund
	touch $@

# Java and npm, from Debian when missing.
java:
	@$(call apt_install,java,default-jre-headless)
npm:
	@$(call apt_install,npm,npm)

# Lighthouse 12.2.3 for bench/page_speed.py, pinned in bench/package-lock.json (13.x
# needs Node 22). Not part of `make test`.
LIGHTHOUSE := bench/node_modules/.bin/lighthouse
lighthouse: npm chromium $(LIGHTHOUSE)
$(LIGHTHOUSE): bench/package-lock.json
	npm ci --prefix bench --no-audit --no-fund
	touch $@

# Every page of the book and of the plain Jupyter Book template, side by side, with
# Lighthouse's mobile preset (about a minute a page on 2 cores; RUNS=3 by default).
# PAGES=chapters measures only the chapter pages and the template's notebook page.
RUNS ?= 3
page-speed: book lighthouse
	$(BIN)/python bench/page_speed.py --runs $(RUNS) $(if $(filter chapters,$(PAGES)),--chapters-only)

# JupyterLab from the course's environment, on chapters/, fetching no news or updates.
# The first line switches off the pop-up that asks about Jupyter news (news_url=None
# stops the fetching, not the question), in this environment's own settings.
ANNOUNCEMENTS := @jupyterlab/apputils-extension:announcements
lab: $(INSTALLED)
	$(BIN)/jupyter labextension disable --level=sys_prefix $(ANNOUNCEMENTS) >/dev/null 2>&1
	$(BIN)/jupyter lab --ServerApp.root_dir=chapters --LabApp.news_url=None \
		--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
		$(if $(filter 0,$(shell id -u)),--allow-root)

# Stored outputs come only from here: a fresh kernel, top to bottom, no
# timing metadata, no widget state (nbval compares what this writes).
execute: $(INSTALLED)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False \
		--ExecutePreprocessor.store_widget_state=False \
		chapters/*.ipynb rules.ipynb

# Mutation testing of the helper modules beside the chapters (a few minutes; not part
# of `make test`). Prints the kill rate; tests/mutation_survivors.md explains each
# surviving mutant that no test can tell from the original. The Nu HTML checker: the tests of
# questions check its HTML with it.
mutation: $(INSTALLED) vnu
	$(BIN)/python tests/mutation.py

clean:
	rm -rf _build .pytest_cache
