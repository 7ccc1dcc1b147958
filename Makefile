# Dialtone. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STAGE ?= dev

.PHONY: venv run lint test unit surface integration bench bench-smoke soak package clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# Type check (the files and per-package strictness are in pyproject.toml).
lint: $(STAMP)
	$(PY) -m mypy

# The type check first: a type error fails the run before any test starts. The runtime's
# Java and the portal's Chromium and chromium-driver are installed with apt when missing
# (infra/local/dynamodb_local.py, infra/local/browser.py).
test: lint
	$(PY) -m pytest -q -n 2 --durations=25 tests

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit tests/surface

# Every surface's HTTP contract, in process.
surface: $(STAMP)
	$(PY) -m pytest -q tests/surface

# Against a real local runtime (DynamoDB Local, moto server, the API and workers).
integration: $(STAMP)
	$(PY) -m pytest -q tests/integration

# The fault sweeps in full: every fault kind at every AWS call of every flow
# (`make test` runs a sample of them). Prints the counts per flow and in all.
soak: $(STAMP)
	DIALTONE_FAULTS=all $(PY) -m pytest -q -s tests/faults

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache dist out

# A deployable stack for one stage in out/$(STAGE)/ (sam.json + deployment.zip),
# linted; see docs/deploy.md. Usage: make package STAGE=prod
package: $(STAMP)
	$(PY) -m infra.package --stage $(STAGE) --out out/$(STAGE)
	$(VENV)/bin/cfn-lint out/$(STAGE)/sam.json

# Dialtone on this machine: DynamoDB Local (Java 17+, installed with apt when
# missing and root), moto for S3/SQS, the API on 127.0.0.1:8000 and the workers.
# Tables persist in .local/dynamodb; S3 objects and SQS messages do not. Ctrl-C stops all.
run: $(STAMP)
	$(PY) -m infra.local.run

# Benchmarks: ratios against baselines measured in the same run, one local runtime.
# Prints one table (figure, value, target, PASS/MISS) and writes the run to
# .bench/<UTC time>.json and .bench/latest.json; compare two runs with
# `python -m bench.compare OLD NEW` (docs/benchmarks.md).
bench: $(STAMP)
	$(PY) -m bench.run

# Every bench module at tiny sizes (about a minute): proves the bench runs.
bench-smoke: $(STAMP)
	$(PY) -m bench.run --smoke
