# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


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
