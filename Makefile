# sohoa — the two commands of the README, and the rest of the routine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SOHOA  := $(VENV)/bin/sohoa
SAMPLES := var/samples

.PHONY: run test bench lint schema system venv venv-test clean

## Digitize a generated sample batch on the embedded defaults (SQLite, var/objects, no broker server).
run: system venv
	$(PY) -m tests.data $(SAMPLES) --count 12 --bad --truth-dir var/truth
	$(SOHOA) digitize $(SAMPLES) --out var/out || test $$? -eq 3
	@echo "records: var/objects/records/, JSON per input: var/out/"

## Install what the tests need, start Redis and PostgreSQL if they are down, run the whole suite.
test: system-test venv-test
	deploy/test-services.sh
	$(PY) -m ruff check .
	$(PY) -m pytest

## Benchmarks: figures go to bench/results/.
bench: system venv-test
	$(PY) -m tests.bench

lint: venv-test
	$(PY) -m ruff check .

## Regenerate schemas/record.schema.json from the models.
schema: venv
	$(PY) -m schemas.jsonschema

system:
	deploy/install-system.sh

system-test:
	deploy/install-system.sh --test

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

venv: $(VENV)/bin/activate
	$(PY) -m pip install -q -e '.[samples]'

venv-test: $(VENV)/bin/activate
	$(PY) -m pip install -q -e '.[test]'

clean:
	rm -rf var bench/results
