# Two entry points for a fresh machine:
#   make demo   create .venv, install symcost, run it on the bundled example
#   make test   create .venv, install symcost with the test extras, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test clean pdflatex chromium audit-docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The demo needs only symcost's own dependencies; the test extras (pytest, dask, pyarrow, playwright, ...)
# are most of the download, so only make test installs them. Each stamp records one install.
$(VENV)/installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/installed
	$(BIN)/symcost report --model examples/model_llama3_2_1b.yaml \
		--hardware examples/hardware_soc_parallel.yaml --stats examples/stats_k4.yaml \
		--prompt-lengths 128,512,2048,8192 -o demo-report.json

# lint and format check first (configuration in pyproject.toml): seconds, and a failure names the line
test: $(VENV)/installed-test pdflatex chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n auto --maxprocesses=4

# pdflatex for the audit tests and Debian's chromium for the web UI's browser tests,
# installed with apt-get when missing and usable (tools/apt-install.sh)
pdflatex:
	@sh tools/apt-install.sh pdflatex "the LaTeX audit tests" texlive-latex-base texlive-latex-recommended

chromium:
	@sh tools/apt-install.sh chromium "the web UI's browser tests" chromium

# regenerate the committed audit documents of the bundled examples (docs/audit/)
audit-docs: $(VENV)/installed pdflatex
	$(BIN)/python docs/audit/generate.py --pdf

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
