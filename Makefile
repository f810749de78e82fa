# s3events — `make demo` runs the reference series end to end; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PLUGIN_DIRS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
DEMO_DIR ?= build/demo

.PHONY: demo test lint typecheck docs docs-ref pytest bench clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Runtime install: the library and its CLI only.
$(VENV)/.runtime: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

# Everything the tests need: extras, every plugin distribution, the JS calendar parser.
$(VENV)/.dev: $(BIN)/python pyproject.toml $(wildcard plugins/*/pyproject.toml)
	$(BIN)/pip install -q -e '.[dev,web,postgresql]' $(foreach p,$(PLUGIN_DIRS),-e $(p))
	touch $(VENV)/.runtime $@

tests/js/node_modules: tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --silent

demo: $(VENV)/.runtime
	@mkdir -p $(DEMO_DIR)
	$(BIN)/s3events validate examples/s3-latam-2021/series.yaml
	$(BIN)/s3events times examples/s3-latam-2021/series.yaml --tz Europe/Brussels --tz America/Mexico_City --tz America/Santiago --tz America/Lima
	$(BIN)/s3events calendar examples/s3-latam-2021/series.yaml --lang es -o $(DEMO_DIR)/s3-latam-2021.es.ics
	$(BIN)/s3events agenda examples/s3-latam-2021/series.yaml --lang es --format md > $(DEMO_DIR)/agenda.es.md
	$(BIN)/python examples/s3-latam-2021/demo.py --dir $(DEMO_DIR)
	$(BIN)/s3events meetings examples/s3-latam-2021/series.yaml --state $(DEMO_DIR)/state.db
	@echo "Calendar, Spanish agenda, state, outbox and certificates are in $(DEMO_DIR)/"

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests plugins examples benchmarks tools

typecheck: $(VENV)/.dev
	$(BIN)/mypy
	$(BIN)/mypy $(wildcard plugins/*/src) $(wildcard examples/*/src)

docs: $(VENV)/.dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet -d build/site

# Regenerate the committed reference pages (docs/cli.md, docs/series-file.md) from the code.
docs-ref: $(VENV)/.dev
	$(BIN)/python tools/gen_docs.py

# Branch coverage of src/s3events, reported per module; the floor is fail_under in pyproject.toml.
pytest: $(VENV)/.dev tests/js/node_modules
	$(BIN)/coverage run -m pytest tests plugins examples
	$(BIN)/coverage report

test: lint typecheck docs pytest

# The catalogs of s3events' phrases: template from the code, catalogs updated, then compiled.
# Translate what is new or fuzzy between update and compile (see docs/languages.md).
LOCALE := src/s3events/locale
translations: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -o $(LOCALE)/s3events.pot --project=s3events \
	  --copyright-holder="The s3events developers" --add-location=file --sort-output \
	  -c "Translators:" -s --width=100 src/s3events
	$(BIN)/pybabel update -i $(LOCALE)/s3events.pot -d $(LOCALE) -D s3events --width=100
	$(BIN)/pybabel compile -d $(LOCALE) -D s3events --statistics

bench: $(VENV)/.dev
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/dispatch.py
	$(BIN)/python benchmarks/dispatch.py --schedule-only
	$(BIN)/python benchmarks/latency.py
	$(BIN)/python benchmarks/importing.py
	$(BIN)/python benchmarks/after_sessions.py

clean:
	rm -rf $(VENV) build .s3events tests/js/node_modules
