"""The molecule scenario `sentinel` (molecule/sentinel, issue 10): automatic failover under systemd.

Three containers, a master and two replicas with one Sentinel each, deployed by site.yml;
idempotence and verify; then the side effect stops the master's container, the Sentinels promote a
replica holding every write acknowledged with WAIT 1, the container starts again without starting
its instance, site.yml starts it as a replica of the new master (its log shows no master turned
replica); verify and idempotence again. Run twice from the same scenario files: Redis on bookworm,
and Valkey on trixie (REDISOPS_SENTINEL_SUITE / REDISOPS_SENTINEL_FLAVOR).

The helpers (molecule runner, Docker check, lock) are tests/molecule/test_scenarios.py's: skipped
without Docker or the molecule virtualenv, failing instead under CI=true. Full output in
tests/output/molecule/sentinel-FLAVOR.log.
"""

from __future__ import annotations

import os
import re
import sys

import pytest

# pytest imports test files with --import-mode=importlib (pytest.ini): their directory is not on sys.path.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scenarios import GREEN_GLOB, LOG_DIR, docker_engine, molecule, tail  # noqa: E402,F401 pylint: disable=unused-import,wrong-import-position

SCENARIO = "sentinel"
FLAVORS = {
    "redis": {"REDISOPS_SENTINEL_SUITE": "bookworm", "REDISOPS_SENTINEL_FLAVOR": "redis"},
    "valkey": {"REDISOPS_SENTINEL_SUITE": "trixie", "REDISOPS_SENTINEL_FLAVOR": "valkey"},
}


@pytest.mark.usefixtures("docker_engine")
@pytest.mark.parametrize("flavor", sorted(FLAVORS))
def test_sentinel_failover_scenario(flavor, monkeypatch):
    """molecule test -s sentinel: converge, idempotence, verify, the master's container stopped
    and failed over, site.yml with it back, verify, idempotence."""
    for name, value in FLAVORS[flavor].items():
        monkeypatch.setenv(name, value)
    log_name = "%s-%s" % (SCENARIO, flavor)
    log = os.path.join(LOG_DIR, log_name + ".log")
    if os.path.exists(log):
        os.unlink(log)
    try:
        code, output = molecule(["test", "-s", SCENARIO, "--destroy", "always"], GREEN_GLOB, log_name)
        assert code == 0, "molecule test -s %s (%s) failed (full output in %s):\n%s" % (SCENARIO, flavor, log, tail(output, 200))
        assert re.search(r"%s\s*:\s*actions=\d+\s+successful=\d+\s+.*failed=0" % SCENARIO, output), tail(output)
        # The side effect ran to its end, and the second idempotence came after it.
        assert "TASK [Wait until it holds every acknowledged key]" in output, tail(output, 200)
        assert re.search(r"\[%s > side_effect\] Executed: Successful" % SCENARIO, output), tail(output, 200)
        assert len(re.findall(r"\[%s > idempotence\] Executed: Successful" % SCENARIO, output)) == 2, tail(output, 200)
        assert len(re.findall(r"\[%s > verify\] Executed: Successful" % SCENARIO, output)) == 2, tail(output, 200)
    finally:
        code, output = molecule(["destroy", "-s", SCENARIO], GREEN_GLOB, log_name)
        assert code == 0, "molecule destroy -s %s failed:\n%s" % (SCENARIO, tail(output))
