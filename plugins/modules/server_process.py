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
    mode C(0755), then waits until the server runs and, when O(login_port) is set, accepts connections.
  - A stop sends C(SIGTERM) and waits up to O(timeout) seconds until the process is gone, as Redis
    saves its data on shutdown when persistence is on. Only then does it send
    C(SIGKILL), with a warning.
  - With O(instances), one module run handles several instances of the host with the same O(state).
    The stopped ones among them are all launched first, then waited for together, so that starting
    N instances takes about as long as starting one. Every instance is tried; the task fails after,
    listing each that failed. The single-instance options are then the keys of each item.
author:
  - redisops maintainers (@redisops)
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
      - Required unless O(instances) is given, and mutually exclusive with it (as are O(config_file),
        O(pid_file), O(log_file) and O(login_port)).
    type: str
  instances:
    description:
      - Several instances in one module run, each with the options of a single instance. O(binary),
        O(user), O(group), O(state) and O(timeout) apply to all of them.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the instance, used in messages and results.
        type: str
        required: true
      config_file:
        description: As O(config_file).
        type: path
        required: true
      pid_file:
        description: As O(pid_file).
        type: path
        required: true
      log_file:
        description: As O(log_file).
        type: path
      login_host:
        description: As O(login_host); the top-level O(login_host) when unset.
        type: str
        aliases: [address]
      login_port:
        description: As O(login_port).
        type: int
        aliases: [port]
  binary:
    description:
      - The server program, C(redis-server) or C(valkey-server).
    type: path
    default: /usr/bin/redis-server
  config_file:
    description:
      - The instance's configuration file, readable by O(user). Required with O(name).
    type: path
  pid_file:
    description:
      - The pid file the server writes when started and removes when stopped. Required with O(name).
    type: path
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
  login_host:
    description:
      - Address a start probes for connections on O(login_port). Use one of the instance's C(bind)
        addresses (the C(redisops.redis.server) role passes the instance's login address, as to its
        other modules).
      - The alias O(address) is deprecated.
    type: str
    default: 127.0.0.1
    aliases: [address]
  login_port:
    description:
      - TCP port of the instance. When set, a start waits until O(login_host) accepts connections on it,
        and refuses to start while something else already does.
      - When unset, a start waits only until the server's process runs.
      - The alias O(port) is deprecated.
    type: int
    aliases: [port]
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
    login_port: 6479
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
    login_host: 10.0.0.12
    login_port: 6379
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

- name: Start every instance of the host that is not running, in one module run
  redisops.redis.server_process:
    instances:
      - name: main
        config_file: /etc/redis/redis-main.conf
        pid_file: /run/redis/redis-main.pid
        log_file: /var/log/redis/redis-main.log
        login_port: 6379
      - name: cache
        config_file: /etc/redis/redis-cache.conf
        pid_file: /run/redis/redis-cache.pid
        log_file: /var/log/redis/redis-cache.log
        login_port: 6380
  become: true
  register: started

- name: Show which instances were started
  ansible.builtin.debug:
    msg: "{{ started.instances | selectattr('changed') | map(attribute='name') | list }}"

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
  returned: success, without O(instances)
  type: str
  sample: running
pid:
  description:
    - Process id of the running server.
    - Null when it is stopped, and in check mode when it would be started or restarted.
  returned: success, without O(instances)
  type: int
  sample: 4242
previous_pid:
  description:
    - Process id of the server before the task; null when it was not running. A restart that
      finds the instance stopped only starts it.
  returned: success, without O(instances)
  type: int
  sample: 4101
instances:
  description:
    - With O(instances), one result per instance, in their order - RV(state), RV(pid) and
      RV(previous_pid) as above, whether it changed, and the message of a failure.
  returned: with O(instances)
  type: list
  elements: dict
  sample:
    - {name: main, state: running, pid: 4242, previous_pid: 4242, changed: false}
    - {name: cache, state: running, pid: 4250, previous_pid: null, changed: true}
"""


from ansible_collections.redisops.redis.plugins.module_utils.ansible_module import AnsibleModule
from ansible_collections.redisops.redis.plugins.module_utils.connection import renamed
from ansible_collections.redisops.redis.plugins.module_utils.server_process import (
    ProcessError,
    launch,
    log_tail,
    running_pid,
    stop,
    wait_ready,
)


def instance_spec(item=False):
    """The options of one instance, declared once: an item of O(instances) (item=True: its files
    required, its login_host defaulting to the top-level one) or the top level of the single-instance
    form. login_host and login_port are named as the other modules' options (address and port are
    deprecated aliases)."""
    return dict(
        name=dict(type="str", required=item),
        config_file=dict(type="path", required=item),
        pid_file=dict(type="path", required=item),
        log_file=dict(type="path"),
        login_host=renamed("address", type="str", **({} if item else {"default": "127.0.0.1"})),
        login_port=renamed("port", type="int"),
    )


def start_failure(item, exc):
    """Why the instance did not start, with the end of its log."""
    msg = "Instance %s did not start: %s" % (item["name"], exc)
    if item.get("log_file"):
        tail = log_tail(item["log_file"])
        msg += ("\nLast lines of %s:\n%s" % (item["log_file"], tail) if tail
                else "\nThe log file %s is missing or empty." % item["log_file"])
    return msg


def apply(module, items):
    """Bring every item to the state asked; one result per item (msg set when it failed)."""
    params = module.params
    state, binary, timeout = params["state"], params["binary"], params["timeout"]
    results = []
    for item in items:
        result = {"name": item["name"], "changed": False, "pid": None, "previous_pid": None, "state": "stopped"}
        try:
            result["previous_pid"] = result["pid"] = running_pid(item["pid_file"], binary)
        except OSError as exc:
            result["msg"] = "Cannot tell whether instance %s runs: %s" % (item["name"], exc)
        if result["pid"] is not None:
            result["state"] = "running"
        results.append(result)
    pending = [(item, result) for item, result in zip(items, results) if "msg" not in result]
    to_stop = [(item, result) for item, result in pending
               if result["pid"] is not None and state in ("stopped", "restarted")]
    to_start = [(item, result) for item, result in pending
                if state == "restarted" or (state == "started" and result["pid"] is None)]
    for item, result in to_stop + to_start:
        result["changed"] = True
    if module.check_mode:
        for item, result in to_stop + to_start:
            result.update(pid=None, state="stopped" if state == "stopped" else "running")
        return results

    for item, result in to_stop:
        try:
            killed = stop(result["pid"], binary, item["pid_file"], timeout)
        except (ProcessError, OSError) as exc:
            result["msg"] = "Instance %s (pid %d) did not stop: %s" % (item["name"], result["pid"], exc)
            continue
        result.update(pid=None, state="stopped")
        if killed:
            module.warn("Instance %s (pid %d) did not exit within %gs of SIGTERM and was killed with SIGKILL; "
                        "writes since its last save may be lost. Raise timeout if saving takes that long."
                        % (item["name"], result["previous_pid"], timeout))
    # All are launched first (each daemonizes at once), then waited for together.
    launched = []
    for item, result in to_start:
        if "msg" in result:
            continue
        address = item.get("login_host") or params["login_host"]
        try:
            deadline = launch(binary, item["config_file"], item["pid_file"], params["user"], params["group"], timeout,
                              address=address, port=item.get("login_port"))
        except (ProcessError, OSError) as exc:
            result["msg"] = start_failure(item, exc)
            continue
        launched.append((item, result, address, deadline))
    for item, result, address, deadline in launched:
        try:
            result["pid"] = wait_ready(binary, item["pid_file"], timeout, deadline, address=address,
                                       port=item.get("login_port"))
        except (ProcessError, OSError) as exc:
            result["msg"] = start_failure(item, exc)
            continue
        result["state"] = "running"
    return results


def main():
    module = AnsibleModule(
        argument_spec=dict(
            instance_spec(),
            instances=dict(type="list", elements="dict", options=instance_spec(item=True)),
            binary=dict(type="path", default="/usr/bin/redis-server"),
            user=dict(type="str", default="redis"),
            group=dict(type="str", default="redis"),
            state=dict(type="str", default="started", choices=["started", "stopped", "restarted"]),
            timeout=dict(type="float", default=30.0),
        ),
        required_one_of=[["name", "instances"]],
        mutually_exclusive=[["instances", option] for option in ("name", "config_file", "pid_file", "log_file", "login_port")],
        required_together=[["name", "config_file", "pid_file"]],
        supports_check_mode=True,
    )
    if module.params["instances"] is not None:
        results = apply(module, module.params["instances"])
        failed = [result["msg"] for result in results if "msg" in result]
        changed = any(result["changed"] for result in results)
        if failed:
            module.fail_json(msg="\n".join(failed), changed=changed, instances=results)
        module.exit_json(changed=changed, instances=results)
    # One instance: the same, with its result at the top.
    result = apply(module, [{option: module.params[option] for option in instance_spec()}])[0]
    if "msg" in result:
        module.fail_json(msg=result["msg"])
    module.exit_json(changed=result["changed"], state=result["state"], pid=result["pid"],
                     previous_pid=result["previous_pid"])


if __name__ == "__main__":
    main()
