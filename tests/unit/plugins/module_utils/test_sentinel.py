# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sentinel replies, plans and the group check (module_utils/sentinel.py), over recorded replies."""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.plugins.module_utils import sentinel

# SENTINEL MASTERS of redis-sentinel 7.0.15, raw (no redis-py callback).
MASTERS = [['name', 'g', 'ip', '127.0.0.1', 'port', '16001', 'runid', '5e1360b5', 'flags', 'master',
            'link-pending-commands', '0', 'down-after-milliseconds', '30000', 'config-epoch', '0',
            'num-slaves', '0', 'num-other-sentinels', '1', 'quorum', '1', 'failover-timeout', '180000',
            'parallel-syncs', '1']]
# The part of a sentinel.conf that Sentinel itself rewrote.
CONF = """port 16102
requirepass "spw"
sentinel myid 3a3dbb0b4c523819728f0bc4a5f79cebd96eb6fd
sentinel monitor g 127.0.0.1 16001 1
sentinel auth-pass g pw
sentinel auth-user g sentinel
sentinel auth-pass other "p w\\"x\\x41"
sentinel auth-pass raw a\\b#c
sentinel auth-pass spaced two  words
"""


def current():
    return {entry["name"]: entry for entry in sentinel.entries(MASTERS)}


def wanted(**overrides):
    item = dict(name="g", host="127.0.0.1", port=16001, quorum=1, down_after_milliseconds=30000,
                failover_timeout=180000, parallel_syncs=1, auth_user="sentinel", auth_pass="pw")
    item.update(overrides)
    return item


def test_entries_and_flags():
    entry = current()["g"]
    assert entry["quorum"] == "1"
    assert sentinel.address(entry) == "127.0.0.1:16001"
    assert sentinel.flags({"flags": "master,s_down,o_down"}) == ["master", "s_down", "o_down"]
    assert sentinel.pairs({"a": 1}) == {"a": 1}


@pytest.mark.parametrize("line, args", [
    ('sentinel auth-pass g pw', ["sentinel", "auth-pass", "g", "pw"]),
    ('sentinel auth-pass g "p w\\"x\\x41"', ["sentinel", "auth-pass", "g", 'p w"xA']),
    ("a 'b c'", ["a", "b c"]),
    ("   ", []),
])
def test_split_conf_line(line, args):
    assert sentinel.split_conf_line(line) == args


def test_conf_auth_reads_what_sentinel_uses():
    assert sentinel.conf_auth(CONF) == {"g": {"auth_pass": "pw", "auth_user": "sentinel"},
                                        "other": {"auth_pass": 'p w"xA'},
                                        "raw": {"auth_pass": "a\\b#c"},
                                        "spaced": {"auth_pass": "two  words"}}


def test_plan_nothing_when_in_line():
    assert sentinel.plan_monitors(current(), [wanted()], sentinel.conf_auth(CONF)) == []


def test_plan_monitors_a_new_group_with_its_settings_masked():
    commands = sentinel.plan_monitors({}, [wanted(name="new", auth_pass="secret")], {})
    shown = [command["shown"] for command in commands]
    assert shown[0] == "SENTINEL MONITOR new 127.0.0.1 16001 1"
    assert "SENTINEL SET new down-after-milliseconds 30000" in shown
    assert "SENTINEL SET new auth-pass ********" in shown
    assert not any("secret" in text for text in shown)
    assert ["SENTINEL", "SET", "new", "auth-pass", "secret"] in [command["args"] for command in commands]


def test_plan_never_remonitors_a_group_after_a_failover():
    # The inventory's master is 16001; the Sentinel follows the promoted 16002: nothing to do.
    moved = current()
    moved["g"] = dict(moved["g"], port="16002")
    assert sentinel.plan_monitors(moved, [wanted()], sentinel.conf_auth(CONF)) == []


def test_plan_sets_changed_settings_and_removes_absent_groups():
    shown = [c["shown"] for c in sentinel.plan_monitors(
        current(), [wanted(quorum=2, parallel_syncs=3, down_after_milliseconds=None)], sentinel.conf_auth(CONF))]
    assert shown == ["SENTINEL SET g quorum 2", "SENTINEL SET g parallel-syncs 3"]
    assert [c["shown"] for c in sentinel.plan_monitors(current(), [wanted(state="absent")])] == ["SENTINEL REMOVE g"]
    assert sentinel.plan_monitors({}, [wanted(state="absent")]) == []


def test_plan_auth_changes():
    auth = sentinel.conf_auth(CONF)
    assert [c["shown"] for c in sentinel.plan_monitors(current(), [wanted(auth_pass="new")], auth)] == [
        "SENTINEL SET g auth-pass ********"]
    # Unknown credentials (no config file): set again; none wanted and none known: nothing.
    assert len(sentinel.plan_monitors(current(), [wanted()], None)) == 2
    assert sentinel.plan_monitors(current(), [wanted(auth_user="", auth_pass="")], {}) == []
    # Credentials to remove: set to empty.
    assert [c["args"] for c in sentinel.plan_monitors(current(), [wanted(auth_user="", auth_pass="")], auth)] == [
        ["SENTINEL", "SET", "g", "auth-user", ""], ["SENTINEL", "SET", "g", "auth-pass", ""]]


def test_plan_settings():
    now = {"resolve-hostnames": "no", "announce-hostnames": "no", "announce-ip": "", "announce-port": "0"}
    assert sentinel.plan_settings(now, {"resolve-hostnames": False, "announce-ip": None}) == []
    wanted = {"resolve-hostnames": True, "announce-port": 0, "announce-ip": "10.0.0.5"}
    assert [c["shown"] for c in sentinel.plan_settings(now, wanted)] == [
        "SENTINEL CONFIG SET resolve-hostnames yes", "SENTINEL CONFIG SET announce-ip 10.0.0.5"]


def test_views_never_show_a_password():
    view = sentinel.monitor_view(current(), sentinel.conf_auth(CONF))
    assert view == {"g": {"master": "127.0.0.1:16001", "quorum": 1, "down_after_milliseconds": 30000,
                          "failover_timeout": 180000, "parallel_syncs": 1, "auth_pass": "(set)",
                          "auth_user": "sentinel"}}
    after = sentinel.predicted_view(view, [wanted(quorum=2, auth_pass="x"), wanted(name="new", auth_pass="")])
    assert after["g"]["quorum"] == 2 and after["g"]["auth_pass"] == "(set)"
    assert after["new"]["master"] == "127.0.0.1:16001" and "pw" not in repr(after)
    assert sentinel.predicted_view(view, [wanted(state="absent")]) == {}


def state(port="16001", master_flags="master", replicas=("127.0.0.1:16002",), others=2, ok=True):
    entry = {"name": "g", "ip": "127.0.0.1", "port": port, "flags": master_flags}
    return {"master": entry,
            "replicas": [dict(zip(("ip", "port"), r.split(":"))) for r in replicas],
            "sentinels": [{"ip": "127.0.0.1", "port": str(26380 + n)} for n in range(others)],
            "ckquorum": "OK 3 usable Sentinels" if ok else "NOQUORUM 1 usable Sentinels", "ckquorum_ok": ok}


MEMBERS = ["127.0.0.1:16001", "127.0.0.1:16002"]


def test_check_group_passes():
    agreed, problems = sentinel.check_group("g", {"s1": state(), "s2": state(), "s3": state()}, MEMBERS, 3)
    assert agreed == "127.0.0.1:16001" and problems == []


def test_check_group_after_failover_passes():
    # The Sentinels promoted 16002: that is the truth, not the inventory's master.
    moved = state(port="16002", replicas=("127.0.0.1:16001",))
    agreed, problems = sentinel.check_group("g", {"s1": moved, "s2": moved, "s3": moved}, MEMBERS, 3)
    assert agreed == "127.0.0.1:16002" and problems == []


@pytest.mark.parametrize("states, expected", [
    ({"s1": state(), "s2": state(port="16002", replicas=("127.0.0.1:16001",)), "s3": state()},
     ["Sentinel s2, group 'g': master expected 127.0.0.1:16001 (what the majority of the Sentinels answers), "
      "found 127.0.0.1:16002"]),
    ({"s1": state(master_flags="master,s_down,o_down"), "s2": state(), "s3": state()},
     ["Sentinel s1, group 'g': master 127.0.0.1:16001 expected up, found s_down,o_down"]),
    ({"s1": state(ok=False), "s2": state(), "s3": state()},
     ["Sentinel s1, group 'g': SENTINEL CKQUORUM expected OK, found NOQUORUM 1 usable Sentinels"]),
    ({"s1": state(replicas=()), "s2": state(), "s3": state()},
     ["Sentinel s1, group 'g': replicas expected 127.0.0.1:16002, found none (missing 127.0.0.1:16002)"]),
    ({"s1": state(others=1), "s2": state(), "s3": state()},
     ["Sentinel s1, group 'g': other Sentinels expected 2, found 1 (127.0.0.1:26380)"]),
    ({"s1": {"error": "Cannot connect to 127.0.0.1:26379: refused"}, "s2": state(), "s3": state()},
     ["Sentinel s1, group 'g': expected up, found Cannot connect to 127.0.0.1:26379: refused"]),
    ({"s1": {"master": None}, "s2": state(), "s3": state()},
     ["Sentinel s1, group 'g': expected monitored, found not monitored (SENTINEL MASTER: no such master)"]),
    ({"s1": dict(state(), auth_errors=["instance 127.0.0.1:16001 refuses its auth-pass: WRONGPASS"]),
      "s2": state(), "s3": state()},
     ["Sentinel s1, group 'g': instance 127.0.0.1:16001 refuses its auth-pass: WRONGPASS"]),
])
def test_check_group_names_each_mismatch(states, expected):
    assert sentinel.check_group("g", states, MEMBERS, 3)[1] == expected


def test_check_group_without_majority():
    states = {"s1": state(), "s2": state(port="16002", replicas=("127.0.0.1:16001",))}
    agreed, problems = sentinel.check_group("g", states, MEMBERS, 3)
    assert agreed is None
    assert problems[0] == ("Group 'g': expected a master a majority of the 2 Sentinels agree on, found "
                           "s1 -> 127.0.0.1:16001, s2 -> 127.0.0.1:16002")
    # A master outside the group is named too.
    assert "master expected one of the group's instances" in sentinel.check_group(
        "g", {"s1": state(port="9999")}, MEMBERS, 1)[1][0]


def test_majority_master():
    assert sentinel.majority_master(["a", "a", None]) == "a"
    assert sentinel.majority_master(["a", "b"]) is None
    assert sentinel.majority_master([]) is None


# ---------------------------------------------------------------------------------------------
# Sentinel's own password, changed live (plan_password)
# ---------------------------------------------------------------------------------------------


def user(*passwords, nopass=False):
    return {"passwords": [sentinel.password_hash(password) for password in passwords], "nopass": nopass}


def test_password_hash_is_what_acl_getuser_shows():
    # redis-cli ACL SETUSER u >foo; ACL GETUSER u -> passwords: [sha256("foo")]
    assert sentinel.password_hash("foo") == "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"


@pytest.mark.parametrize("current, wanted, previous", [
    (user("new"), "new", ()),
    (user("new", "old"), "new", ["old"]),
    (user("new"), "new", ["old"]),          # a previous one it does not accept is not added
    (user(nopass=True), "", ()),
])
def test_nothing_to_do_when_the_sentinel_has_the_password(current, wanted, previous):
    assert sentinel.plan_password(current, wanted, previous) == []


def test_a_new_password_keeps_the_listed_previous_one_and_is_masked():
    commands = sentinel.plan_password(user("old"), "new", ["old", "never-set"])
    assert [command["args"] for command in commands] == [
        ["ACL", "SETUSER", "default", "on", "resetpass", ">new", ">old"],
        ["SENTINEL", "CONFIG", "SET", "sentinel-pass", "new"],
        ["SENTINEL", "FLUSHCONFIG"]]
    shown = " | ".join(command["shown"] for command in commands)
    assert "new" not in shown and "old" not in shown and "never-set" not in shown
    assert shown == ("ACL SETUSER default on resetpass >******** >******** | "
                     "SENTINEL CONFIG SET sentinel-pass ******** | SENTINEL FLUSHCONFIG")


def test_a_previous_password_no_longer_listed_is_dropped():
    commands = sentinel.plan_password(user("new", "old"), "new", [])
    assert commands[0]["args"] == ["ACL", "SETUSER", "default", "on", "resetpass", ">new"]


def test_a_password_on_a_sentinel_without_one():
    commands = sentinel.plan_password(user(nopass=True), "new")
    assert commands[0]["args"][-1] == ">new" and commands[-1]["args"] == ["SENTINEL", "FLUSHCONFIG"]


def test_no_password_wanted_removes_it():
    commands = sentinel.plan_password(user("old"), "")
    assert [command["shown"] for command in commands] == [
        "ACL SETUSER default on resetpass nopass", 'SENTINEL CONFIG SET sentinel-pass ""', "SENTINEL FLUSHCONFIG"]


def test_a_sentinel_without_acl():
    assert sentinel.plan_password(None, "new", acl=False) is None
    with pytest.raises(ValueError):
        sentinel.plan_password(None, "new")
