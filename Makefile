# sohoa — the two commands of the README, and the rest of the routine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SOHOA  := $(VENV)/bin/sohoa
SAMPLES := var/samples

.PHONY: run test chaos bench lint schema system system-test venv venv-test deploy-check clean

## Digitize a generated sample batch on the embedded defaults (SQLite, var/objects, no broker server).
run: system venv
	$(PY) -m tests.data $(SAMPLES) --count 12 --bad --truth-dir var/truth
	$(SOHOA) digitize $(SAMPLES) --out var/out || test $$? -eq 3
	@echo "records: var/objects/records/, JSON per input: var/out/"

## Install what the tests need, start Redis and PostgreSQL if they are down, run the whole suite.
test: system-test venv-test
	deploy/test-services.sh
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m mypy
	$(PY) -m pytest

## Faults on the production path (workers killed, Redis flushed and restarted, storage frozen,
## database connections killed): 0 lost, 0 duplicated, 0 stuck, and the recovery times.
chaos: system-test venv-test
	deploy/test-services.sh
	SOHOA_CHAOS=1 $(PY) -m pytest -s -p no:cacheprovider tests/chaos

## Benchmarks: figures go to bench/results/.
bench: venv-test
	deploy/install-system.sh --bench
	$(PY) -m tests.bench

lint: venv-test
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m mypy

## Regenerate schemas/record.schema.json from the models.
schema: venv
	$(PY) -m schemas.jsonschema

system:
	deploy/install-system.sh

system-test:
	deploy/install-system.sh --test

## Python packages: the same script and lock (deploy/requirements.lock) as the container image.
venv:
	PYTHON=$(PYTHON) deploy/install-python.sh $(VENV) samples

venv-test:
	PYTHON=$(PYTHON) deploy/install-python.sh $(VENV) test

## Check the deployment files without Docker: compose config, Kubernetes schemas, yamllint, env docs.
deploy-check: system-test venv-test
	$(PY) -m pytest -q -p no:cacheprovider tests/unit/test_deploy.py

clean:
	rm -rf var bench/results
