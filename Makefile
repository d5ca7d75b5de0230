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

.PHONY: install lab test test-all bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

lab: $(STAMP)
	$(PY) scripts/toy_sim.py experiment=jeepiti hydra.run.dir=outputs/lab/toy/jeepiti
	$(PY) scripts/toy_sim.py -m experiment=bandit rule=paper,reinforce,ppo,actde,dpo beta=0.05,0.2,1.0 hydra.sweep.dir=outputs/lab/toy/bandit

test: $(STAMP)
	$(PY) -m pytest -q -n 2 tests

test-all: $(STAMP)
	$(PY) -m pytest -q -n 2 -m '' tests

clean:
	rm -rf outputs multirun
