# The two commands the README opens with: `make run` deploys and verifies the guide's test
# bed on this machine, `make test` runs the whole test suite. Everything else is a part of them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# `make test` runs its test files in parallel (pytest-xdist), one file per worker at a time
# (--dist loadfile: a file's module-scoped bed and the order of its tests stay in one process),
# in the order of pytest.ini's testpaths, longest first (--no-loadscope-reorder: xdist would
# otherwise start the files with the most tests first, the short unit files).
# TEST_WORKERS=1 runs them in one process, as `make units` and the others do.
TEST_WORKERS ?= auto

# ARGS: more ansible-playbook arguments for run, plan, verify and failover, e.g.
# ARGS='-i inventories/example --ask-vault-pass'.
ARGS ?=
# Where `make install` puts the collection (the first of Ansible's default collection paths).
COLLECTIONS_PATH ?= $(HOME)/.ansible/collections
COLLECTION_VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
BUILD_DIR ?= build
COLLECTION_TARBALL := $(BUILD_DIR)/redisops-redis-$(COLLECTION_VERSION).tar.gz

.PHONY: run plan verify failover collection install test units integration quality matrix deps venv clean bench bench-quick

## run: create the pinned Python environment, deploy the test bed (master 6379, replica 6479) and check it
run: venv
	$(BIN)/ansible-playbook site.yml $(ARGS)

## plan: what a run would change, changing nothing (ansible-playbook site.yml --check --diff)
plan: venv
	$(BIN)/ansible-playbook site.yml --check --diff $(ARGS)

## verify: only check the live replication state against the inventory (changes nothing)
verify: venv
	$(BIN)/ansible-playbook playbooks/verify.yml $(ARGS)

## failover: promote the replica TARGET=HOST:INSTANCE in place of its master (playbooks/failover.yml)
failover: venv
	@test -n "$(TARGET)" || { echo "make failover needs TARGET=HOST:INSTANCE, the replica to promote (e.g. TARGET=localhost:replica)" >&2; exit 2; }
	$(BIN)/ansible-playbook playbooks/failover.yml -e redis_failover_target=$(TARGET) $(ARGS)

## collection: build the collection tarball into BUILD_DIR (default build/)
# The tarball is built from this directory, whatever the current directory's ansible.cfg says.
collection: venv
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD_DIR) .

## install: build the collection and install it into COLLECTIONS_PATH (default ~/.ansible/collections)
# ANSIBLE_COLLECTIONS_PATH: this clone's ansible.cfg points at collections/, the link back to the
# clone itself, where an install would find the collection already there and do nothing.
install: collection
	ANSIBLE_COLLECTIONS_PATH='$(COLLECTIONS_PATH)' $(BIN)/ansible-galaxy collection install --force \
	  -p '$(COLLECTIONS_PATH)' $(COLLECTION_TARBALL)
	@echo "Installed redisops.redis $(COLLECTION_VERSION) into $(COLLECTIONS_PATH)/ansible_collections/redisops/redis"
	@echo "Use it from another directory with ANSIBLE_COLLECTIONS_PATH='$(COLLECTIONS_PATH)' (or collections_path in that project's ansible.cfg)."

## test: the whole suite (units, integration on real servers, molecule, ansible-lint, ansible-test sanity)
# Docker and the molecule virtualenv are set up first; where that is impossible the molecule tests
# say why and are skipped (or fail, with CI=true).
test: deps venv
	-$(MAKE) --no-print-directory molecule-env
	$(BIN)/pytest $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder) --durations=40 $(PYTEST_ARGS)

units: venv
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: deps venv
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

quality: venv
	$(BIN)/pytest tests/quality $(PYTEST_ARGS)

# The ansible-core matrix (tests/matrix, also run by `make test`): for each version, the units,
# site.yml on real servers and ansible-test sanity, in a virtualenv of
# requirements/ansible-core-X.Y.txt; the versions this machine's Python cannot run (2.20 and later
# on Python 3.11) in a Debian trixie container, hence the Docker engine.
MATRIX ?= 2.16 2.17 2.18 2.19 2.20 2.21

## matrix: units, site.yml and ansible-test sanity with each ansible-core of MATRIX (MATRIX=2.16 for one)
matrix: deps venv
	-molecule/images/start-dockerd.sh
	$(BIN)/pytest $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile) \
	  $(foreach version,$(MATRIX),tests/matrix/test_ansible_core_$(subst .,_,$(version)).py) $(PYTEST_ARGS)

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# The tests start real redis-server processes and ansible-test runs shellcheck: install
# both where they are missing (Debian/Ubuntu; as root). rsync: gitlab-ci-local's shell executor
# (tests/integration/test_gitlab_pipeline.py).
deps:
	@command -v redis-server >/dev/null && command -v shellcheck >/dev/null && command -v rsync >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server shellcheck rsync; }

clean:
	rm -rf $(VENV) build tests/output .pytest_cache

## bench: the benchmark of issue 5 (docs/benchmarks.md): table, bench/results/*.json and *.png; not part of `make test`
bench: deps venv $(VENV)/.bench-installed
	$(BIN)/python bench/run.py

## bench-quick: the bed, its profile (tasks, module executions) and the fleet section (20 and 60 local hosts), once each
bench-quick: deps venv $(VENV)/.bench-installed
	$(BIN)/python bench/run.py --quick

$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $@

# Molecule scenarios on local systemd containers (docs/molecule.md). They have their own
# virtualenv: molecule, its docker driver, testinfra and the `ansible` package (which bundles
# community.docker; Galaxy is not reachable), kept apart from the lean $(VENV) of `make test`.
# `make test` runs them too (tests/molecule), where Docker and this virtualenv are present.
MOLECULE_VENV ?= .venv-molecule
MOLECULE_SCENARIOS ?= single_host default versions

.PHONY: molecule molecule-env molecule-venv

## molecule: run every scenario (create, converge, idempotence, verify, destroy); MOLECULE_SCENARIOS=default for one
molecule: molecule-env
	@set -e; for scenario in $(MOLECULE_SCENARIOS); do \
	  PATH="$(CURDIR)/$(MOLECULE_VENV)/bin:$$PATH" MOLECULE_GLOB='molecule/*/molecule.yml' \
	    $(MOLECULE_VENV)/bin/molecule test -s $$scenario; \
	done

## molecule-env: docker.io and debootstrap (as root, when missing), a running dockerd, the molecule virtualenv
molecule-env: molecule-venv
	molecule/images/start-dockerd.sh

molecule-venv: $(MOLECULE_VENV)/.installed

$(MOLECULE_VENV)/.installed: requirements.txt requirements-molecule.txt
	$(PYTHON) -m venv $(MOLECULE_VENV)
	$(MOLECULE_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-molecule.txt
	touch $@
