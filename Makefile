# collapselab: `make lab` runs the study, `make test` runs the tests.
# Both create .venv if it is missing: torch first (a CPU build here), then the project.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export TRL_EXPERIMENTAL_SILENCE := 1
export WANDB_SILENT := true

.PHONY: install lab lab-smoke test test-all clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# the whole study: world, base, SFT, reward, PPO and DPO sweeps, evaluation, toy, report/index.html
lab: $(STAMP)
	$(PY) scripts/lab.py $(ARGS)

# the same pipeline at the smallest sizes, then the report rendered in headless Chromium
lab-smoke: $(STAMP)
	$(PY) scripts/lab.py lab=smoke out_dir=outputs/lab_smoke report_dir=outputs/lab_smoke/report logger=none
	$(PY) scripts/check_report.py outputs/lab_smoke/report/index.html

test: $(STAMP)
	$(PY) -m pytest -q -n 2 tests

test-all: $(STAMP)
	$(PY) -m pytest -q -n 2 -m '' tests

clean:
	rm -rf outputs multirun
