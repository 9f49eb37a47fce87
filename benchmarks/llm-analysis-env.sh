#!/usr/bin/env sh
# Creates the separate environment for benchmarks/llm_analysis_rows.py (the
# llm-analysis side benchmark). symcost's own .venv is never touched.
#
#   sh benchmarks/llm-analysis-env.sh [VENV_DIR]    # default .bench-venv/llm-analysis
#   VENV_DIR/bin/python benchmarks/llm_analysis_rows.py
#
# llm-analysis 0.2.2 is the newest release (cli99/llm-analysis, Cheng Li).
# Its declared dependencies are installed at the versions its bounds resolved
# to when this benchmark was run (fire <0.6, huggingface-hub <0.15,
# transformers <5); transformers is only used by llm-analysis to fetch model
# configs from the Hub, which the benchmark never does (it passes configs as
# objects and runs with the Hub offline).
set -eu
VENV="${1:-.bench-venv/llm-analysis}"
PY="${PYTHON:-python3}"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet \
    "llm-analysis==0.2.2" \
    "fire==0.5.0" \
    "huggingface-hub==0.14.1" \
    "transformers==4.31.0" \
    "tokenizers==0.13.3"
"$VENV/bin/python" -c "import importlib.metadata as m; print('llm-analysis', m.version('llm-analysis'), 'installed in $VENV')"
