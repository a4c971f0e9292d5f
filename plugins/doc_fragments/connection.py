# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

from ansible_collections.redisops.redis.plugins.module_utils.connection import address_member_spec, member_spec
from ansible_collections.redisops.redis.plugins.module_utils.replication import (
    check_member_options,
    info_member_options,
)
from ansible_collections.redisops.redis.plugins.module_utils.runtime_config import (
    member_options as runtime_member_options,
)


class ModuleDocFragment:
    # Connection options shared by every module of the collection.
    DOCUMENTATION = r"""
options:
  instance:
    description:
      - Name of the instance in messages and results, such as V(replica) or V(host1:replica).
      - Defaults to the endpoint, V(HOST:PORT) or V(unix:PATH).
    type: str
  login_host:
    description:
      - Address of the Redis or Valkey server to connect to.
      - Ignored when O(login_unix_socket) is set.
    type: str
    default: 127.0.0.1
  login_port:
    description:
      - TCP port of the server.
    type: int
    default: 6379
  login_unix_socket:
    description:
      - Path of the server's unix socket. Takes precedence over O(login_host) and O(login_port).
    type: path
  login_user:
    description:
      - ACL user name (Redis 6 and later). Leave unset to authenticate as the C(default) user.
    type: str
  login_password:
    description:
      - Password of O(login_user), or the C(requirepass) password when O(login_user) is unset.
    type: str
  connect_timeout:
    description:
      - Seconds to wait for the connection and for each command.
    type: float
    default: 5.0
  tls:
    description:
      - Connect with TLS.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the server's certificate and host name when O(tls=true).
    type: bool
    default: true
  tls_check_hostname:
    description:
      - With O(validate_certs=true), also check that the certificate names O(login_host). Set V(false)
        to verify only that a trusted CA signed it, e.g. for a host's own instances on a loopback
        address that its certificate does not list.
    type: bool
    default: true
  tls_ca_certs:
    description:
      - CA bundle used to verify the server's certificate.
    type: path
  tls_certfile:
    description:
      - Client certificate, for servers that require one (C(tls-auth-clients yes)).
    type: path
  tls_keyfile:
    description:
      - Private key of O(tls_certfile).
    type: path
requirements:
  - redis (the redis-py Python library) on the managed host
"""


# The O(instances) option of each connection module, generated from the member spec its
# argument_spec uses (module_utils/connection.py member_spec), so that the options of one instance
# are written once: in the module's own DOCUMENTATION at the top level, where they describe the
# single-instance form. Ansible merges a fragment's options into a module's one level deep only (a
# module cannot add suboptions to a fragment's option), so each module gets its own generated
# fragment; its DOCUMENTATION gives O(instances) its description. Ansible (ansible-doc,
# validate-modules) reads the fragments as attributes of the class; they are set after it, as
# ansible-test's yamllint takes every assignment inside the class for a string literal.

def _suboptions(spec, prefix=""):
    """The documentation of the options of spec: each "As O(PREFIX NAME)", with its type, choices, default."""
    docs = {}
    for name, option in spec.items():
        doc = {key: option[key] for key in ("type", "elements", "choices", "required", "default", "aliases")
               if key in option}
        if prefix:
            doc["description"] = "As O(%s%s)." % (prefix, name)
        elif name == "instance":
            doc["description"] = "Name of this instance in messages and results. Defaults to its endpoint."
        elif option.get("required"):
            doc["description"] = "As O(%s), for this instance." % name
        else:
            doc["description"] = "As O(%s), for this instance. Defaults to O(%s)." % (name, name)
        if "options" in option:
            doc["suboptions"] = _suboptions(option["options"], "%s%s[]." % (prefix, name))
        docs[name] = doc
    return docs


def instances_fragment(options=None, required=()):
    """A fragment documenting O(instances): a list of member_spec(options, required) items."""
    suboptions = _suboptions(member_spec(options, required))
    return json.dumps({"options": {"instances": {"type": "list", "elements": "dict", "suboptions": suboptions}}})


ModuleDocFragment.MEMBERS = instances_fragment()
ModuleDocFragment.REPLICATION_INFO = instances_fragment(info_member_options())
ModuleDocFragment.REPLICATION_CHECK = instances_fragment(check_member_options(), required=("role",))
ModuleDocFragment.RUNTIME_CONFIG = instances_fragment(runtime_member_options(), required=("role",))
# The failover module's O(master) and O(replicas): the same member spec, address required.
ModuleDocFragment.FAILOVER = json.dumps({"options": {
    "master": {"type": "dict", "suboptions": _suboptions(address_member_spec())},
    "replicas": {"type": "list", "elements": "dict", "default": [], "suboptions": _suboptions(address_member_spec())},
}})
