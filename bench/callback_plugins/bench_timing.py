# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback of the benchmark (bench/run.py): wall-clock time of every task and loop item.

Enabled only by bench/run.py (ANSIBLE_CALLBACK_PLUGINS + ANSIBLE_CALLBACKS_ENABLED), which reads
the JSON lines it appends to $BENCH_TIMING_FILE: one per task start, one per host or item result
(ok, failed or skipped) and one at the end of the play recap.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timing
type: aggregate
short_description: Record the wall-clock time of each task and result for bench/run.py
description:
  - Appends one JSON line per task start, per result (ok, failed, skipped; per loop item too) and at
    the recap to the file named by E(BENCH_TIMING_FILE).
requirements:
  - the BENCH_TIMING_FILE environment variable
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._path = os.environ.get("BENCH_TIMING_FILE")

    def _write(self, **record):
        if not self._path:
            return
        record["time"] = time.time()
        with open(self._path, "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._write(event="task", task=task.get_name())

    def v2_playbook_on_handler_task_start(self, task):
        self._write(event="task", task=task.get_name())

    def _result(self, event, result):
        item = result._result.get("item")
        if isinstance(item, dict):
            item = item.get("name", str(item))
        # action: bench/run.py counts the module executions of a run from it (controller-side
        # actions such as set_fact run none); loop: the summary result of a loop, after its items.
        self._write(event=event, task=result._task.get_name(), host=result._host.get_name(),
                    action=result._task.action, loop="results" in result._result,
                    item=item, changed=bool(result._result.get("changed")),
                    elapsed=result._result.get("elapsed"), progress=self._progress(result._result))

    @staticmethod
    def _progress(result):
        """replication_check's sync progress: its own, or that of each of its instances."""
        if "instances" in result:
            return [sample for instance in result["instances"] for sample in instance.get("progress") or []]
        return result.get("progress")

    def v2_runner_on_ok(self, result):
        self._result("ok", result)

    def v2_runner_item_on_ok(self, result):
        self._result("item_ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("failed", result)

    def v2_runner_item_on_failed(self, result):
        self._result("item_failed", result)

    def v2_runner_on_skipped(self, result):
        self._result("skipped", result)

    def v2_runner_item_on_skipped(self, result):
        self._result("item_skipped", result)

    def v2_playbook_on_stats(self, stats):
        self._write(event="stats", task="")
