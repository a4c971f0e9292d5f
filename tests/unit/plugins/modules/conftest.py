"""Run a module's main() in-process, with its redis client replaced by a fake."""

from __future__ import annotations

import os

import pytest
import redis

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.redisops.redis.tests.unit.compat import patch_module_args

from ansible_collections.redisops.redis.plugins.module_utils import connection

INFO_FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             "fixtures", "info")


class ModuleExit(Exception):
    """Raised by the patched exit_json and fail_json, carrying the result."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class FakeClient:
    """Answers INFO like a server that goes through the given states, one per INFO server call.

    Each answer is the name of a recorded INFO file (it holds both sections) or an exception to
    raise; the last answer repeats.
    """

    def __init__(self, *answers):
        self.answers = list(answers)
        self.text = None
        self.sections = []

    def config_get(self, name):
        """Every directive is known but those named no-such-*."""
        return {} if name.startswith("no-such-") else {name: ""}

    def close(self):
        self.closed = True

    def ping(self):
        """The login: fails as the first answer does when that is a connection or login error."""
        if isinstance(self.answers[0], redis.ConnectionError):
            raise self.answers[0]
        return True

    def info(self, section):
        self.sections.append(section)
        if section == "server":
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
            if isinstance(answer, Exception):
                raise answer
            with open(os.path.join(INFO_FIXTURES, answer)) as handle:
                self.text = handle.read()
        return self.text


@pytest.fixture
def run_main(monkeypatch):
    """run_main(module, args, client) -> the result of exit_json, or of fail_json with failed=True.

    The real AnsibleModule validates args; open_client() returns client (or client[port], when
    client is a dict), to the real login() of module_utils/connection too; warnings are returned in
    the result's "warnings".
    """
    def run(module, args, client=None):
        warnings = []

        def exit_json(self, **result):
            raise ModuleExit(dict(result, failed=False, warnings=warnings))

        def fail_json(self, msg, **result):
            raise ModuleExit(dict(result, failed=True, msg=msg, warnings=warnings))

        monkeypatch.setattr(AnsibleModule, "exit_json", exit_json)
        monkeypatch.setattr(AnsibleModule, "fail_json", fail_json)
        monkeypatch.setattr(AnsibleModule, "warn", lambda self, warning: warnings.append(warning))

        # client may be {port: client} for a module that talks to several instances.
        def open_client(params):
            return client[params["login_port"]] if isinstance(client, dict) else client
        monkeypatch.setattr(connection, "open_client", open_client)
        if hasattr(module, "open_client"):
            monkeypatch.setattr(module, "open_client", open_client)
        with patch_module_args(args), pytest.raises(ModuleExit) as raised:
            module.main()
        return raised.value.result
    return run


@pytest.fixture
def fake_client():
    """fake_client(*answers) -> a FakeClient."""
    return FakeClient
