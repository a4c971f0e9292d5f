# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the instance_files module: what a config file's bytes are, and whether a
difference between the file on disk and the wanted one needs the instance to restart.

A file written with a checksum header starts with a comment line holding the SHA-256 of the
content the role rendered. Redis keeps comment lines when it rewrites its config file
(CONFIG REWRITE re-quotes values and appends its own section), so a file whose header still
matches what the role renders now was changed by someone else after the instance last started
from what the role wrote: writing it back needs no restart.
"""

from __future__ import annotations

import hashlib
import re

HEADER_PREFIX = "# redisops.redis content sha256: "
HEADER = re.compile(r"^# redisops\.redis content sha256: ([0-9a-f]{64})\b")


def content_digest(content):
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def wanted_text(content, checksum_header):
    """The exact text of the file: the content, after the checksum header when asked."""
    if not checksum_header:
        return content
    return ("%s%s (the role compares it to decide on a restart; keep this line)\n%s"
            % (HEADER_PREFIX, content_digest(content), content))


def header_digest(text):
    """The digest in a file's checksum header, None when it has none."""
    if text is None:
        return None
    match = HEADER.match(text)
    return match.group(1) if match else None


def file_state(current_text, content, checksum_header):
    """Compare a file on disk (None when absent) with the wanted content.

    Returns (changed, restart): changed when the bytes differ; restart, for a file with a
    checksum header, when the header on disk (if any) names other content than the wanted one,
    that is when the instance does not run the wanted content. A file without a header is
    applied some other way (live): restart is always False for it.
    """
    wanted = wanted_text(content, checksum_header)
    changed = current_text != wanted
    restart = changed and checksum_header and header_digest(current_text) != content_digest(content)
    return changed, restart
