#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: run_lock
short_description: Let one run at a time change a host
version_added: 0.2.0
description:
  - Takes or releases a lock file on the managed host, so that two runs of a playbook on the same
    host change it one after the other instead of together. The C(redisops.redis.server) role takes
    it before it changes anything and releases it at the end of the run, also when the run fails.
  - The lock is a file created atomically (it is complete when it appears) that holds who took it
    (O(holder)), when, and a random token. A run that finds it taken waits, polling, up to
    O(timeout) seconds, then fails naming the holder, since when it holds the lock, and how to clear
    a stale lock.
  - A run that is killed (C(SIGKILL), a lost connection) cannot release its lock. Nothing tells
    a stale lock from one whose run is slow, so it stays until removed by hand or by this module
    with O(state=absent) and no O(token). Put it under C(/run) so that a reboot clears it.
author:
  - redisops maintainers (@redisops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode a free lock is not taken, but a taken one is waited for as in a real run.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description:
      - The lock file. Its directory is created when missing (mode C(0755)).
    type: path
    required: true
  state:
    description:
      - V(present) takes the lock, waiting while another run holds it.
      - V(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  holder:
    description:
      - Who takes the lock, shown to a run that waits for it, such as the playbook, user and controller.
      - Used with O(state=present).
    type: str
    default: an Ansible run
  timeout:
    description:
      - Seconds to wait for a lock another run holds. V(0) fails at once when it is taken.
      - Used with O(state=present).
    type: float
    default: 300
  token:
    description:
      - With O(state=absent), the RV(token) returned when the lock was taken. The lock is removed only
        while it is still that one, so that a run never removes another run's lock.
      - Without it, O(state=absent) removes the lock whoever holds it, which is how a stale lock left
        by a killed run is cleared.
    type: str
notes:
  - Every run that changes the host must take the same O(path) for the lock to serialise them.
"""

EXAMPLES = r"""
- name: Take the lock of this host, waiting up to 10 minutes for another run
  redisops.redis.run_lock:
    path: /run/lock/my-deployment.lock
    holder: "deploy.yml by {{ lookup('ansible.builtin.env', 'USER') }}"
    timeout: 600
  register: my_lock

- name: Show since when this run holds it
  ansible.builtin.assert:
    that: my_lock.since is defined
    success_msg: "locked since {{ my_lock.since }} after waiting {{ my_lock.waited }}s"

- name: Release the lock this run took
  redisops.redis.run_lock:
    path: /run/lock/my-deployment.lock
    state: absent
    token: "{{ my_lock.token }}"

- name: Clear a stale lock left by a run that was killed
  redisops.redis.run_lock:
    path: /run/lock/my-deployment.lock
    state: absent
"""

RETURN = r"""
token:
  description: The lock's token, for releasing it with O(token). Null when check mode did not take it.
  returned: state is present
  type: str
  sample: 3f1c0d9e8a6b4c2d9e7f6a5b4c3d2e1f
since:
  description: When the lock was taken (UTC).
  returned: state is present and the lock was taken
  type: str
  sample: "2026-12-02T13:05:01Z"
waited:
  description: Seconds spent waiting for another run's lock.
  returned: state is present
  type: float
  sample: 12.4
released:
  description: The lock removed (O(holder) and when it was taken), or null when there was none to remove.
  returned: state is absent
  type: dict
  sample: {holder: "site.yml by root@controller", since: "2026-12-02T13:05:01Z"}
holder:
  description: With a lock held for the whole O(timeout), who holds it and since when.
  returned: failure
  type: dict
  sample: {holder: "site.yml by root@controller", since: "2026-12-02T13:05:01Z"}
"""

import time


from ansible_collections.redisops.redis.plugins.module_utils.ansible_module import AnsibleModule
from ansible_collections.redisops.redis.plugins.module_utils.run_lock import (
    LockHeld,
    held_message,
    read_record,
    release,
    wait,
)


def public(record):
    """A lock record without its token."""
    return {key: record.get(key) for key in ("holder", "since")} if record else None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            holder=dict(type="str", default="an Ansible run"),
            timeout=dict(type="float", default=300.0),
            token=dict(type="str", no_log=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["state"] == "absent":
        if module.check_mode:
            current = read_record(params["path"])
            if current and params["token"] is not None and current.get("token") != params["token"]:
                current = None
            module.exit_json(changed=current is not None, released=public(current))
        try:
            removed = release(params["path"], params["token"])
        except OSError as exc:
            module.fail_json(msg="Cannot remove the lock %s: %s" % (params["path"], exc))
        module.exit_json(changed=removed is not None, released=public(removed))
    try:
        record, waited = wait(params["path"], params["timeout"], not module.check_mode, params["holder"])
    except LockHeld as exc:
        module.fail_json(msg=held_message(exc, time.time()), holder=public(exc.holder), waited=exc.waited)
    except OSError as exc:
        module.fail_json(msg="Cannot take the lock %s: %s" % (params["path"], exc))
    if record is None:
        module.exit_json(changed=True, token=None, waited=waited)
    module.exit_json(changed=True, token=record["token"], since=record["since"], waited=waited)


if __name__ == "__main__":
    main()
