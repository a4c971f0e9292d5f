# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: brief
type: stdout
short_description: The default output, with what debug tasks say also when ok results are hidden
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - The C(ansible.builtin.default) stdout callback, with one difference. With O(display_ok_hosts=false)
    the default callback hides every task that changed nothing, C(ansible.builtin.debug) tasks
    included, so a run that changes nothing would not show the state the role prints at its end.
    This callback hides ok results as asked, except those of C(ansible.builtin.debug) tasks; the
    C(included:) lines of C(include_tasks) and C(include_role) count as ok results.
  - With O(display_ok_hosts=false) it also hides the failures that a task ignores (C(ignore_errors)),
    which the role reports itself in a later task, in the user's words; C(-v) does not show them,
    O(display_ok_hosts=true) does.
  - A failure of an C(ansible.builtin.assert) or C(ansible.builtin.fail) task is shown once, its
    message, instead of the error and then the result with the same message.
  - The project's C(ansible.cfg) sets it with O(display_ok_hosts=false) and O(display_skipped_hosts=false);
    a run prints the tasks that changed or failed, the warnings and what the debug tasks say.
extends_documentation_fragment:
  - default_callback
  - result_format_callback
requirements:
  - set as the stdout callback in the configuration (C(stdout_callback = redisops.redis.brief))
"""

from ansible import constants as C
from ansible.playbook.task_include import TaskInclude
from ansible.plugins.callback.default import CallbackModule as DefaultCallback
from ansible.utils.fqcn import add_internal_fqcns

_MESSAGE_ACTIONS = frozenset(add_internal_fqcns(("assert", "fail")))


class CallbackModule(DefaultCallback):
    """ansible.builtin.default that always shows the ok results of debug tasks."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "redisops.redis.brief"

    def __init__(self):
        super().__init__()
        self._showing_debug = False

    def get_option(self, k, hostvars=None):
        if k == "display_ok_hosts" and self._showing_debug:
            return True
        return super().get_option(k, hostvars=hostvars)

    def _as_debug(self, show, result):
        self._showing_debug = result.task.action in C._ACTION_DEBUG
        try:
            show(result)
        finally:
            self._showing_debug = False

    def v2_runner_on_ok(self, result):
        if isinstance(result.task, TaskInclude) and not self.get_option("display_ok_hosts"):
            return
        self._as_debug(super().v2_runner_on_ok, result)

    def v2_playbook_on_include(self, included_file):
        if self.get_option("display_ok_hosts"):
            super().v2_playbook_on_include(included_file)

    def v2_runner_item_on_ok(self, result):
        self._as_debug(super().v2_runner_item_on_ok, result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors and not self.get_option("display_ok_hosts"):
            return
        if result.task.action in _MESSAGE_ACTIONS and "msg" in result.result:
            # The role's own message: the error display would repeat it with the task's source.
            for key in ("exception", "assertion", "evaluated_to"):
                result.result.pop(key, None)
        super().v2_runner_on_failed(result, ignore_errors=ignore_errors)
