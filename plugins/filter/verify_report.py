# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: verify_report
short_description: The verify report of every host of the play, as JSON and JUnit XML
version_added: 0.1.0
author:
  - redisops contributors (!UNKNOWN)
description:
  - From the verify summary rows of the hosts (C(hostvars[HOST].redis_server_verify_summary), set by
    the C(redisops.redis.server) role's verify step), the text of C(redis-verify.json) (per host and
    instance the expected and the live role, master, link, lag and offsets, every check with
    V(pass), V(fail) or V(skip) and its reason, every drift item) and of C(redis-verify.xml) (JUnit, one
    test case per instance and check, a failure carrying the reason).
  - A host of O(hosts) without rows (unreachable, or failed before the verify step) is reported as
    not checked, and makes the report fail.
  - Returns a dict with the keys V(redis-verify.json) and V(redis-verify.xml) (the file texts) and
    V(ok) (no failure anywhere).
  - The logic is C(plugins/plugin_utils/report.py).
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts of the play, for example C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  generated:
    description: The time the report was made, as text; the report has none without it.
    type: str
"""

EXAMPLES = r"""
- name: Write the verify report on the controller
  ansible.builtin.copy:
    content: "{{ (hostvars | redisops.redis.verify_report(ansible_play_hosts_all))[item] }}"
    dest: "/tmp/report/{{ item }}"
    mode: "0644"
  loop: [redis-verify.json, redis-verify.xml]
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: The text of both files, and whether every check passed.
  type: dict
  sample:
    redis-verify.json: '{"format": 1, "ok": true, ...}'
    redis-verify.xml: '<?xml version="1.0" encoding="UTF-8"?><testsuites ...'
    ok: true
"""

from ansible_collections.redisops.redis.plugins.plugin_utils.report import report_files

SUMMARY = "redis_server_verify_summary"


def verify_report(hostvars, hosts, generated=None):
    rows = {}
    for host in hosts:
        found = hostvars[host].get(SUMMARY) if host in hostvars else None
        rows[host] = None if found is None else list(found)
    return report_files(rows, list(hosts), generated)


class FilterModule:
    def filters(self):
        return {"verify_report": verify_report}
