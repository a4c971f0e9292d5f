# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which instances a host holds that the inventory does not run: pure, on the controller.

The role finds an instance's traces on a host (its main configuration file with the role's
header, its pid file, its active systemd unit) and compares their names with the inventory:
a name the inventory does not know is an unmanaged instance, one with ``state: absent`` that
still has traces is not retired yet. Both keep serving their data while nothing reports them.
"""

from __future__ import annotations

import os
import re

CONF_RE = re.compile(r"^redis-([a-z][a-z0-9_-]*)\.conf$")
PID_RE = re.compile(r"^redis-([a-z][a-z0-9_-]*)\.pid$")
UNIT_RE = re.compile(r"^redis-instance@([a-z][a-z0-9_-]*)\.service$")
# The pid file of the packaged service (Debian's redis-server.service), not one of the role's instances.
PACKAGED_PID_NAMES = ("server",)


def _names(paths, pattern, skip=()):
    found = {}
    for path in paths or []:
        match = pattern.match(os.path.basename(str(path)))
        if match and match.group(1) not in skip:
            found.setdefault(match.group(1), str(path))
    return found


def found_instances(conf_files=(), pid_files=(), units=()):
    """{name: [evidence, ...]} of the instances whose traces were found, in name order.

    conf_files: paths of main files written by the role (redis-NAME.conf; live files are skipped).
    pid_files: paths of pid files in the run directory (redis-NAME.pid).
    units: names of active systemd units (redis-instance@NAME.service).
    """
    evidence = {}
    for kind, names in (("configuration file", _names(conf_files, CONF_RE)),
                        ("pid file", _names(pid_files, PID_RE, PACKAGED_PID_NAMES)),
                        ("systemd unit", _names(units, UNIT_RE))):
        for name, where in names.items():
            evidence.setdefault(name, []).append("%s %s" % (kind, where))
    return {name: evidence[name] for name in sorted(evidence)}


def unmanaged_instances(found, present=(), retired=()):
    """The instances of found (from found_instances) that the inventory does not run.

    present: names of the host's instances (state: present); retired: names with state: absent.
    Returns [{name, retired, evidence, msg}]: retired=False for a name the inventory does not know,
    True for one with state: absent that still has traces (the run has not retired it yet).
    """
    result = []
    for name, evidence in (found or {}).items():
        if name in present:
            continue
        if name in retired:
            msg = ("instance %s has state: absent but is not retired yet (%s); run site.yml to retire it"
                   % (name, ", ".join(evidence)))
        else:
            msg = ("instance %s runs but is not in the inventory (%s); set state: absent to retire it"
                   % (name, ", ".join(evidence)))
        result.append({"name": name, "retired": name in retired, "evidence": list(evidence), "msg": msg})
    return result
