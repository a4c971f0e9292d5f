#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_info
short_description: Read what deploying Redis or Valkey needs to know about a host, in one module run
version_added: 0.3.0
description:
  - Read-only. Gathers in one module execution what the C(redisops.redis.server) role used to read
    with three, namely the OS family and service manager facts, which of the wanted packages are
    installed, and the version of the server program.
  - The facts are those of M(ansible.builtin.setup) (the same fact collectors), returned as
    C(ansible_facts.os_family) and C(ansible_facts.service_mgr), at a fraction of the cost of even
    its C(min) subset.
  - The packages are queried with C(dpkg-query) or, where there is none, C(rpm); on a host with
    neither, RV(packages.manager) is null and every package counts as missing.
  - The server version is what C(BINARY --version) prints. A program that is missing or does not
    run is reported (RV(server.installed) false, RV(server.msg)), not a failure.
  - With O(instance_traces), the traces of the role's instances (main files with its checksum header,
    pid files, active systemd units) and, with O(failover_record), the content of that file, which the
    role reads at the start of a run, in the same module run.
author:
  - redisops maintainers (@redisops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
    details: Changes nothing; runs the same in check mode.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: posix
options:
  binary:
    description:
      - The server program whose version to read, such as C(/usr/bin/redis-server). Not read when unset.
    type: path
  packages:
    description:
      - Package names to look up. Names that no package has are reported missing.
    type: list
    elements: str
    default: []
  facts:
    description:
      - Whether to gather the C(os_family) and C(service_mgr) facts.
    type: bool
    default: true
  instance_traces:
    description:
      - Where to look for the traces of the C(redisops.redis.server) role's instances on the host,
        returned as RV(instance_traces). Not looked for when unset.
    type: dict
    suboptions:
      conf_dir:
        description: The directory of the instances' configuration files (C(redis_server_conf_dir)).
        type: path
        required: true
      run_dir:
        description: The directory of their pid files (C(redis_server_run_dir)).
        type: path
        required: true
  failover_record:
    description:
      - A small text file to read when it exists, returned as RV(failover_record); the role passes the
        topology record that C(playbooks/failover.yml) leaves on each host of a group.
    type: path
seealso:
  - module: ansible.builtin.setup
  - module: ansible.builtin.package_facts
"""

EXAMPLES = r"""
- name: Read the OS family, service manager, packages and server version
  redisops.redis.host_info:
    binary: /usr/bin/redis-server
    packages: [redis-server, python3-redis]
  register: host

- name: Show what is installed
  ansible.builtin.assert:
    that: host.server.installed and host.packages.missing | length == 0
    success_msg: >-
      {{ ansible_facts.os_family }} host with {{ ansible_facts.service_mgr }},
      {{ host.server.flavor }} {{ host.server.version }}
"""

RETURN = r"""
ansible_facts:
  description: The facts gathered, when O(facts) is true, as M(ansible.builtin.setup) names them.
  returned: O(facts) is true
  type: dict
  contains:
    os_family:
      description: The OS family (V(Debian), V(RedHat), ...).
      type: str
      sample: Debian
    service_mgr:
      description: The service manager (V(systemd), V(sysvinit), ...).
      type: str
      sample: systemd
packages:
  description: Which of O(packages) are installed.
  returned: always
  type: dict
  contains:
    manager:
      description: The query used, V(dpkg-query) or V(rpm); null where neither is installed.
      type: str
      sample: dpkg-query
    installed:
      description: The names of O(packages) that are installed, in their order.
      type: list
      elements: str
      sample: [redis-server]
    missing:
      description: The names of O(packages) that are not installed (all of them where there is no query).
      type: list
      elements: str
      sample: [python3-redis]
server:
  description: The server program O(binary) and its version.
  returned: O(binary) is set
  type: dict
  contains:
    binary:
      description: O(binary).
      type: str
      sample: /usr/bin/redis-server
    installed:
      description: Whether it runs and prints a version.
      type: bool
      sample: true
    version:
      description: Its version, "" when it is not installed.
      type: str
      sample: 7.0.15
    flavor:
      description: V(redis) or V(valkey) (from its output), "" when it does not say.
      type: str
      sample: redis
    output:
      description: What it printed.
      type: str
      sample: Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=c4a7b95e1f93a7d9
    msg:
      description: Why it is not installed (the program is missing, or did not print a version).
      type: str
      sample: "[Errno 2] No such file or directory: b'/usr/bin/redis-server'"
instance_traces:
  description: The traces of the role's instances found under O(instance_traces).
  returned: O(instance_traces) is set
  type: dict
  contains:
    config_files:
      description: Main configuration files (C(redis-NAME.conf), not C(*.live.conf)) that carry the role's checksum header.
      type: list
      elements: str
      sample: [/etc/redis/redis-master.conf]
    pid_files:
      description: Pid files C(redis-NAME.pid) in O(instance_traces.run_dir).
      type: list
      elements: str
      sample: [/run/redis/redis-master.pid]
    units:
      description: Active units of the template unit C(redis-instance@.service); empty where systemd does not run.
      type: list
      elements: str
      sample: [redis-instance@master.service]
failover_record:
  description: O(failover_record) and its content.
  returned: O(failover_record) is set
  type: dict
  contains:
    path:
      description: O(failover_record).
      type: str
      sample: /etc/redis/redis-failover.yml
    content:
      description: Its text, null when it does not exist.
      type: str
      sample: "replicaof:\n  host1:main: null\n"
"""

import os

from ansible.module_utils.facts.namespace import PrefixFactNamespace
from ansible.module_utils.facts.system.distribution import DistributionFactCollector
from ansible.module_utils.facts.system.platform import PlatformFactCollector
from ansible.module_utils.facts.system.service_mgr import ServiceMgrFactCollector

from ansible_collections.redisops.redis.plugins.module_utils.ansible_module import AnsibleModule
from ansible_collections.redisops.redis.plugins.module_utils.dialect import parse_version_output
from ansible_collections.redisops.redis.plugins.module_utils.host_info import (
    LIVE_FILE,
    MAIN_FILE,
    PID_FILE,
    UNITS_ARGV,
    has_checksum_header,
    matching_files,
    package_query,
    package_status,
    unique,
    unit_names,
)


def gather_facts(module):
    """os_family and service_mgr, from the collectors of ansible.builtin.setup (each reads the facts before it)."""
    namespace = PrefixFactNamespace(namespace_name="ansible", prefix="ansible_")
    collected = {}
    for collector in (PlatformFactCollector, DistributionFactCollector, ServiceMgrFactCollector):
        collected.update(collector(namespace=namespace).collect_with_namespace(module=module, collected_facts=collected))
    return {"os_family": collected.get("ansible_os_family"), "service_mgr": collected.get("ansible_service_mgr")}


def query_packages(module, wanted):
    tool, argv = package_query(module.get_bin_path)
    if tool is None:
        return {"manager": None, "installed": [], "missing": list(wanted)}
    stdout = ""
    if wanted:
        # Exit status 1 when some name is not installed or unknown: the output says which.
        stdout = module.run_command(argv + list(wanted), environ_update={"LC_ALL": "C"})[1]
    return dict(package_status(wanted, stdout), manager=tool)


def read_server(module, binary):
    server = {"binary": binary, "installed": False, "version": "", "flavor": "", "output": ""}
    try:
        rc, stdout, stderr = module.run_command([binary, "--version"], handle_exceptions=False)
    except OSError as exc:  # a missing program
        return dict(server, msg=str(exc))
    identity = parse_version_output(stdout) or {"name": "", "version": ""}
    server.update(output=stdout.strip(), flavor=identity["name"], version=identity["version"],
                  installed=bool(identity["version"]))
    if not identity["version"]:
        server["msg"] = (stderr or stdout).strip() or "%s --version exited with status %d and printed nothing" % (binary, rc)
    return server


def read_text(path):
    """A file's text, None when it does not exist (or is not a readable file)."""
    try:
        with open(path, errors="replace") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def list_dir(directory):
    try:
        return os.listdir(directory)
    except (IOError, OSError):
        return []


def find_traces(module, conf_dir, run_dir):
    """The traces of the role's instances: main files with its header, pid files, active units."""
    config_files = [path for path in matching_files(conf_dir, list_dir(conf_dir), MAIN_FILE, LIVE_FILE)
                    if has_checksum_header(read_text(path))]
    units = []
    systemctl = module.get_bin_path("systemctl")
    if systemctl:
        # Where systemd is not running, systemctl fails: no unit to report.
        rc, stdout = module.run_command([systemctl] + UNITS_ARGV)[:2]
        units = unit_names(stdout) if rc == 0 else []
    return {"config_files": config_files, "pid_files": matching_files(run_dir, list_dir(run_dir), PID_FILE),
            "units": units}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type="path"),
            packages=dict(type="list", elements="str", default=[]),
            facts=dict(type="bool", default=True),
            instance_traces=dict(type="dict", options=dict(
                conf_dir=dict(type="path", required=True),
                run_dir=dict(type="path", required=True),
            )),
            failover_record=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    result = {"changed": False, "packages": query_packages(module, unique(module.params["packages"]))}
    if module.params["facts"]:
        result["ansible_facts"] = gather_facts(module)
    if module.params["binary"]:
        result["server"] = read_server(module, module.params["binary"])
    traces = module.params["instance_traces"]
    if traces:
        result["instance_traces"] = find_traces(module, traces["conf_dir"], traces["run_dir"])
    if module.params["failover_record"]:
        result["failover_record"] = {"path": module.params["failover_record"],
                                     "content": read_text(module.params["failover_record"])}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
