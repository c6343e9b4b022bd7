from __future__ import annotations

import json

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._tasks import Poller, TasksApi
from ansible_collections.cloudimages.transfer.tests.unit.plugins.module_utils.fake_clock import clock  # noqa: F401  # pylint: disable=unused-import


def test_poller_waits_with_jitter_until_done(clock):
    states = iter(["pending", "processing", "success"])

    def check():
        state = next(states)
        return state == "success", state, state

    result = Poller(interval=30, deadline=600).wait(check, "task")
    assert result == "success"
    assert 54 <= clock.now <= 66  # two waits of 30 s, +/- 10 %


def test_poller_writes_what_it_waits_for_at_every_poll(clock, tmp_path):
    path, seen = tmp_path / "progress.json", []
    states = iter(["pending", "processing", "success"])

    def check():
        if path.exists():
            seen.append(json.loads(path.read_text()))
        state = next(states)
        return state == "success", state, state

    Poller(interval=30, deadline=600, progress_file=str(path)).wait(check, "export task 7 in region DFW")
    last = json.loads(path.read_text())
    assert [d["detail"] for d in seen] == ["pending", "processing"]
    assert (last["operation"], last["state"], last["detail"], last["polls"], last["poll_interval"]) == \
        ("waiting for export task 7 in region DFW", "done", "success", 3, 30)
    assert 54 <= last["elapsed_seconds"] <= 66
    assert [p.name for p in tmp_path.iterdir()] == ["progress.json"]  # no temporary file left beside it


def test_poller_deadline_says_what_and_where_it_stopped(clock):
    with pytest.raises(TransferError, match=r"Gave up waiting for export task 7 after 100 s .*last state: processing"):
        Poller(interval=30, deadline=100).wait(lambda: (False, None, "processing"), "export task 7")


def test_an_adaptive_poller_looks_again_after_a_fifth_of_the_time_waited_up_to_the_interval(clock):
    moments = []

    def check():
        moments.append(clock.now)
        return clock.now >= 400, None, "importing"

    Poller(interval=30, deadline=3600, adaptive=True).wait(check, "image 7 to become active")
    pauses = [b - a for a, b in zip(moments, moments[1:])]
    assert pauses[0] == pytest.approx(0.2)  # at once, then a fifth of the time waited so far
    assert all(p == pytest.approx(min(30, max(0.2, t * 0.2))) for p, t in zip(pauses, moments))
    assert max(pauses) == pytest.approx(30) and len(moments) < 50  # 400 s: tens of polls, not thousands


@pytest.mark.parametrize("interval,deadline", [(0.5, 10), (30, 0)])
def test_poller_refuses_bad_settings(interval, deadline):
    with pytest.raises(TransferError):
        Poller(interval=interval, deadline=deadline)


class FakeTasks(TasksApi):
    def __init__(self, outcomes):
        self.outcomes, self.created = list(outcomes), 0
        self.glance = type("G", (), {"region": "R1"})()

    def create(self, task_type, task_input, matches=None):
        self.created += 1
        return {"id": str(self.created)}

    def _state(self, task_id):
        status, message = self.outcomes.pop(0)
        return True, {"id": task_id, "status": status, "message": message, "result": {}}, status


def test_a_passing_failure_makes_a_new_task(clock):
    api = FakeTasks([("failure", "Internal error: upstream timed out"), ("success", "")])
    task = api.run("export", {}, Poller(1, 100), attempts=2)
    assert task["status"] == "success" and api.created == 2 and task["attempts"] == 2


def test_a_failure_of_the_input_is_not_retried(clock):
    api = FakeTasks([("failure", "Swift container exports does not exist in R1"), ("success", "")])
    with pytest.raises(TransferError, match="does not exist") as err:
        api.run("export", {}, Poller(1, 100), attempts=2)
    assert api.created == 1 and err.value.details["task_failures"] == ["Swift container exports does not exist in R1"]


def test_retries_are_bounded(clock):
    api = FakeTasks([("failure", "boom")] * 5)
    with pytest.raises(TransferError, match="boom"):
        api.run("import", {}, Poller(1, 100), attempts=2)
    assert api.created == 3
