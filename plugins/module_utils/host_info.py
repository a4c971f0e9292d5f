# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parts of the host_info module: the package query of a package manager and its output.
The version a server program prints is read by the dialect table (dialect.parse_version_output)."""

from __future__ import annotations

import re

# Each query prints "installed NAME" for every installed package among its arguments, and
# something else (on stdout or stderr) for the others: "config-files NAME" (dpkg: removed, its
# configuration left), "package NAME is not installed" (rpm), "no packages found matching NAME".
PACKAGE_QUERIES = (
    ("dpkg-query", ["--show", "--showformat=${db:Status-Status} ${Package}\\n"]),
    ("rpm", ["--query", "--queryformat", "installed %{NAME}\\n"]),
)

INSTALLED_LINE = re.compile(r"^installed (\S+)$")


def package_query(which):
    """(tool, argv prefix) of the first package query tool which(name) finds, or (None, None)."""
    for tool, args in PACKAGE_QUERIES:
        path = which(tool)
        if path:
            return tool, [path] + [arg.replace("\\n", "\n") for arg in args]
    return None, None


def installed_packages(stdout):
    """The names the query's output reports installed, in its order."""
    return [match.group(1) for match in map(INSTALLED_LINE.match, stdout.splitlines()) if match]


def package_status(wanted, stdout):
    """installed and missing of the wanted names, in their order, from the query's output."""
    found = set(installed_packages(stdout))
    return {"installed": [name for name in wanted if name in found],
            "missing": [name for name in wanted if name not in found]}


def unique(names):
    """names without repeats, in their first order."""
    seen = set()
    return [name for name in names if not (name in seen or seen.add(name))]


# The traces of the role's instances on a host (plugins/plugin_utils/host_instances.py names them):
# main files that carry the role's checksum header (live files are not main files), pid files, and
# the active units of the systemd template unit.
MAIN_FILE = re.compile(r"^redis-[^/]*\.conf$")
LIVE_FILE = re.compile(r"\.live\.conf$")
PID_FILE = re.compile(r"^redis-[^/]*\.pid$")
CHECKSUM_HEADER = re.compile(r"^# redisops\.redis content sha256: ", re.MULTILINE)
UNITS_ARGV = ["list-units", "--state=active", "--plain", "--no-legend", "--no-pager", "redis-instance@*"]


def matching_files(directory, names, pattern, exclude=None):
    """Paths in directory (names: its entries) whose name matches pattern and not exclude, sorted."""
    return sorted("%s/%s" % (directory.rstrip("/"), name) for name in names
                  if pattern.match(name) and not (exclude and exclude.search(name)))


def has_checksum_header(text):
    """Whether a file's text carries the role's checksum header line."""
    return bool(CHECKSUM_HEADER.search(text or ""))


def unit_names(stdout):
    """The unit names of `systemctl list-units --plain --no-legend` output (first word of each line)."""
    return [line.split()[0] for line in (stdout or "").splitlines() if line.strip()]
