"""The server role's instance model (plugins/plugin_utils/model.py): the play resolved once, one
host's instances keyed by name with their paths, logins and checks, the view with secrets joined by
name, and what single tasks make of the modules' results (guard, verify, drift, restarts, AOF).
"""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.runtime_config import REPLICATION_RULES
from ansible_collections.redisops.redis.plugins.plugin_utils import model
from ansible_collections.redisops.redis.plugins.plugin_utils.topology import TopologyError

DIRS = {"conf_dir": "/etc/redis", "data_dir": "/var/lib/redis", "log_dir": "/var/log/redis", "run_dir": "/run/redis"}
# The guide's bed, and an instance it retires.
INSTANCES = [dict(name="master", port=6379), dict(name="replica", port=6479, replicaof="localhost:master"),
             dict(name="old", port=6579, state="absent", data="remove")]
BED = {"localhost": dict(ansible_host="127.0.0.1", redis_server_password="pw", redis_server_instances=INSTANCES)}
GROUP = {
    "h1": {"ansible_host": "10.0.0.1", "redis_server_password": "pw1", "redis_server_bind": ["10.0.0.1"],
           "redis_server_masteruser": "replicator", "redis_server_replication_password": "rpw"},
    "h2": {"ansible_host": "10.0.0.2", "redis_server_password": "pw2", "redis_server_bind": ["10.0.0.2"],
           "redis_server_masteruser": "replicator", "redis_server_replication_password": "rpw",
           "redis_server_instances": [{"name": "main", "port": 6379, "replicaof": "h1"}]},
}


def safe_view(hostvars=None, host="localhost", defaults=None):
    hostvars = hostvars or BED
    return model.instance_model(model.play_model(hostvars, host, list(hostvars)), host, DIRS, defaults)


def secret_view(hostvars=None, host="localhost"):
    hostvars = hostvars or BED
    return model.with_secrets(safe_view(hostvars, host), model.play_secrets(hostvars, host, list(hostvars))[host])


def test_the_play_is_resolved_once_for_every_host_without_secrets():
    play = model.play_model(GROUP, "h1", ["h1", "h2"])
    assert sorted(play["hosts"]) == ["h1", "h2"]
    assert play["replica_labels"] == ["h2:main"]
    assert play["replication_rules"] == list(REPLICATION_RULES)
    assert "pw1" not in repr(play) and "rpw" not in repr(play)
    secrets = model.play_secrets(GROUP, "h1", ["h1", "h2"])
    assert secrets["h2"]["main"]["password"] == "pw2"
    assert secrets["h2"]["main"]["masterauth"] == "rpw"
    assert secrets["h1"]["main"]["replication_user"] == {"name": "replicator", "password": "rpw"}


def test_an_input_error_anywhere_fails_the_play_resolution():
    bad = dict(GROUP, h2=dict(GROUP["h2"], redis_server_instances=[{"name": "main", "port": 6379, "replicaof": "h9"}]))
    with pytest.raises(TopologyError, match="h9"):
        model.play_model(bad, "h1", ["h1", "h2"])


def test_the_play_model_keeps_the_retired_instances_apart():
    play, instances = model.play_model(BED, "localhost", list(BED)), safe_view()
    assert list(instances) == ["master", "replica"]
    retired = model.retired_model(play, "localhost", DIRS)
    assert list(retired) == ["old"]
    assert retired["old"]["data"] == "remove"
    assert retired["old"]["paths"]["main"] == "/etc/redis/redis-old.conf"
    assert retired["old"]["paths"]["data_dir"] == "/var/lib/redis/old"


def test_instances_are_keyed_by_name_with_their_paths():
    instances = safe_view()
    assert instances["replica"]["paths"] == {
        "main": "/etc/redis/redis-replica.conf", "live": "/etc/redis/redis-replica.live.conf",
        "previous": "/etc/redis/redis-replica.conf.previous", "data_dir": "/var/lib/redis/replica",
        "data_file": "/var/lib/redis/replica/dump.rdb", "aof_dir": "/var/lib/redis/replica/appendonlydir",
        "aof_file": "/var/lib/redis/replica/appendonly.aof", "log": "/var/log/redis/redis-replica.log",
        "pid": "/run/redis/redis-replica.pid"}


@pytest.mark.parametrize("config, data_file", [
    ({}, "dump.rdb"),
    ({"dbfilename": "custom.rdb"}, "custom.rdb"),
    ({"dbfilename": '"with space.rdb"'}, "with space.rdb"),
])
def test_the_data_file_is_the_instances_dbfilename(config, data_file):
    hostvars = {"localhost": dict(BED["localhost"], redis_server_config=config)}
    instances = safe_view(hostvars)
    assert instances["master"]["paths"]["data_file"] == "/var/lib/redis/master/" + data_file


def test_the_role_default_dbfilename_is_used_when_config_does_not_set_one():
    instances = safe_view(defaults={"dbfilename": "role.rdb", "appendonly": "no"})
    assert instances["master"]["paths"]["data_file"] == "/var/lib/redis/master/role.rdb"
    assert instances["master"]["appendonly"] is False


@pytest.mark.parametrize("config, appendonly", [({}, True), ({"appendonly": "no"}, False), ({"appendonly": True}, True),
                                                ({"appendonly": '"yes"'}, True)])
def test_appendonly_is_read_from_the_instances_directives(config, appendonly):
    hostvars = {"localhost": dict(BED["localhost"], redis_server_config=config)}
    instances = safe_view(hostvars)
    assert instances["master"]["appendonly"] is appendonly
    assert model.aof_instances(instances) == (["master", "replica"] if appendonly else [])


def test_an_instance_read_running_with_its_aof_on_needs_no_aof_turned_on():
    instances = safe_view()
    read = {"instances": [{"instance": "master", "replication": {"role": "master"}, "aof_enabled": True},
                          {"instance": "replica", "replication": {"role": "slave"}, "aof_enabled": False}]}
    assert model.aof_instances(instances, read) == ["replica"]
    # Not read (stopped, or a login refused): still passed on, aof_enable says what it finds.
    assert model.aof_instances(instances, {"instances": [{"instance": "master", "error": "refused"}]}) == ["master", "replica"]
    assert model.aof_instances(instances, {"skipped": True}) == ["master", "replica"]


def test_the_safe_view_holds_no_secret_and_the_secret_view_joins_them_by_name():
    instances, secret = safe_view(), secret_view()
    assert "pw" not in [value for item in instances.values() for value in item["login"].values()]
    assert "password" not in instances["master"] and "login_password" not in instances["master"]["check"]
    assert secret["replica"]["login"] == {"instance": "replica", "login_host": "127.0.0.1", "login_port": 6479,
                                          "login_password": "pw"}
    assert secret["replica"]["masterauth"] == "pw"
    assert secret["replica"]["check"]["login_password"] == "pw"
    # joined by name: a reordered secrets mapping gives the same view
    reordered = dict(reversed(list({"replica": {"password": "b"}, "master": {"password": "a"}}.items())))
    view = model.with_secrets(instances, reordered)
    assert view["master"]["password"] == "a" and view["replica"]["password"] == "b"


def test_the_check_item_of_each_instance():
    instances = safe_view()
    assert instances["replica"]["check"] == {
        "instance": "localhost:replica", "login_host": "127.0.0.1", "login_port": 6479, "role": "replica",
        "replicas": [], "min_replicas": 0, "log_file": "/var/log/redis/redis-replica.log",
        "master_host": "127.0.0.1", "master_port": 6379, "link_up": True, "read_only": True}
    assert instances["master"]["check"]["replicas"] == [{"host": "127.0.0.1", "port": 6479}]
    assert instances["master"]["check"]["min_replicas"] == 1


def test_restart_policy_is_no_for_a_master_with_replicas():
    instances = safe_view()
    assert instances["master"]["restart_policy"] == "no"
    assert instances["replica"]["restart_policy"] == "on-failure"


def test_live_items_gate_acl_settings_and_live_defaults_on_the_server():
    secret = secret_view(GROUP, "h2")
    with_acl = model.live_items(secret, "6.2.5")
    assert with_acl == [{"instance": "main", "login_host": "10.0.0.2", "login_port": 6379, "login_password": "pw2",
                         "role": "replica", "config": {"replica-read-only": True, "masteruser": "replicator"},
                         "secret_config": {"requirepass": "pw2", "masterauth": "rpw"},
                         "acl_users": [{"name": "replicator", "password": "rpw", "rules": list(REPLICATION_RULES)}],
                         "master_host": "10.0.0.1", "master_port": 6379}]
    without = model.live_items(secret, "5.0.14")[0]
    assert without["config"] == {"replica-read-only": True} and without["acl_users"] == []
    # From 7: the replica count the inventory gives an instance, unless its config sets it.
    on_seven = model.live_items(secret_view(), {"flavor": "valkey", "version": "8.1.1"})
    assert [item["config"]["repl-diskless-sync-max-replicas"] for item in on_seven] == ["1", "0"]


def test_read_items_ask_for_pending_restarts_and_client_writes_of_replicas():
    secret = secret_view()
    items = model.read_items(secret)
    assert [(item["instance"], item["config_file"], item["count_client_writes"]) for item in items] == [
        ("master", "/etc/redis/redis-master.conf", False), ("replica", "/etc/redis/redis-replica.conf", True)]


def test_extra_directives_once():
    hostvars = {"localhost": dict(BED["localhost"], redis_server_config={"maxmemory": "1mb", "io-threads": "2"})}
    instances = safe_view(hostvars)
    assert model.extra_directives(instances) == ["maxmemory", "io-threads"]


REPLICA_STATE = {"role": "replica", "master_port": 6379, "replica_repl_offset": 500, "master_replid": "a" * 40}


def read(**results):
    return {"instances": [dict(result, instance=name) for name, result in results.items()]}


def test_the_reads_results_by_name():
    result = read(master={"replication": {"role": "master"}, "pending_restart": [{"directive": "port"}]},
                  replica={"error": "refused", "login_refused": True})
    assert model.answering(result) == ["master"]
    assert model.refused_logins(result) == ["replica"]
    assert model.pending_restarts(result) == {"master": [{"directive": "port"}]}
    assert model.answering({}) == [] and model.pending_restarts(None) == {}


def test_unknown_directives_are_refused_naming_instance_and_server():
    hostvars = {"localhost": dict(BED["localhost"], redis_server_instances=[
        {"name": "master", "port": 6379}, {"name": "extra", "port": 1, "config": {"no-such": "1"}}])}
    instances = safe_view(hostvars)
    found = model.guard_findings(instances, "localhost", read(master={
        "server": {"name": "redis", "version": "7.0.15"}, "replication": {"role": "master"},
        "unknown_directives": ["no-such"]}))
    assert found == ["Instance 'extra' of host 'localhost': redis 7.0.15 does not know no-such (set in "
                     "redis_server_config or the instance's config).\nNothing was changed. Fix: remove the "
                     "directive(s), or install a server version that has them."]


def test_nothing_to_refuse_on_a_converged_host():
    instances = safe_view()
    result = read(master={"server": {}, "replication": {"role": "master"}},
                  replica={"server": {}, "replication": REPLICA_STATE, "promotion": {"holds_writes": False}})
    assert model.guard_findings(instances, "localhost", result) == []


def test_a_promoted_replica_with_writes_is_refused():
    instances = safe_view()
    result = read(master={"replication": {"role": "master"}},
                  replica={"replication": {"role": "master", "connected_replicas": 0},
                           "promotion": {"holds_writes": True, "summary": "3 client write(s)"}})
    found = model.guard_findings(instances, "localhost", result)
    assert len(found) == 1
    assert found[0].startswith("Instance 'replica' of host 'localhost' (127.0.0.1:6479) is a master now, with 3 "
                               "client write(s), but the inventory says it replicates from 127.0.0.1:6379.")
    assert "redis_server_force_topology=true" in found[0]


def test_a_promoted_replica_is_compared_with_its_inventory_master_on_another_host():
    instances = safe_view(GROUP, "h2")
    result = read(main={"replication": {"role": "master", "connected_replicas": 0, "master_replid2": "b" * 40,
                                        "second_repl_offset": 100},
                        "promotion": {"holds_writes": False, "summary": "no write"}})
    assert model.guard_hosts(instances, result) == ["h1"]
    # the old master replicates from the promoted instance now: it does not hold its history
    live = {"h1": [{"instance": "main", "replication": {"role": "replica", "master_port": 6379}}]}
    found = model.guard_findings(instances, "h2", result, live)
    assert len(found) == 1 and "does not hold all it had then" in found[0]


def test_a_failover_the_inventory_does_not_know_is_refused():
    instances = safe_view()
    record = {"master": {"label": "localhost:replica", "address": "127.0.0.1", "port": 6479},
              "inventory_changes": ["remove replicaof from localhost:replica"]}
    found = model.guard_findings(instances, "localhost", read(), record=record, record_path="/etc/redis/redis-failover.yml",
                                 replica_labels=["localhost:replica"])
    assert found == ["playbooks/failover.yml promoted localhost:replica (127.0.0.1:6479) to master "
                     "(/etc/redis/redis-failover.yml on localhost), but the inventory still says it is a replica. "
                     "Nothing was changed. Fix: update redis_server_instances as the record says (remove replicaof "
                     "from localhost:replica), or set redis_server_force_topology=true to overwrite the promoted "
                     "data with the inventory's."]
    assert model.guard_findings(instances, "localhost", read(), record=record, replica_labels=[]) == []


def test_a_down_master_is_checked_against_its_custom_data_file():
    hostvars = {"localhost": dict(BED["localhost"], redis_server_config={"dbfilename": "custom.rdb"})}
    instances = safe_view(hostvars)
    result = read(master={"error": "Connection refused"}, replica={"replication": REPLICA_STATE})
    assert model.down_master_files(instances, result) == [
        {"name": "master", "path": "/var/lib/redis/master/custom.rdb"}]
    behind = [{"name": "master", "path": "/var/lib/redis/master/custom.rdb", "exists": True,
               "repl_id": "a" * 40, "repl_offset": 100}]
    found = model.guard_findings(instances, "localhost", result, data_files=behind)
    assert len(found) == 1 and "Master 'localhost:master'" in found[0] and "400 byte(s) behind" in found[0]
    level = [dict(behind[0], repl_offset=500)]
    assert model.guard_findings(instances, "localhost", result, data_files=level) == []


def test_aof_paths_and_rdb_only():
    hostvars = {"localhost": dict(BED["localhost"], redis_server_config={"dbfilename": "custom.rdb"})}
    instances = safe_view(hostvars)
    paths = model.aof_paths(instances, ["master", "unknown"])
    assert [(item["kind"], item["path"]) for item in paths] == [
        ("rdb", "/var/lib/redis/master/custom.rdb"), ("aof", "/var/lib/redis/master/appendonlydir"),
        ("aof", "/var/lib/redis/master/appendonly.aof")]
    assert model.rdb_only([paths[0]]) == ["master"]
    assert model.rdb_only([paths[0], paths[1]]) == []
    assert model.rdb_only([]) == []


def test_restart_instances_by_path_not_position():
    instances = safe_view()
    written = {"files": [{"path": "/etc/redis/redis-replica.conf", "restart": True},
                         {"path": "/etc/redis/redis-master.live.conf", "restart": False},
                         {"path": "/etc/redis/redis-master.conf", "restart": False}]}
    assert [item["name"] for item in model.restart_instances(instances, written)] == ["replica"]
    assert [item["name"] for item in model.restart_instances(instances, written, ["master"])] == ["master", "replica"]
    tls = {"files": [{"path": "/etc/redis/tls/redis.crt", "restart": True}]}
    assert [item["name"] for item in model.restart_instances(instances, tls)] == ["master", "replica"]
    assert len(model.restart_instances(instances, None, all_instances=True)) == 2
    assert model.restart_instances(instances, None) == []


def test_layout_lists_directories_and_files_by_instance():
    secret = secret_view()
    rendered = {"master": {"main": "M", "live": "ML"}, "replica": {"main": "R", "live": "RL"}}
    result = model.layout(secret, rendered, [{"path": "/etc/redis", "owner": "root"}], "redis", "redis",
                          tls_files=[{"path": "/etc/redis/tls/ca.crt", "content": "CA"}], tls_dir="/etc/redis/tls")
    assert [item["path"] for item in result["directories"]] == [
        "/etc/redis", "/var/lib/redis/master", "/var/lib/redis/replica", "/etc/redis/tls"]
    assert result["directories"][0]["only_create"] is True
    files = {item["path"]: item for item in result["files"]}
    assert files["/etc/redis/redis-replica.conf"]["content"] == "R"
    assert files["/etc/redis/redis-replica.conf"]["previous"] == "/etc/redis/redis-replica.conf.previous"
    assert files["/etc/redis/redis-replica.live.conf"]["secret_content"] == "RL"
    assert files["/etc/redis/tls/ca.crt"]["checksum_header"] is True
    assert all(item["mode"] == "0640" and item["owner"] == "root" for item in result["files"])


def test_drift_per_instance():
    instances = safe_view()
    file_drift = {"files": [{"path": "/etc/redis/redis-replica.conf", "changed": True, "restart": True},
                            {"path": "/etc/redis/redis-master.live.conf", "changed": False}]}
    pending = {"master": [{"directive": "maxmemory", "file": "64mb", "running": "0"}]}
    runtime = {"instances": [{"instance": "master", "commands": []},
                             {"instance": "replica", "commands": ["CONFIG SET masterauth ********"]}]}
    assert model.instance_drift(instances, file_drift, pending, runtime) == {
        "master": ["restart pending: maxmemory 64mb in the file, 0 running"],
        "replica": ["restart pending: file differs: /etc/redis/redis-replica.conf",
                    "would run: CONFIG SET masterauth ********"]}
    failed = model.instance_drift(instances, {}, {}, {"failed": True, "msg": "refused"})
    assert failed["master"] == ["live settings cannot be compared: refused"]


def test_a_main_file_only_sentinel_rewrote_is_no_drift_in_a_sentinel_group():
    instances = safe_view()
    rewritten = {"path": "/etc/redis/redis-replica.conf", "changed": True, "restart": False, "rewritten": True}
    edited = {"path": "/etc/redis/redis-master.conf", "changed": True, "restart": False, "rewritten": False}
    live = {"path": "/etc/redis/redis-replica.live.conf", "changed": True, "restart": False, "rewritten": False}
    failover = {"path": "/etc/redis/redis-master.live.conf", "changed": True, "restart": False, "failover_only": True}
    file_drift = {"files": [rewritten, edited, live, failover]}
    runtime = {"instances": [{"instance": "master", "commands": []}, {"instance": "replica", "commands": []}]}
    members = ["localhost:master", "localhost:replica"]
    drift = model.instance_drift(instances, file_drift, {}, runtime, sentinel_members=members, host="localhost")
    assert drift == {"master": ["file differs: /etc/redis/redis-master.conf"],
                     "replica": ["file differs: /etc/redis/redis-replica.live.conf"]}
    assert model.sentinel_rewrites(instances, file_drift, members, "localhost") == [
        "master: /etc/redis/redis-master.live.conf differs only in what Sentinel's failover changes (replicaof, "
        "the replica count); site.yml writes it back without a restart",
        "replica: /etc/redis/redis-replica.conf rewritten by CONFIG REWRITE (Sentinel); site.yml writes it back "
        "without a restart"]
    # outside a Sentinel group (or another host's members) the same file is drift, as before
    for members, host in (None, "localhost"), (["other:replica"], "localhost"), (members, "other"):
        outside = model.instance_drift(instances, file_drift, {}, runtime, sentinel_members=members, host=host)
        assert "file differs: /etc/redis/redis-replica.conf" in outside["replica"]
        assert "file differs: /etc/redis/redis-master.live.conf" in outside["master"]
        assert model.sentinel_rewrites(instances, file_drift, members, host) == []
    # the replica count follows the topology: live, not drift in the group; other commands are drift
    runtime = {"instances": [{"instance": "master", "commands": ["CONFIG SET repl-diskless-sync-max-replicas 0"]},
                             {"instance": "replica", "commands": ["CONFIG SET repl-diskless-sync-max-replicas 1",
                                                                  "CONFIG SET masterauth ********"]}]}
    drift = model.instance_drift(instances, {}, {}, runtime, sentinel_members=members, host="localhost")
    assert drift == {"master": [], "replica": ["would run: CONFIG SET masterauth ********"]}
    assert model.sentinel_rewrites(instances, {}, members, "localhost", runtime) == [
        "master: CONFIG SET repl-diskless-sync-max-replicas 0 follows the topology the Sentinels name; site.yml runs it",
        "replica: CONFIG SET repl-diskless-sync-max-replicas 1 follows the topology the Sentinels name; site.yml runs it"]
    outside = model.instance_drift(instances, {}, {}, runtime)
    assert outside["master"] == ["would run: CONFIG SET repl-diskless-sync-max-replicas 0"]
    assert model.sentinel_rewrites(instances, {}, None, "localhost", runtime) == []
    # a file that needs a restart is never only a rewrite
    file_drift = {"files": [dict(rewritten, restart=True)]}
    runtime = {"instances": [{"instance": "master", "commands": []}, {"instance": "replica", "commands": []}]}
    drift = model.instance_drift(instances, file_drift, {}, runtime, sentinel_members=members, host="localhost")
    assert drift["replica"] == ["restart pending: file differs: /etc/redis/redis-replica.conf"]


def test_verify_rows():
    instances = safe_view()
    outcome = {"instances": [
        {"instance": "localhost:replica", "state": {"role": "replica", "master_host": "127.0.0.1", "master_port": 6379,
                                                    "master_link_status": "up"}},
        {"instance": "localhost:master", "state": {"role": "master", "replicas": [
            {"ip": "127.0.0.1", "port": 6479, "state": "online"}]}}]}
    rows = model.verify_rows(instances, "localhost", outcome)
    assert [row["summary"] for row in rows] == [
        "master 127.0.0.1:6379 role=master replicas=[127.0.0.1:6479 online]",
        "replica 127.0.0.1:6479 role=replica master=127.0.0.1:6379 link=up"]
    assert all(row["ok"] for row in rows)
    failed = {"failed": True, "msg": "2 mismatches", "instances": [
        {"instance": "localhost:master", "msg": "no replica", "mismatches": ["a", "b"]}]}
    rows = model.verify_rows(list(instances.values())[:1], "localhost", failed, {"master": ["file differs: x"]},
                             [{"name": "ghost", "msg": "instance ghost runs"}])
    assert rows[0]["summary"] == "master 127.0.0.1:6379 FAILED: no replica DRIFT: file differs: x"
    assert rows[0]["mismatches"] == ["a", "b", "file differs: x"] and rows[0]["ok"] is False
    assert rows[1] == {"host": "localhost", "instance": "ghost", "port": None, "role": None, "ok": False,
                       "mismatches": ["instance ghost runs"], "summary": "ghost DRIFT: instance ghost runs"}
    skipped = model.verify_rows(instances, "localhost", {"skipped": True})
    assert skipped[0]["summary"].endswith("not checked: check mode predicts changes in the play") and skipped[0]["ok"]


class CountingHostvars(dict):
    """hostvars that records which hosts were read (each read builds that host's variables)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read = []

    def __getitem__(self, name):
        self.read.append(name)
        return super().__getitem__(name)


def test_the_filters_read_only_the_hosts_the_guard_needs_and_report_input_errors():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.redisops.redis.plugins.filter.server_model import FilterModule

    filters = FilterModule().filters()
    instances = safe_view(GROUP, "h2")
    hostvars = CountingHostvars(h1={"__redis_server_guard_info": {"instances": []}}, h3={}, h4={})
    converged = read(main={"replication": REPLICA_STATE})
    assert filters["guard_findings"](instances, "h2", converged, hostvars) == []
    assert hostvars.read == []
    promoted = read(main={"replication": {"role": "master", "connected_replicas": 0},
                          "promotion": {"holds_writes": True, "summary": "1 client write(s)"}})
    assert len(filters["guard_findings"](instances, "h2", promoted, hostvars)) == 1
    assert hostvars.read == ["h1"]
    with pytest.raises(AnsibleFilterError, match="Invalid Redis topology"):
        filters["server_model"]({"h1": {"redis_server_instances": [{"name": "Bad", "port": 1}]}}, "h1", ["h1"])
    secrets = filters["server_model"](GROUP, "h1", ["h1", "h2"], secrets=True)
    assert filters["instance_secrets"](instances, secrets, "h2")["main"]["password"] == "pw2"


def test_instance_logins_are_keyed_by_name_with_the_password_only_in_the_view_with_secrets():
    safe = safe_view()
    assert model.instance_logins(safe)["replica"] == safe["replica"]["login"]
    assert "login_password" not in model.instance_logins(safe)["replica"]
    assert {name: login["login_password"] for name, login in model.instance_logins(secret_view()).items()} == {
        name: item["password"] for name, item in secret_view().items()}


def test_process_items_carry_each_instance_s_files_and_leave_out_the_running_ones():
    items = model.process_items(safe_view())
    assert items[0] == {"name": "master", "config_file": "/etc/redis/redis-master.conf",
                        "pid_file": DIRS["run_dir"] + "/redis-master.pid", "log_file": "/var/log/redis/redis-master.log",
                        "login_host": "127.0.0.1", "login_port": 6379}
    assert [item["name"] for item in model.process_items(safe_view(), skip=["master"])] == ["replica"]
    assert model.process_items(safe_view(), skip=["master", "replica"]) == []


def test_restart_instances_leave_out_those_the_run_has_just_started():
    instances = safe_view()
    written = {"files": [{"path": item["paths"]["main"], "restart": True} for item in instances.values()]}
    assert [item["name"] for item in model.restart_instances(instances, written, started=["master"])] == ["replica"]
    assert model.restart_instances(instances, written, all_instances=True, started=["master", "replica"]) == []


def test_a_pending_restart_read_from_a_file_the_run_wrote_back_is_not_one():
    # After CONFIG REWRITE the run found the server's own file, and wrote the role's back without a restart.
    instances = safe_view()
    written = {"files": [{"path": instances["replica"]["paths"]["main"], "changed": True, "restart": False}]}
    assert model.restart_instances(instances, written, ["replica"]) == []
    assert [item["name"] for item in model.restart_instances(instances, {"files": []}, ["replica"])] == ["replica"]


def test_check_items_take_the_check_of_each_item_given_with_its_password():
    secret = secret_view()
    derived = [dict(safe_view()["master"], check=dict(safe_view()["master"]["check"], replicas=[], min_replicas=0))]
    assert model.check_items(derived, secret) == [dict(derived[0]["check"], login_password=secret["master"]["password"])]


RUNTIME = {"instances": [
    {"instance": "master", "changed": False, "commands": []},
    {"instance": "replica", "changed": True, "commands": ["CONFIG SET masterauth ********", "REPLICAOF 127.0.0.1 7102"],
     "diff": {"before": {"masterauth": "********", "replicaof": "127.0.0.1 7101", "replica-read-only": "yes",
                         "requirepass": "********"},
              "after": {"masterauth": "******** (changed)", "replicaof": "127.0.0.1 7102",
                        "replica-read-only": "yes", "requirepass": "******** (unchanged)"}}},
    {"instance": "other", "failed": True, "msg": "refused", "commands": ["CONFIG SET x 1"]},
]}


def test_live_plan_names_each_instance_setting_and_command():
    assert model.live_plan(RUNTIME, True, ["new"]) == [
        "replica: masterauth: ******** -> ******** (changed)",
        "replica: replicaof: 127.0.0.1 7101 -> 127.0.0.1 7102",
        "replica: would run: CONFIG SET masterauth ********",
        "replica: would run: REPLICAOF 127.0.0.1 7102",
        "new: not running yet: it starts with the settings of its live file (no live command)",
    ]


def test_live_plan_of_a_run_says_ran_and_shows_nothing_without_commands():
    assert model.live_plan(RUNTIME, False)[2:] == ["replica: ran: CONFIG SET masterauth ********",
                                                   "replica: ran: REPLICAOF 127.0.0.1 7102"]
    # Without diff mode there are only the commands; a skipped task (no instances) shows nothing.
    no_diff = {"instances": [dict(RUNTIME["instances"][1], diff=None)]}
    assert model.live_plan(no_diff, True) == ["replica: would run: CONFIG SET masterauth ********",
                                              "replica: would run: REPLICAOF 127.0.0.1 7102"]
    assert model.live_plan({"skipped": True}, True) == []
    assert model.live_plan(None) == []
