# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# The filters of the role's instance model (plugins/plugin_utils/model.py). Each is documented in
# its own file beside this one (server_model.yml, instance_model.yml, ...), as ansible.builtin's are.

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.plugin_utils import model
from ansible_collections.redisops.redis.plugins.plugin_utils.topology import TopologyError


def server_model(hostvars, host, play_hosts, defaults=None, current=None, secrets=False, **options):
    try:
        if secrets:
            return model.play_secrets(hostvars, host, play_hosts, defaults=defaults, **options)
        return model.play_model(hostvars, host, play_hosts, defaults=defaults, current=current, **options)
    except TopologyError as exc:
        raise AnsibleFilterError(str(exc)) from None


def instance_model(play, host, dirs, defaults=None, state="present"):
    if state == "absent":
        return model.retired_model(play, host, dirs)
    return model.instance_model(play, host, dirs, defaults)


def instance_secrets(instances, secrets, host):
    """The view with secrets of host's instances; secrets: server_model(secrets=true)."""
    return model.with_secrets(instances, (secrets or {}).get(str(host)) or {})


def guard_findings(instances, host, read, hostvars=None, record=None, record_path="", replica_labels=(),
                   data_files=()):
    """The guard's refusals; the reads of other hosts it needs are taken from hostvars, only those."""
    live = {}
    for name in model.guard_hosts(instances, read):
        if hostvars is not None and name in hostvars and name != str(host):
            live[name] = ((hostvars[name].get("__redis_server_guard_info") or {}).get("instances") or [])
    return model.guard_findings(instances, host, read, live, record, record_path, replica_labels, data_files)


class FilterModule:
    def filters(self):
        return {
            "server_model": server_model,
            "instance_model": instance_model,
            "instance_secrets": instance_secrets,
            "live_items": model.live_items,
            "read_items": model.read_items,
            "instance_logins": model.instance_logins,
            "check_items": model.check_items,
            "process_items": model.process_items,
            "extra_directives": model.extra_directives,
            "guard_findings": guard_findings,
            "down_master_files": model.down_master_files,
            "verify_rows": model.verify_rows,
            "instance_drift": model.instance_drift,
            "sentinel_rewrites": model.sentinel_rewrites,
            "live_plan": model.live_plan,
            "instance_layout": model.layout,
            "restart_instances": model.restart_instances,
            "pending_restarts": model.pending_restarts,
            "answering_instances": model.answering,
            "refused_logins": model.refused_logins,
            "aof_instances": model.aof_instances,
            "aof_paths": model.aof_paths,
            "rdb_only": model.rdb_only,
        }
