#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_files
short_description: Write the directories and configuration files of Redis instances in one call
version_added: 0.1.0
description:
  - Creates directories and writes files, with owner, group and mode, for every instance of a
    host in one module call, where M(ansible.builtin.file) and M(ansible.builtin.template) would
    take a round trip per file. The C(redisops.redis.server) role renders the files on the
    controller and hands them over here.
  - Files are replaced atomically (a temporary file in the same directory, renamed over the old one).
  - A file with O(files[].checksum_header) starts with a comment holding the SHA-256 of its
    content. Redis keeps comments when C(CONFIG REWRITE) rewrites its config file, so when such a
    file differs from the wanted one but its header still names the wanted content, the instance
    already runs that content. The file is written back and RV(files[].restart) stays V(false).
    Otherwise RV(files[].restart) says the instance must restart to run the new content.
author:
  - redisops maintainers (@redisops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: partial
    details:
      - No diff is returned for files with O(files[].secret_content), unless O(files[].masked_diff) asks for one.
      - "In the other files' diffs every secret is replaced by a label such as C(<hidden 1>) (the same
        label for the same value in the old and new text, so that a change still shows): the arguments
        of C(requirepass), C(masterauth), C(primaryauth), C(tls-key-file-pass) and C(tls-client-key-file-pass),
        the passwords (C(>pass), C(<pass)) and hashes (C(#sha256), C(!sha256)) of C(user) lines, and the body
        of a PEM private key. C(CONFIG REWRITE) writes the auth of the live file into the main file, so the old
        text may hold them."
  platform:
    platforms: posix
options:
  directories:
    description:
      - Directories to create, in order (a parent before its children).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      owner:
        description: Owner of the directory.
        type: str
        required: true
      group:
        description: Group of the directory.
        type: str
        required: true
      mode:
        description: Mode of the directory, in octal, as a string such as V('0750').
        type: str
        required: true
      only_create:
        description:
          - Set owner, group and mode only when the directory is created; leave an existing
            one as it is (a directory that OS packages own).
        type: bool
        default: false
  files:
    description:
      - Files to write. Their directories must exist, or be listed in O(directories).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description:
          - The content of the file. Exactly one of O(files[].content) and O(files[].secret_content).
        type: str
      secret_content:
        description:
          - The content of a file that holds secrets. It is never logged nor returned, and no
            diff is returned for the file unless O(files[].masked_diff) is set.
        type: str
      masked_diff:
        description:
          - With O(files[].secret_content), return a diff of the file with every secret replaced by a
            label, as for the other files (see the C(diff_mode) attribute). For configuration files whose
            secrets are the directives masked there (the C(redisops.redis.server) role's live files);
            never for a file whose secret those rules do not find.
        type: bool
        default: false
      owner:
        description: Owner of the file.
        type: str
        required: true
      group:
        description: Group of the file.
        type: str
        required: true
      mode:
        description: Mode of the file, in octal, as a string such as V('0640').
        type: str
        required: true
      checksum_header:
        description:
          - Start the file with a comment holding the SHA-256 of O(files[].content), by which a
            later run tells an outside rewrite of the file from new content (see the description).
        type: bool
        default: false
      previous:
        description:
          - Where to keep the former content of the file when new content that needs a restart
            (RV(files[].restart)) replaces it, with the same owner, group and mode; a restart
            that fails can put it back. Written only then, and named in RV(files[].previous).
        type: path
"""

EXAMPLES = r"""
- name: Write the data directory and the configuration of an instance
  redisops.redis.instance_files:
    directories:
      - {path: /var/lib/redis/main, owner: redis, group: redis, mode: "0750"}
    files:
      - path: /etc/redis/redis-main.conf
        content: "{{ lookup('ansible.builtin.template', 'redis.conf.j2') }}"
        owner: root
        group: redis
        mode: "0640"
        checksum_header: true
        previous: /etc/redis/redis-main.conf.previous
  register: written

- name: Restart the instance when it does not run the new content yet
  ansible.builtin.debug:
    msg: "{{ written.files | selectattr('restart') | map(attribute='path') | list }}"
"""

RETURN = r"""
directories:
  description: Every directory of O(directories), with whether it was created or changed.
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /var/lib/redis/main, changed: true}
  contains:
    path:
      description: The directory's path.
      type: str
      returned: always
    changed:
      description: Whether it was created, or its owner, group or mode changed.
      type: bool
      returned: always
files:
  description: Every file of O(files), in order.
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /etc/redis/redis-main.conf, changed: true, restart: false}
  contains:
    path:
      description: The file's path.
      type: str
      returned: always
    changed:
      description: Whether the file on disk differed (bytes, owner, group or mode).
      type: bool
      returned: always
    restart:
      description:
        - Whether the instance must restart to run the new content. Only files with
          O(files[].checksum_header) ever say V(true).
      type: bool
      returned: always
    previous:
      description: The O(files[].previous) file this call wrote the former content to.
      type: str
      returned: when the former content was kept
      sample: /etc/redis/redis-main.conf.previous
"""

import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.redisops.redis.plugins.module_utils.instance_files import file_state, mask_secrets, wanted_text


def owner_ids(module, spec):
    try:
        return pwd.getpwnam(spec["owner"]).pw_uid, grp.getgrnam(spec["group"]).gr_gid
    except KeyError as exc:
        module.fail_json(msg="%s: no such user or group %s. Nothing was changed after it." % (spec["path"], exc))


def octal_mode(module, spec):
    try:
        return int(spec["mode"], 8)
    except ValueError:
        module.fail_json(msg="%s: mode %r is not an octal number such as '0640'." % (spec["path"], spec["mode"]))


def attributes_differ(path, uid, gid, mode):
    status = os.stat(path)
    return (status.st_uid, status.st_gid, status.st_mode & 0o7777) != (uid, gid, mode)


def ensure_directory(module, spec):
    path = spec["path"]
    uid, gid = owner_ids(module, spec)
    mode = octal_mode(module, spec)
    exists = os.path.isdir(path)
    if exists and (spec["only_create"] or not attributes_differ(path, uid, gid, mode)):
        return False
    if not module.check_mode:
        if not exists:
            os.mkdir(path, mode)
        os.chown(path, uid, gid)
        os.chmod(path, mode)
    return True


def read_text(path):
    try:
        with open(path, "rb") as handle:
            return to_text(handle.read(), errors="surrogate_or_strict")
    except FileNotFoundError:
        return None


def write_atomically(path, text, uid, gid, mode):
    directory = os.path.dirname(path)
    descriptor, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(to_bytes(text))
            handle.flush()
            os.fsync(handle.fileno())
        os.chown(temporary, uid, gid)
        os.chmod(temporary, mode)
        os.rename(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def ensure_file(module, spec, diffs):
    path = spec["path"]
    uid, gid = owner_ids(module, spec)
    mode = octal_mode(module, spec)
    secret = spec["content"] is None
    content = spec["secret_content"] if secret else spec["content"]
    current = read_text(path)
    content_changed, restart = file_state(current, content, spec["checksum_header"])
    changed = content_changed or (current is not None and attributes_differ(path, uid, gid, mode))
    if content_changed and module._diff and (spec["masked_diff"] or not secret):
        before, after = mask_secrets(current or "", wanted_text(content, spec["checksum_header"]))
        diffs.append(dict(before_header=path, after_header=path, before=before, after=after))
    result = dict(path=path, changed=changed, restart=restart)
    if changed and not module.check_mode:
        if content_changed:
            if restart and current is not None and spec["previous"]:
                write_atomically(spec["previous"], current, uid, gid, mode)
                result["previous"] = spec["previous"]
            write_atomically(path, wanted_text(content, spec["checksum_header"]), uid, gid, mode)
        else:
            os.chown(path, uid, gid)
            os.chmod(path, mode)
    return result


class _AnsibleModule(AnsibleModule):
    """AnsibleModule that logs its invocation (syslog, the journal) with files[].secret_content masked.

    ansible-core logs a list option as its str(), in which a no_log suboption's value that holds a
    newline (every file's content does) is escaped, so its mask (a search for the value) misses it:
    the secret files' passwords reached the journal of every systemd host the role ran on.
    """

    def _log_invocation(self):
        params = self.params
        self.params = dict(params, files=[
            dict(spec, secret_content=None if spec.get("secret_content") is None else "NOT_LOGGING_PARAMETER")
            for spec in params.get("files") or []])
        try:
            super()._log_invocation()
        finally:
            self.params = params


def main():
    module = _AnsibleModule(
        argument_spec=dict(
            directories=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                owner=dict(type="str", required=True),
                group=dict(type="str", required=True),
                mode=dict(type="str", required=True),
                only_create=dict(type="bool", default=False),
            )),
            files=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                content=dict(type="str"),
                secret_content=dict(type="str", no_log=True),
                owner=dict(type="str", required=True),
                group=dict(type="str", required=True),
                mode=dict(type="str", required=True),
                checksum_header=dict(type="bool", default=False),
                previous=dict(type="path"),
                masked_diff=dict(type="bool", default=False),
            ), mutually_exclusive=[("content", "secret_content")],
                required_one_of=[("content", "secret_content")]),
        ),
        supports_check_mode=True,
    )
    directories = []
    files = []
    diffs = []
    try:
        for spec in module.params["directories"]:
            directories.append(dict(path=spec["path"], changed=ensure_directory(module, spec)))
        for spec in module.params["files"]:
            files.append(ensure_file(module, spec, diffs))
    except OSError as exc:
        module.fail_json(msg="Cannot write %s: %s" % (getattr(exc, "filename", None) or "a file", exc),
                         directories=directories, files=files)
    changed = any(entry["changed"] for entry in directories + files)
    result = dict(changed=changed, directories=directories, files=files)
    if diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
