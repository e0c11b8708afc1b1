# lk — development tasks. `make demo` serves a demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
SAO_STAMP := var/sao/.installed
VENV_STAMP := $(VENV)/.installed

DEMO_BACKEND ?= sqlite
DEMO_DB ?= lk_demo
DEMO_SIZE ?= 50
PORT ?= 8000
export DEMO_BACKEND DEMO_DB DEMO_SIZE PORT

.PHONY: venv install sao demo test clean i18n

venv install: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

sao: $(SAO_STAMP)

$(SAO_STAMP):
	mkdir -p var/sao
	npm install --prefix var/sao --no-audit --no-fund 'tryton-sao@>=8.0 <8.1'
	touch $@

demo: $(VENV_STAMP) $(SAO_STAMP)
	$(VENV)/bin/python scripts/demo.py

# make test ARGS='--backend sqlite --module lk_base -k access'
test: $(VENV_STAMP) $(SAO_STAMP)
	$(VENV)/bin/python scripts/run_tests.py $(ARGS)

# Extract the portal's messages into addons/<module>/i18n/{ru,en}.po, then
# translate the empty msgstr of ru.po: make i18n ARGS='lk_metering'
i18n: $(VENV_STAMP)
	$(VENV)/bin/python scripts/i18n.py extract $(ARGS)

# The PostgreSQL demo database stays: dropdb lk_demo
clean:
	rm -rf var test-results
	find . -path ./$(VENV) -prune -o -name __pycache__ -prune -exec rm -rf {} +
