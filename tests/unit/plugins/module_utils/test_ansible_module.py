"""The collection's AnsibleModule logs its invocation without the no_log suboptions' values.

ansible-core masks a no_log suboption by searching the str() of its list or dict option for the
value; str() escapes a backslash, a quote, a newline, and the search misses them. These tests see
that miss with ansible-core's own AnsibleModule, then none with the collection's.
"""

from __future__ import annotations

import pytest
from ansible.module_utils import basic

from ansible_collections.redisops.redis.plugins.module_utils.ansible_module import AnsibleModule, masked
from ansible_collections.redisops.redis.tests.unit.compat import patch_module_args

SECRETS = ["back\\slash-pass", "quote'pass", "two\nlines"]
SPEC = dict(
    name=dict(type="str"),
    members=dict(type="list", elements="dict", options=dict(
        port=dict(type="int"),
        login_password=dict(type="str", no_log=True),
        tls=dict(type="dict", options=dict(key=dict(type="str", no_log=True), ca=dict(type="str"))),
    )),
    monitor=dict(type="dict", options=dict(auth_pass=dict(type="str", no_log=True), quorum=dict(type="int"))),
)
ARGS = dict(name="bed",
            members=[dict(port=7001, login_password=SECRETS[0], tls=dict(key=SECRETS[2], ca="ca.crt")), dict(port=7002)],
            monitor=dict(auth_pass=SECRETS[1], quorum=2))


def invocation(cls, monkeypatch):
    logged = []
    monkeypatch.setattr(cls, "log", lambda self, msg, log_args=None: logged.append(msg))
    with patch_module_args(ARGS):
        module = cls(argument_spec=SPEC)
    return module, " ".join(msg for msg in logged if msg.startswith("Invoked with"))


def test_ansible_core_alone_logs_escaped_secrets(monkeypatch):
    # The reason for the class: if this ever fails, ansible-core masks them itself.
    logged = invocation(basic.AnsibleModule, monkeypatch)[1]
    assert "back\\\\slash-pass" in logged or "quote\\'pass" in logged, logged


def test_the_collections_module_logs_no_secret_and_keeps_the_rest(monkeypatch):
    module, logged = invocation(AnsibleModule, monkeypatch)
    for secret in SECRETS:
        assert secret not in logged and repr(secret)[1:-1] not in logged, logged
    assert logged.count("NOT_LOGGING_PARAMETER") == 3 and "7001" in logged and "ca.crt" in logged, logged
    # the module itself still reads the real values
    assert module.params["members"][0]["login_password"] == SECRETS[0]
    assert module.params["monitor"]["auth_pass"] == SECRETS[1]


@pytest.mark.parametrize("params, expected", [
    ({"members": None}, {"members": None}),
    ({"members": [dict(port=1, login_password=None, tls=None)]},
     {"members": [dict(port=1, login_password=None, tls=None)]}),
    ({"members": ["not a dict"]}, {"members": ["not a dict"]}),
])
def test_masked_leaves_what_holds_no_secret(params, expected):
    assert masked(params, SPEC) == expected
