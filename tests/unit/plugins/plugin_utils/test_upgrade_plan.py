"""The decisions of an upgrade (plugins/plugin_utils/upgrade.py): which masters the rolling restart
leaves to the switchover, which replica replaces them, and the summary of programs before and after."""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.plugins.plugin_utils import model, upgrade

DIRS = {"conf_dir": "/etc/redis", "data_dir": "/var/lib/redis", "log_dir": "/var/log/redis", "run_dir": "/run/redis"}
GROUP = {
    "h1": dict(ansible_host="10.0.0.1", redis_server_password="pw", redis_server_instances=[
        dict(name="main", port=6379), dict(name="cache", port=6380)]),
    "h2": dict(ansible_host="10.0.0.2", redis_server_password="pw", redis_server_instances=[
        dict(name="main", port=6379, replicaof="h1:main")]),
    "h3": dict(ansible_host="10.0.0.3", redis_server_password="pw", redis_server_instances=[
        dict(name="main", port=6379, replicaof="h1:main")]),
}
BINARY = {"directive": "binary", "file": "redis-server 7.0.15 build b", "running": "redis-server 7.0.15 build a",
          "msg": "runs redis-server 7.0.15 build a, the installed binary is redis-server 7.0.15 build b: a restart "
                 "runs the installed one"}


def instances():
    return {host: model.instance_model(model.play_model(GROUP, host, list(GROUP)), host, DIRS) for host in GROUP}


def read(*entries):
    return {"instances": [dict(instance=name, replication={}, pending_restart=pending) for name, pending in entries]}


def test_only_masters_with_replicas_on_a_replaced_program_are_left_to_the_switchover():
    model_h1 = instances()["h1"]
    assert upgrade.switchover_masters(model_h1, read(("main", [BINARY]), ("cache", [BINARY]))) == ["main"]
    assert upgrade.switchover_masters(model_h1, read(("main", [{"directive": "maxmemory"}]))) == []
    assert upgrade.switchover_masters(model_h1, {}) == []


def test_the_first_replica_that_answered_replaces_the_master():
    reads = {"h1": read(("main", [BINARY])), "h2": read(("main", [])), "h3": read(("main", []))}
    plan = upgrade.switchover_target(instances(), reads)
    assert plan["master"] == "h1:main" and plan["target"] == "h2:main"
    assert plan["msg"] == "h1:main " + BINARY["msg"] + "; h2:main replaces it as master through the zero-loss switchover"
    down = dict(reads, h2={"instances": [{"instance": "main", "error": "Connection refused"}]})
    assert upgrade.switchover_target(instances(), down)["target"] == "h3:main"
    assert upgrade.switchover_target(instances(), {"h1": read(("main", []))}) is None


def test_no_replica_to_switch_to_or_two_masters_are_refused_naming_them():
    nobody = {"h1": read(("main", [BINARY]))}
    with pytest.raises(upgrade.UpgradeError, match=r"master h1:main runs a replaced server program, but none of its "
                                                   r"replicas \(h2:main, h3:main\) answered"):
        upgrade.switchover_target(instances(), nobody)
    two = dict(GROUP, h4=dict(ansible_host="10.0.0.4", redis_server_password="pw", redis_server_instances=[
        dict(name="other", port=6379)]), h5=dict(ansible_host="10.0.0.5", redis_server_password="pw",
                                                 redis_server_instances=[dict(name="main", port=6379, replicaof="h4")]))
    models = {host: model.instance_model(model.play_model(two, host, list(two)), host, DIRS) for host in two}
    reads = {"h1": read(("main", [BINARY])), "h4": read(("other", [BINARY]))}
    with pytest.raises(upgrade.UpgradeError, match=r"2 masters run a replaced server program \(h1:main, h4:other\)"):
        upgrade.switchover_target(models, reads)


def server(build, run_id, role="master"):
    return {"server": {"name": "redis", "version": "7.0.15", "build_id": build, "run_id": run_id},
            "replication": {"role": role}}


def test_summary_says_what_ran_before_and_runs_after():
    before = {"instances": [dict(server("a", "r1"), instance="main"), dict(server("a", "r2"), instance="cache"),
                            {"instance": "new", "error": "Connection refused"}]}
    after = {"instances": [dict(server("b", "r3", "replica"), instance="main"), dict(server("a", "r2"), instance="cache"),
                           dict(server("b", "r4"), instance="new")]}
    assert upgrade.summary("h1", before, after) == [
        "h1:main: redis-server 7.0.15 build a -> redis-server 7.0.15 build b, restarted (replica)",
        "h1:cache: redis-server 7.0.15 build a, not restarted (master)",
        "h1:new: not running before, redis-server 7.0.15 build b after (master)"]
    gone = {"instances": [{"instance": "main", "error": "Connection refused"}]}
    assert upgrade.summary("h1", before, gone)[0] == (
        "h1:main: redis-server 7.0.15 build a before, not running after (Connection refused)")
