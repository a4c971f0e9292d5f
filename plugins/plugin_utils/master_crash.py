# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether a master that is down may be started: are its replicas ahead of its data file? Pure.

A master restarted from a data file older than what its replicas hold becomes the source of a
full resync: the replicas throw away what the master lacks. The master's RDB stores the
replication id and offset its data corresponds to (plugins/module_utils/rdb.py); a running
replica reports the id it follows and the offset it has processed. The master may start only
when every replica holding data from it is at or behind the file's offset on the same id.
"""

from __future__ import annotations

FIX = ("Nothing was changed. Fix: promote the most up-to-date replica with playbooks/failover.yml "
       "-e redis_failover_target={target} -e redis_failover_unplanned=true, then update the inventory "
       "as that playbook prints; or set redis_server_force_topology=true to start the master from its "
       "data file and discard what only the replicas hold.")


def _live_state(live, inventory_host, instance):
    """The normalised INFO replication of one instance from the guard's reads, or None."""
    for result in live.get(inventory_host) or []:
        if isinstance(result, dict) and result.get("instance") == instance:
            return result.get("replication")
    return None


def _why_ahead(data_file, state):
    """Why the replica holds writes the data file lacks, or None when it does not."""
    offset, replid = state["replica_repl_offset"], state["master_replid"]
    if data_file is None or data_file.get("error"):
        reason = (data_file or {}).get("error") or "it was not read"
        return "the master's data file cannot be read (%s)" % reason
    if not data_file.get("exists"):
        return "the master has no data file (%s)" % data_file.get("path")
    if not data_file.get("repl_id"):
        return ("the master's data file %s stores no replication offset (saved before the master had "
                "replicas, or the base of an AOF)" % data_file.get("path"))
    if data_file["repl_id"] != replid:
        return ("the master's data file %s is at offset %s of replication id %s, the replica follows id %s"
                % (data_file.get("path"), data_file.get("repl_offset"), data_file["repl_id"], replid))
    if offset > (data_file.get("repl_offset") or 0):
        return ("the master's data file %s is at offset %s, %d byte(s) behind"
                % (data_file.get("path"), data_file.get("repl_offset"), offset - (data_file.get("repl_offset") or 0)))
    return None


def check_down_master(master, inventory_host, data_file, live):
    """One master of inventory_host that is not running: the finding when a replica is ahead, else None.

    master: a resolved instance (server_instances filter) with its replicas; data_file: the
    rdb_info result for its data file; live: inventory host -> replication_info results of
    that host's instances (the guard's reads). A replica counts when it runs, is a replica of
    this master's port and has processed replication stream from it (offset > 0).
    """
    label = "%s:%s" % (inventory_host, master["name"])
    ahead = []
    for replica in master.get("replicas") or []:
        if not replica.get("inventory_host"):
            continue
        state = _live_state(live, replica["inventory_host"], replica["instance"])
        if (not state or state.get("role") != "replica" or state.get("master_port") != master["port"]
                or not state.get("replica_repl_offset") or state["replica_repl_offset"] <= 0):
            continue
        why = _why_ahead(data_file, state)
        if why:
            ahead.append({"label": "%s:%s" % (replica["inventory_host"], replica["instance"]),
                          "address": "%s:%s" % (replica["host"], replica["port"]),
                          "offset": state["replica_repl_offset"], "replid": state["master_replid"], "why": why})
    if not ahead:
        return None
    best = max(ahead, key=lambda item: item["offset"])  # max keeps the first of equals: inventory order
    lines = ["Master '%s' (%s:%s) is not running and its replicas hold writes its data file lacks:"
             % (label, master.get("login_host") or master.get("advertise_address"), master["port"])]
    lines += ["- replica '%s' (%s) at offset %d of replication id %s: %s."
              % (item["label"], item["address"], item["offset"], item["replid"], item["why"]) for item in ahead]
    lines.append("Starting the master would make its replicas resynchronise from its older data and lose those "
                 "writes. The most up-to-date replica is '%s' (offset %d)." % (best["label"], best["offset"]))
    lines.append(FIX.format(target=best["label"]))
    return {"master": label, "replicas_ahead": ahead, "most_up_to_date": best["label"], "message": "\n".join(lines)}


def master_crash_check(masters, inventory_host, data_files, live):
    """The findings for the masters of inventory_host that are not running (see check_down_master).

    masters: resolved instances of the host that did not answer; data_files: rdb_info results,
    each with the instance's name; live: as check_down_master.
    """
    files = {item.get("name"): item for item in data_files or []}
    findings = []
    for master in masters:
        if master.get("role") != "master":
            continue
        finding = check_down_master(master, inventory_host, files.get(master["name"]), live or {})
        if finding:
            findings.append(finding)
    return findings
