# CloudSMS: `make run` starts the platform on this machine, `make test` tests it.
# Everything the tests need is installed by these targets, not by hand.

PYTHON ?= python3
VENV := .venv
SAMVENV := .samvenv
PY := $(VENV)/bin/python
SAM := $(SAMVENV)/bin/sam
# The SAM CLI reads credentials and a region even to validate offline.
AWS_FAKE := AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0
PORT ?= 3000

.PHONY: run test unit integration e2e validate lint bench kannel browser clean openapi constraints

# Every package at the version the tests last passed with (constraints/): a release
# made since cannot change what a fresh machine tests. `make constraints` moves them on.
$(VENV)/.installed: pyproject.toml constraints/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints/dev.txt -e '.[dev]'
	touch $@

# The SAM CLI pins its own boto3, so it lives in a virtual environment of its own.
$(SAMVENV)/.installed: constraints/sam.txt
	$(PYTHON) -m venv $(SAMVENV)
	$(SAMVENV)/bin/pip install --quiet -c constraints/sam.txt aws-sam-cli cfn-lint
	touch $@

# Newest releases of everything, written down as the new constraints; run `make test`
# after it (a unit test names the layer's pins to move with them), and commit.
constraints:
	rm -rf $(VENV) $(SAMVENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	$(VENV)/bin/pip freeze --exclude-editable > constraints/dev.txt
	$(PYTHON) -m venv $(SAMVENV)
	$(SAMVENV)/bin/pip install --quiet aws-sam-cli cfn-lint
	$(SAMVENV)/bin/pip freeze > constraints/sam.txt
	touch $(VENV)/.installed $(SAMVENV)/.installed

# `make run KANNEL=1` also runs a real Kannel (installed first when missing) and a channel
# through it.
run: $(VENV)/.installed $(if $(KANNEL),kannel)
	$(PY) -m cloudsms_local.stack --port $(PORT) $(if $(KANNEL),--kannel)

kannel:
	bash scripts/install-kannel.sh

browser:
	bash scripts/install-browser.sh

validate: $(SAMVENV)/.installed
	$(AWS_FAKE) $(SAM) validate --template template.yaml
	$(AWS_FAKE) $(SAM) validate --lint --template template.yaml
	$(SAMVENV)/bin/cfn-lint template.yaml

unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit -q

integration: $(VENV)/.installed
	$(PY) -m pytest tests/integration -q

e2e: $(VENV)/.installed kannel browser
	$(PY) -m pytest tests/e2e -q

# Style and types are checked first: code that passes its tests but not the linters
# does not land either. The unit and integration tests share nothing between them (each
# builds its own emulated account), so they run on two cores; the e2e tests then run
# alone: each waits on a stack of its own for things to happen in time.
test: $(VENV)/.installed lint kannel browser validate
	$(PY) -m pytest tests/unit tests/integration -q -p no:cacheprovider -n 2
	$(PY) -m pytest tests/e2e -q -p no:cacheprovider

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/cloudsms/cloudsms local/cloudsms_local

# web/openapi.json from the handlers; a unit test fails while it is out of date.
openapi: $(VENV)/.installed
	$(PY) scripts/openapi.py

bench: $(VENV)/.installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(SAMVENV) .local .aws-sam
