# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AnsibleModule of every module of the collection: ansible-core's, with a safe invocation log.

ansible-core logs each module's invocation (syslog, the systemd journal) with its options: a
no_log option as NOT_LOGGING_PARAMETER, any other as its str() with the no_log values searched
for and masked. A list or dict option's str() escapes its strings (a newline, a backslash, a
quote), so a no_log suboption whose value holds one of them (a file's content, a password with a
backslash) is not found by that search and reaches the log. This class logs every no_log
suboption, at any depth, as NOT_LOGGING_PARAMETER before ansible-core's own masking runs.
"""

from __future__ import annotations

from ansible.module_utils import basic

MASK = "NOT_LOGGING_PARAMETER"


def masked(params, spec):
    """params with the value of every no_log suboption (of a dict or list of dicts option) masked."""
    result = dict(params)
    for name, option in (spec or {}).items():
        suboptions = option.get("options") if isinstance(option, dict) else None
        value = result.get(name)
        if not suboptions or value is None:
            continue
        if isinstance(value, dict):
            result[name] = _masked_item(value, suboptions)
        elif isinstance(value, list):
            result[name] = [_masked_item(item, suboptions) if isinstance(item, dict) else item for item in value]
    return result


def _masked_item(item, spec):
    item = masked(item, spec)
    for name, option in spec.items():
        if isinstance(option, dict) and option.get("no_log") and item.get(name) is not None:
            item[name] = MASK
    return item


class AnsibleModule(basic.AnsibleModule):
    def _log_invocation(self):
        params = self.params
        self.params = masked(params, self.argument_spec)
        try:
            super()._log_invocation()
        finally:
            self.params = params
