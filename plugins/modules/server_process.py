#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: server_process
short_description: Start, stop or restart a Redis or Valkey instance without systemd
version_added: 0.1.0
description:
  - Runs one C(redis-server) or C(valkey-server) instance as a daemon where systemd is not PID 1
    (plain containers, CI runners), idempotently, as M(ansible.builtin.service) does with a service.
    It is the C(process) service manager of the C(redisops.redis.server) role.
  - Starts the server as C(BINARY CONFIG_FILE --daemonize yes --pidfile PID_FILE), as O(user) and
    O(group) with umask C(027), from C(/), with no file descriptors inherited. The config file needs
    neither C(daemonize) nor C(pidfile), so the same file serves a systemd unit.
  - The instance is running when O(pid_file) names a live process whose executable is O(binary)
    (both resolved through symlinks). A pid file naming a dead process or another program is stale;
    the instance counts as stopped, and the file is removed on start.
  - A start creates the directory of O(pid_file) when it is missing, owned by O(user) and O(group),
    mode C(0755), then waits until the server runs and, when O(port) is set, accepts connections.
  - A stop sends C(SIGTERM) and waits up to O(timeout) seconds until the process is gone, as Redis
    saves its data on shutdown when persistence is on. Only then does it send
    C(SIGKILL), with a warning.
author:
  - redisops contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  name:
    description:
      - Name of the instance, used in messages.
    type: str
    required: true
  binary:
    description:
      - The server program, C(redis-server) or C(valkey-server).
    type: path
    default: /usr/bin/redis-server
  config_file:
    description:
      - The instance's configuration file, readable by O(user).
    type: path
    required: true
  pid_file:
    description:
      - The pid file the server writes when started and removes when stopped.
    type: path
    required: true
  log_file:
    description:
      - The log file named in the instance's configuration. When a start fails, its last lines are
        quoted in the error message.
    type: path
  user:
    description:
      - User the server runs as.
    type: str
    default: redis
  group:
    description:
      - Primary group the server runs as. The supplementary groups are those of O(user).
    type: str
    default: redis
  state:
    description:
      - V(started) starts the instance if it is not running.
      - V(stopped) stops it if it is running.
      - V(restarted) stops it if it is running, then starts it; always a change.
    type: str
    choices: [started, stopped, restarted]
    default: started
  address:
    description:
      - Address a start probes for connections on O(port). Use one of the instance's C(bind) addresses.
    type: str
    default: 127.0.0.1
  port:
    description:
      - TCP port of the instance. When set, a start waits until O(address) accepts connections on it,
        and refuses to start while something else already does.
      - When unset, a start waits only until the server's process runs.
    type: int
  timeout:
    description:
      - Seconds a start waits for the server to run (and accept connections).
      - Seconds a stop waits for the process to exit after C(SIGTERM) before it sends C(SIGKILL).
    type: float
    default: 30
notes:
  - Needs root (for example C(become) set to V(true)) to start the server as another user and to see which program a pid belongs to.
  - The module runs the server directly; nothing restarts it when it dies or after a reboot.
seealso:
  - module: ansible.builtin.service
  - module: redisops.redis.replication_check
"""

EXAMPLES = r"""
- name: Start the replica instance
  redisops.redis.server_process:
    name: replica
    config_file: /etc/redis/redis-replica.conf
    pid_file: /run/redis/redis-replica.pid
    log_file: /var/log/redis/redis-replica.log
    port: 6479
  become: true
  register: replica_process

- name: Show the instance's pid
  ansible.builtin.debug:
    msg: "replica runs with pid {{ replica_process.pid }}"

- name: Restart a Valkey instance listening on a private address
  redisops.redis.server_process:
    name: main
    binary: /usr/bin/valkey-server
    config_file: /etc/valkey/valkey-main.conf
    pid_file: /run/valkey/valkey-main.pid
    log_file: /var/log/valkey/valkey-main.log
    user: valkey
    group: valkey
    address: 10.0.0.12
    port: 6379
    state: restarted
  become: true

- name: Check, changing nothing, that the instance is running
  redisops.redis.server_process:
    name: replica
    config_file: /etc/redis/redis-replica.conf
    pid_file: /run/redis/redis-replica.pid
  become: true
  check_mode: true
  register: replica_status

- name: Fail when the instance is not running
  ansible.builtin.assert:
    that: not replica_status.changed
    fail_msg: The replica instance is not running.

- name: Stop the instance, allowing two minutes to save a large data set
  redisops.redis.server_process:
    name: replica
    config_file: /etc/redis/redis-replica.conf
    pid_file: /run/redis/redis-replica.pid
    timeout: 120
    state: stopped
  become: true
"""

RETURN = r"""
state:
  description:
    - V(running) or V(stopped) after the task; in check mode, what it would be.
  returned: success
  type: str
  sample: running
pid:
  description:
    - Process id of the running server.
    - Null when it is stopped, and in check mode when it would be started or restarted.
  returned: success
  type: int
  sample: 4242
previous_pid:
  description:
    - Process id of the server before the task; null when it was not running. A restart that
      finds the instance stopped only starts it.
  returned: success
  type: int
  sample: 4101
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.redis.plugins.module_utils.server_process import (
    ProcessError,
    log_tail,
    running_pid,
    start,
    stop,
)


def start_or_fail(module):
    """Start the instance and return its pid; on failure, fail quoting the end of its log."""
    params = module.params
    try:
        return start(params["binary"], params["config_file"], params["pid_file"], params["user"], params["group"],
                     params["timeout"], address=params["address"], port=params["port"])
    except (ProcessError, OSError) as exc:
        msg = "Instance %s did not start: %s" % (params["name"], exc)
        if params["log_file"]:
            tail = log_tail(params["log_file"])
            msg += ("\nLast lines of %s:\n%s" % (params["log_file"], tail) if tail
                    else "\nThe log file %s is missing or empty." % params["log_file"])
        module.fail_json(msg=msg)


def stop_or_fail(module, pid):
    """Stop the instance running as pid, warning when it had to be killed."""
    params = module.params
    try:
        killed = stop(pid, params["binary"], params["pid_file"], params["timeout"])
    except (ProcessError, OSError) as exc:
        module.fail_json(msg="Instance %s (pid %d) did not stop: %s" % (params["name"], pid, exc))
    if killed:
        module.warn("Instance %s (pid %d) did not exit within %gs of SIGTERM and was killed with SIGKILL; "
                    "writes since its last save may be lost. Raise timeout if saving takes that long."
                    % (params["name"], pid, params["timeout"]))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            binary=dict(type="path", default="/usr/bin/redis-server"),
            config_file=dict(type="path", required=True),
            pid_file=dict(type="path", required=True),
            log_file=dict(type="path"),
            user=dict(type="str", default="redis"),
            group=dict(type="str", default="redis"),
            state=dict(type="str", default="started", choices=["started", "stopped", "restarted"]),
            address=dict(type="str", default="127.0.0.1"),
            port=dict(type="int"),
            timeout=dict(type="float", default=30.0),
        ),
        supports_check_mode=True,
    )
    state = module.params["state"]
    try:
        pid = running_pid(module.params["pid_file"], module.params["binary"])
    except OSError as exc:
        module.fail_json(msg="Cannot tell whether instance %s runs: %s" % (module.params["name"], exc))

    if state == "started" and pid is not None:
        module.exit_json(changed=False, state="running", pid=pid, previous_pid=pid)
    if state == "stopped" and pid is None:
        module.exit_json(changed=False, state="stopped", pid=None, previous_pid=None)
    if module.check_mode:
        module.exit_json(changed=True, state="stopped" if state == "stopped" else "running", pid=None, previous_pid=pid)

    if pid is not None:
        stop_or_fail(module, pid)
    if state == "stopped":
        module.exit_json(changed=True, state="stopped", pid=None, previous_pid=pid)
    module.exit_json(changed=True, state="running", pid=start_or_fail(module), previous_pid=pid)


if __name__ == "__main__":
    main()
