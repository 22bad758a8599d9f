# One entry point for people and CI. `make check` runs exactly what CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check fmt lint types unit e2e bench bench-correlation bench-soak system clean i18n

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Debian packages the tests and benchmarks read real logs from (nginx, Apache, …).
system:
	bash scripts/setup-system.sh

## The main job on bundled real logs (nginx + PostgreSQL + the app's source); writes the reports.
demo: $(STAMP)
	@mkdir -p build
	$(BIN)/logtriage analyze examples/shop/ --source examples/shop/app \
		--json build/demo-report.json --html build/demo-report.html
	@echo "JSON report: build/demo-report.json"
	@echo "HTML report: $(CURDIR)/build/demo-report.html"

## Format check, lint, layer contracts, types, then every test (real servers included).
test: $(STAMP) system
	$(MAKE) check

check: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -q

fmt: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## Fast loop: everything but the real-server tests.
unit: $(STAMP)
	$(BIN)/pytest -q -m "not e2e"

e2e: $(STAMP) system
	$(BIN)/pytest -q -m e2e

## Side-by-side benchmarks with the anchor tools; writes docs/benchmarks.md.
bench: $(STAMP) system
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/correlation.py 5000
	$(BIN)/python benchmarks/soak.py --minutes 30

## `logtriage watch` for 30 minutes of steadily growing logs: RSS over time (docs/soak.md).
bench-soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py --minutes 30

## How correlation and the per-request detectors grow with 10x more requests.
bench-correlation: $(STAMP)
	$(BIN)/python benchmarks/correlation.py 5000

## Re-extract the report messages (babel.cfg) into the .pot and merge them into each catalog;
## then translate the new entries in src/logtriage/locale/<lang>/LC_MESSAGES/logtriage.po.
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --no-wrap --sort-output --project logtriage \
		--copyright-holder "logtriage contributors" -c TRANSLATORS: \
		-o src/logtriage/locale/logtriage.pot src/logtriage
	$(BIN)/pybabel update -i src/logtriage/locale/logtriage.pot -d src/logtriage/locale \
		-D logtriage --no-wrap --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
