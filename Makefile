# The two commands the README opens with: `make run` deploys and verifies the guide's test
# bed on this machine, `make test` runs the whole test suite. Everything else is a part of them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run verify test units integration quality deps venv clean

## run: create the pinned Python environment, deploy the test bed (master 6379, replica 6479) and check it
run: venv
	$(BIN)/ansible-playbook site.yml

## verify: only check the live replication state against the inventory (changes nothing)
verify: venv
	$(BIN)/ansible-playbook playbooks/verify.yml

## test: the whole suite (units, integration on real servers, ansible-lint, ansible-test sanity)
test: deps venv
	$(BIN)/pytest $(PYTEST_ARGS)

units: venv
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: deps venv
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

quality: venv
	$(BIN)/pytest tests/quality $(PYTEST_ARGS)

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# The tests start real redis-server processes and ansible-test runs shellcheck: install
# both where they are missing (Debian/Ubuntu; as root).
deps:
	@command -v redis-server >/dev/null && command -v shellcheck >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server shellcheck; }

clean:
	rm -rf $(VENV) build tests/output .pytest_cache
