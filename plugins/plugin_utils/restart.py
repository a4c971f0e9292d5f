# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side, pure: why a Redis or Valkey server did not start, from the end of its log."""

from __future__ import annotations

import re

# The banner every start writes first (Redis 4 to 8, Valkey: "Valkey is starting").
START = re.compile(r"oO0OoO0OoO0Oo \w+ is starting oO0OoO0OoO0Oo")
# A log line: "PID:ROLE DD Mon YYYY HH:MM:SS.mmm LEVEL message", LEVEL "#" for warnings.
WARNING_LINE = re.compile(r"^\d+:[A-Z] .*? # (.*)$")
# Warnings of a start that are about the start, not about what stopped it.
FAILURE_WORDS = re.compile(r"Could not|Can't|Cannot|Fail|FATAL|Fatal|rror|abort|denied|No such|Wrong|Bad ")


def start_failure(log_text):
    """The warnings of the last start in log_text that say why it failed, joined with "; ".

    Empty when the last start logged none: then the server did not get that far (a configuration
    error goes to its standard error, not to the log), or the log is from an earlier start.
    """
    lines = log_text.splitlines()
    starts = [index for index, line in enumerate(lines) if START.search(line)]
    found = []
    for line in lines[starts[-1] if starts else 0:]:
        match = WARNING_LINE.match(line)
        if match and FAILURE_WORDS.search(match.group(1)) and not match.group(1).startswith("WARNING"):
            found.append(match.group(1).strip())
    return "; ".join(found)
