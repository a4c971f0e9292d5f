"""Why a server did not start, from logs recorded from Redis 7.0.15 (tests/unit/fixtures/logs)."""

from __future__ import annotations

import os

from ansible_collections.redisops.redis.plugins.plugin_utils.restart import start_failure

LOGS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "fixtures", "logs")


def log(name):
    with open(os.path.join(LOGS, name)) as handle:
        return handle.read()


def test_a_taken_port_is_named():
    assert start_failure(log("redis-7.0-port-taken.log")) == (
        "Warning: Could not create server TCP listening socket 127.0.0.1:17399: bind: Address already in use; "
        "Failed listening on port 17399 (TCP), aborting.")


def test_only_the_last_start_counts_and_environment_warnings_are_left_out():
    """The log holds a good start (with the overcommit WARNING), its shutdown, then a failed start."""
    assert start_failure(log("redis-7.0-bind-unavailable.log")) == (
        "Warning: Could not create server TCP listening socket 192.0.2.1:17397: bind: Cannot assign requested "
        "address; Failed listening on port 17397 (TCP), aborting.")


def test_a_log_of_a_good_start_and_stop_names_nothing():
    good = "".join(log("redis-7.0-bind-unavailable.log").splitlines(True)[:11])
    assert "shutdown" in good and start_failure(good) == ""
    assert start_failure("") == ""
