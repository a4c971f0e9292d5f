"""The plan tells the truth: `site.yml --check --diff` on a state reports exactly the changes that the
real run then makes (issue 11, part 1).

One bed (a master and a replica of site.yml, process service manager, harness ports) goes through
the states one after another (a new host with the server installed, converged, drifted by hand
with a masterauth to repair, a new instance, a re-pointed replica, a password rotation, a main file
change that restarts every instance); on each, the plan runs first, then the real run (with --diff), and the
two are compared change for change: the tasks that changed (a restart by the instance it restarts),
the recap's changed count, the files named in the diffs, and the live commands per instance
(`NAME: would run: COMMAND` in the plan, `NAME: ran: COMMAND` in the run). No password in any
output, -vvv included.
"""

from __future__ import annotations

import re

import pytest

from harness import PASSWORD, Bed, ansible_env, free_port, recap, run_playbook, show

NEW_PASSWORD = "plan; rotated 'pass' #2"
TASK = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(?:[^\]:]+ : )?(.*?)\] \**$")
INCLUDED = re.compile(r"^included: \S+/restart\.yml for localhost => \(item=(.*?)\)$")
CHANGED = re.compile(r"^changed: \[localhost\](?: => \(item=(.*?)\))?")
DIFF_FILE = re.compile(r"^\+\+\+ after: (\S+)$", re.M)
LIVE = re.compile(r'^\s*"([a-z][a-z0-9_-]*): (?:would run|ran): (.*?)",?$', re.M)


def changes(proc):
    """The changed results of a run: (task, item), sorted; a restart's item is the instance it restarts.

    The handler includes restart.yml once per instance (all "included:" lines first, in order), then
    runs its tasks instance after instance: each "Restart the instance (process)" is the next one."""
    found = []
    task = restarting = None
    queue = []
    for line in proc.stdout.splitlines():
        match = TASK.match(line)
        if match:
            task = match.group(1)
            if task == "Restart the instance (process)":
                restarting = queue.pop(0) if queue else None
            continue
        match = INCLUDED.match(line)
        if match:
            queue.append(match.group(1))
            continue
        match = CHANGED.match(line)
        if match:
            item = match.group(1)
            if item is None and task.startswith("Restart the instance ("):
                item = restarting
            found.append((task, item))
    return sorted(found, key=lambda change: (change[0], change[1] or ""))


def restarts(proc):
    """The instances a run restarted (or a plan would)."""
    return [item for task, item in changes(proc) if task.startswith("Restart the instance (")]


def diff_files(proc):
    return sorted(set(DIFF_FILE.findall(proc.stdout)))


def live_commands(proc):
    return sorted(set(LIVE.findall(proc.stdout)))


def site(bed, *args):
    """site.yml on the bed, results as JSON (one string of a list per line, not wrapped as YAML)."""
    proc = run_playbook("site.yml", bed.inventory, extra_args=args, env=ansible_env(ANSIBLE_CALLBACK_RESULT_FORMAT="json"))
    assert proc.returncode == 0, show(proc)
    return proc


def plan_and_run(bed, verbose=False):
    return site(bed, "--check", "--diff", *(("-vvv",) if verbose else ())), site(bed, "--diff")


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-plan-")
    yield bed
    bed.stop_all()


def hand_drift(bed):
    """A replica cut off by hand and given a wrong masterauth, its main file edited by hand."""
    replica = bed.client(bed.replica_port)
    replica.execute_command("REPLICAOF", "NO", "ONE")
    replica.config_set("masterauth", "wrong by hand")
    with open(bed.path("etc", "redis-replica.conf"), "a") as handle:
        handle.write("# edited by hand\n")


@pytest.fixture(scope="module")
def states(bed):
    """{state: (plan, run, expected live commands or None)} for the states, made one after another."""
    outcomes = {}
    # A host with the server installed and nothing of the role yet.
    outcomes["new host"] = plan_and_run(bed)
    outcomes["converged"] = plan_and_run(bed)
    hand_drift(bed)
    outcomes["drifted"] = plan_and_run(bed)
    extra = {"name": "extra", "port": free_port(), "replicaof": "localhost:master"}
    bed.write_inventory(instances=bed.instances + [extra])
    outcomes["new instance"] = plan_and_run(bed)
    bed.write_inventory(instances=bed.instances + [dict(extra, replicaof="localhost:replica")])
    outcomes["re-pointed replica"] = plan_and_run(bed)
    bed.write_inventory(instances=bed.instances + [dict(extra, replicaof="localhost:replica")],
                        redis_server_password=NEW_PASSWORD, redis_server_previous_passwords=[PASSWORD])
    outcomes["password rotation"] = plan_and_run(bed, verbose=True)
    bed.write_inventory(instances=bed.instances + [dict(extra, replicaof="localhost:replica")],
                        redis_server_password=NEW_PASSWORD, redis_server_previous_passwords=[PASSWORD],
                        redis_server_config={"maxmemory-samples": 7})
    outcomes["main file change"] = plan_and_run(bed)
    return outcomes


STATES = ("new host", "converged", "drifted", "new instance", "re-pointed replica", "password rotation",
          "main file change")


@pytest.mark.parametrize("state", STATES)
def test_the_plan_changes_what_the_run_changes(states, state):
    plan, run = states[state]
    assert changes(plan) == changes(run), "%s\nPLAN %s\nRUN %s" % (state, changes(plan), changes(run))
    assert recap(plan)[1] == recap(run)[1], state


@pytest.mark.parametrize("state", STATES)
def test_the_plan_names_every_file_and_live_command_the_run_changed(states, state):
    plan, run = states[state]
    assert diff_files(plan) == diff_files(run), state
    assert live_commands(plan) == live_commands(run), state


@pytest.mark.parametrize("state", STATES)
def test_no_password_in_the_plan_or_the_run(states, state):
    for proc in states[state]:
        text = proc.stdout + proc.stderr
        assert PASSWORD not in text and NEW_PASSWORD not in text, state


def test_a_converged_bed_plans_nothing(states):
    plan, run = states["converged"]
    assert changes(plan) == [] and recap(plan)[1] == 0 and diff_files(plan) == [] and live_commands(plan) == []


def test_each_state_plans_what_it_is_about(bed, states):
    etc = bed.path("etc")
    # A new host: both instances' files, the live ones too (the replica's master in them), then a start.
    plan = states["new host"][0]
    assert diff_files(plan) == sorted("%s/redis-%s%s" % (etc, name, kind)
                                      for name in ("master", "replica") for kind in (".conf", ".live.conf"))
    assert "replicaof 127.0.0.1 %d" % bed.master_port in plan.stdout
    assert ("Start the instances that are not running (process)", None) in changes(plan)
    # Drift: the live repair of the replica named command by command, the hand edit without a restart.
    plan = states["drifted"][0]
    assert ("replica", "REPLICAOF 127.0.0.1 %d" % bed.master_port) in live_commands(plan)
    assert ("replica", "CONFIG SET masterauth ********") in live_commands(plan)
    assert restarts(plan) == []
    # A new instance: started once (not also restarted), its files and the master's new live default.
    plan = states["new instance"][0]
    assert ("Start the instances that are not running (process)", None) in changes(plan) and restarts(plan) == []
    assert "%s/redis-extra.live.conf" % etc in diff_files(plan)
    assert "extra: not running yet" in plan.stdout
    # A re-point: the live files (the masters' replica counts too) and the commands, no restart.
    plan = states["re-pointed replica"][0]
    assert diff_files(plan) == sorted("%s/redis-%s.live.conf" % (etc, name) for name in ("extra", "master", "replica"))
    assert restarts(plan) == []
    assert ("extra", "REPLICAOF 127.0.0.1 %d" % bed.replica_port) in live_commands(plan)
    assert "-replicaof 127.0.0.1 %d" % bed.master_port in plan.stdout
    assert "+replicaof 127.0.0.1 %d" % bed.replica_port in plan.stdout
    # A password rotation: every live file (labels for the secrets) and the masked commands, -vvv too.
    plan = states["password rotation"][0]
    assert diff_files(plan) == sorted("%s/redis-%s.live.conf" % (etc, name) for name in ("extra", "master", "replica"))
    assert ("master", "CONFIG SET requirepass ********") in live_commands(plan)
    assert "<hidden" in plan.stdout
    # A main file change: a rolling restart of every instance, each named, and no live command.
    plan = states["main file change"][0]
    assert sorted(restarts(plan)) == ["extra", "master", "replica"]
    assert diff_files(plan) == sorted("%s/redis-%s.conf" % (etc, name) for name in ("extra", "master", "replica"))
    assert live_commands(plan) == []
