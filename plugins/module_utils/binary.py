# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a running server still runs the program installed on disk. Pure: no I/O.

After a package upgrade made outside the role (apt upgrade), a running instance still runs the
old program: its INFO server says which (redis_version, redis_build_id, executable, run_id), the
program on disk says which it is in its --version output ("Redis server v=7.0.15 sha=00000000:0
malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0"), read by host_info. The build id is the
same number in both: a CRC64 of the version and the build's own id, printed in hex. Checked on
real servers (2026-12-03): Debian's redis-server 5:7.0.15-1~deb12u7 prints and reports
build=e08dbad3e06f3fb, 5:7.0.15-1~deb12u10 build=ae4d7c971a948f0; an instance started from the
first keeps reporting its build id after the file is replaced by the second.

The answer is an item of replication_info's pending_restart (directive "binary"), so that the
role restarts such an instance rolling through the same path as a configuration it does not run yet
(tasks/running.yml, the restart handlers) and playbooks/verify.yml reports it as drift.
"""

from __future__ import annotations

import re

from ansible_collections.redisops.redis.plugins.module_utils.dialect import (
    parse_version,
    parse_version_output,
    server_identity,
)

_BUILD_RE = re.compile(r"\bbuild=([0-9a-fA-F]+)\b")

# The program's name by flavor, for messages.
PROGRAMS = {"redis": "redis-server", "valkey": "valkey-server"}


def installed_build(version_output, default_flavor=None):
    """{"name", "version", "build_id"} of a server program from its --version output; None when it
    printed no version (not installed). build_id is None when the output has none."""
    identity = parse_version_output(version_output, default_flavor)
    if identity is None:
        return None
    match = _BUILD_RE.search(version_output or "")
    return dict(identity, build_id=match.group(1).lower() if match else None)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def running_build(server_info):
    """{"name", "version", "build_id", "executable", "run_id", "process_id"} of a running server from
    its parsed INFO server (Valkey reports valkey_build_id, Redis redis_build_id); None for a field
    the server does not report (executable: Redis 5 and later)."""
    identity = server_identity(server_info)
    name = identity["name"]
    build = server_info.get(name + "_build_id") or server_info.get("redis_build_id") or None
    return dict(identity,
                build_id=str(build).lower() if build else None,
                executable=server_info.get("executable") or None,
                run_id=server_info.get("run_id") or None,
                process_id=_int_or_none(server_info.get("process_id")))


def describe(build):
    """"redis-server 7.0.15 build ae4d7c971a948f0" (without the build when it is unknown)."""
    text = "%s %s" % (PROGRAMS.get(build.get("name"), build.get("name") or "server"), build.get("version"))
    return text + (" build %s" % build["build_id"] if build.get("build_id") else "")


def replaced_binary(running, installed):
    """The pending_restart item of an instance that runs another program than the installed one:
    {"directive": "binary", "file": the installed program, "running": the running one, "msg"};
    None when it runs the installed program, or when either side is unknown.

    Flavor and version must agree, and the build ids when both sides have one (a rebuilt package of
    the same version, such as a Debian security update, differs only there)."""
    if not running or not installed or not running.get("version") or not installed.get("version"):
        return None
    same = (running.get("name") == installed.get("name")
            and parse_version(running["version"]) == parse_version(installed["version"]))
    if same and running.get("build_id") and installed.get("build_id"):
        same = running["build_id"].lower() == installed["build_id"].lower()
    if same:
        return None
    runs, disk = describe(running), describe(installed)
    where = " (%s)" % running["executable"] if running.get("executable") else ""
    return {"directive": "binary", "file": disk, "running": runs,
            "msg": "runs %s%s, the installed binary is %s: a restart runs the installed one" % (runs, where, disk)}
