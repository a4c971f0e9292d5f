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


# Secrets in a config file's diff. CONFIG REWRITE writes the running configuration into the main
# file, the auth of the live file included, so a diff of a main file (before: the rewritten file)
# can hold them: the whole argument of these directives, the password rules (>pass, <pass) and
# hashes (#sha256, !sha256) of ACL user lines, and the body of a PEM private key.
SECRET_DIRECTIVES = frozenset(("requirepass", "masterauth", "primaryauth", "tls-key-file-pass",
                               "tls-client-key-file-pass"))
USER_DIRECTIVES = frozenset(("user",))
ACL_SECRET_RULE = re.compile(r"""^(["']?)([<>#!])""")
PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")
TOKEN = re.compile(r"""\s+|"(?:\\.|[^"\\])*"?|'(?:\\.|[^'\\])*'?|[^\s"']+""")


class _Labels:
    """One label per distinct secret, the same in the before and after text of a diff, so that a
    changed secret still shows as a change and an unchanged one as none, without its value."""

    def __init__(self):
        self.labels = {}

    def __call__(self, secret):
        if secret not in self.labels:
            self.labels[secret] = "<hidden %d>" % (len(self.labels) + 1)
        return self.labels[secret]


def _mask_line(line, labels):
    body = line.lstrip()
    indent = line[:len(line) - len(body)]
    comment = ""
    if body.startswith("#"):  # a commented-out directive may hold a real value too
        stripped = body[1:].lstrip()
        comment, body = body[:len(body) - len(stripped)], stripped
    tokens = TOKEN.findall(body)
    if not tokens or tokens[0].isspace():
        return line
    directive = tokens[0].lower()
    if directive in SECRET_DIRECTIVES:
        rest = "".join(tokens[1:])
        value = rest.strip()
        if not value:
            return line
        return "%s%s%s%s%s" % (indent, comment, tokens[0], rest[:len(rest) - len(rest.lstrip())], labels(value))
    if directive in USER_DIRECTIVES:
        masked = []
        for token in tokens[2:]:
            match = ACL_SECRET_RULE.match(token)
            masked.append(match.group(2) + labels(token) if match and not token.isspace() else token)
        return indent + comment + "".join(tokens[:2] + masked)
    return line


def mask_secrets(*texts):
    """The texts (before and after of one diff) with every secret replaced by a label.

    Directives keep their name and ACL user lines their user name and other rules, so the diff
    still shows what changed; equal secrets get equal labels across the texts.
    """
    labels = _Labels()
    masked = []
    for text in texts:
        lines = []
        key = None
        for line in text.splitlines(True):
            ending = line[len(line.rstrip("\r\n")):]
            content = line[:len(line) - len(ending)]
            if key is not None:
                if PEM_END.search(content):
                    lines.append(labels("".join(key)) + "\n")
                    lines.append(line)
                    key = None
                else:
                    key.append(content)
                continue
            if PEM_BEGIN.search(content):
                key = []
                lines.append(line)
                continue
            lines.append(_mask_line(content, labels) + ending)
        if key is not None:  # a key without its end line: hide the rest
            lines.append(labels("".join(key)) + "\n")
        masked.append("".join(lines))
    return masked
