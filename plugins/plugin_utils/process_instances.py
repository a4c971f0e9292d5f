# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side, pure: the items of server_process's instances option (process_instances filter)."""

from __future__ import annotations


def process_instances(instances, conf_dir, run_dir, log_dir, skip=()):
    """One server_process item per resolved instance not named in skip, joined by name, in order."""
    return [{"name": item["name"],
             "config_file": "%s/redis-%s.conf" % (conf_dir.rstrip("/"), item["name"]),
             "pid_file": "%s/redis-%s.pid" % (run_dir.rstrip("/"), item["name"]),
             "log_file": "%s/redis-%s.log" % (log_dir.rstrip("/"), item["name"]),
             "address": item["login_host"],
             "port": item["port"]}
            for item in instances if item["name"] not in set(skip or ())]
