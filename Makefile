# The two commands of the README: `make demo` and `make test`.
# Each creates the virtual environment and everything else it needs.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install lint format up cockpit stop clean bench soak

$(STAMP): pyproject.toml front_end/package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m stack.front_end_assets
	touch $(STAMP)

install: $(STAMP)

# Every approach, then cqrs_es on the paper's AWS backends (Kinesis + DynamoDB
# Streams); e.g. DEMO_ARGS=--no-aws-figure leaves that row block out.
demo: $(STAMP)
	$(PY) manage.py demo $(DEMO_ARGS)

test: $(STAMP)
	$(PY) -m stack.test_suite $(PYTEST_ARGS)

# Benchmarks on PostgreSQL and moto, not part of `make test` (docs/benchmarks.md).
bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)

# The fault-injection suite (tests/reliability, docs/reliability.md) for
# ROUNDS rounds per platform instead of make test's one: both approaches on
# the defaults, and the AWS backends (cqrs_es on Kinesis + DynamoDB, and the
# soak-only event_sourcing on Kinesis + PostgreSQL, on SNS + DynamoDB);
# totals at the end.
ROUNDS ?= 50
soak: $(STAMP)
	RELIABILITY_ROUNDS=$(ROUNDS) $(PY) -m pytest tests/reliability -p no:django -q -s $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

up: $(STAMP)
	$(PY) manage.py up $(UP_ARGS)

cockpit: $(STAMP)
	$(PY) manage.py cockpit $(COCKPIT_ARGS)

stop: $(STAMP)
	$(PY) manage.py stop

clean: stop
	rm -rf var reports
