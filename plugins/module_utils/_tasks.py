# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Waiting on asynchronous work: the Images v2 tasks API and a polling policy.

The vendors document 30 s as the polling interval for tasks; private clouds may allow less,
down to a floor: those waits poll at the interval, with a little jitter. Glance's own image
status is no vendor task: its waits are adaptive, the first poll after FIRST_POLL seconds and
each next one after a fifth of the time waited so far (so the end is seen at most 20 % late),
up to the interval. Every wait has an overall deadline. A task that fails for
a reason that may pass is re-created a bounded number of times; one that failed because its
input is wrong is not.
"""

from __future__ import annotations

import datetime
import json
import random
import re
import time
from dataclasses import dataclass
from urllib.parse import urljoin

from ansible_collections.cloudimages.transfer.plugins.module_utils import _cancel
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import HttpError, create_once
from ansible_collections.cloudimages.transfer.plugins.module_utils._local_files import write_atomically

POLL_FLOOR = 1.0
FIRST_POLL = 0.2  # seconds before the first look again at an adaptive wait
ADAPTIVE_SHARE = 0.2  # an adaptive wait pauses this share of the time waited so far
CLOCK_SLACK = 300.0  # seconds the server's clock may be behind ours when adopting a task
PERMANENT = re.compile(r"not found|does not exist|not a valid|unsupported|must be|not active|forbidden|"
                       r"not allowed|invalid", re.IGNORECASE)


def created_since(task: dict, moment: float) -> bool:
    """Whether the task was created at or after ``moment`` (a Unix time), by its created_at."""
    try:
        created = datetime.datetime.fromisoformat(str(task.get("created_at")).replace("Z", "+00:00"))
    except ValueError:
        return False
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.timezone.utc)
    return created.timestamp() >= moment


@dataclass(frozen=True)
class Waiting:
    """The options of a module that waits on asynchronous work (the module's waiting_argument_spec)."""

    poll_interval: float = 30
    wait_timeout: float = 21600
    task_retries: int = 2
    max_size: int | None = None
    progress_file: str | None = None

    def poller(self, adaptive: bool = False) -> Poller:
        """The vendor's tasks at the interval; ``adaptive`` for waits on Glance itself."""
        return Poller(self.poll_interval, self.wait_timeout, progress_file=self.progress_file, adaptive=adaptive)


@dataclass
class Poller:
    interval: float = 30.0
    deadline: float = 6 * 3600.0
    jitter: float = 0.1
    progress_file: str | None = None  # rewritten at every poll: what is awaited, its state, for how long
    adaptive: bool = False  # from FIRST_POLL up to the interval (Glance's image status), else the interval

    def __post_init__(self):
        if self.interval < POLL_FLOOR:
            raise TransferError(f"poll_interval must be at least {POLL_FLOOR:g} s, got {self.interval:g}")
        if self.deadline <= 0:
            raise TransferError(f"wait_timeout must be positive, got {self.deadline:g}")

    def wait(self, check, what: str):
        """check() -> (done, value, state); poll until done or the deadline, then say what it was doing."""
        started, since = time.monotonic(), time.time()
        polls = 0
        while True:
            done, value, state = check()
            polls += 1
            elapsed = time.monotonic() - started
            self.report(what, state, elapsed, polls, since, done)
            if done:
                return value
            if elapsed >= self.deadline:
                raise TransferError(f"Gave up waiting for {what} after {elapsed:.0f} s (wait_timeout "
                                    f"{self.deadline:g} s); last state: {state}", timed_out=True)
            pause = self.pause(elapsed)
            left = min(pause, max(self.deadline - elapsed, 0.0))
            while left > 0:  # in steps of a second at most, so that a cancel is seen at once
                time.sleep(min(left, 1.0))
                left -= 1.0
                _cancel.check()

    def pause(self, elapsed: float) -> float:
        """Seconds until the next poll: a share of the time waited so far for an adaptive wait
        (a short import is seen done within a fraction of a second, a long one polled at the
        interval), the interval with jitter otherwise."""
        if self.adaptive:
            return min(self.interval, max(FIRST_POLL, elapsed * ADAPTIVE_SHARE))
        return self.interval * random.uniform(1 - self.jitter, 1 + self.jitter)

    def report(self, what: str, state: str, elapsed: float, polls: int, since: float, done: bool) -> None:
        """The progress file of a wait: {"operation", "state", "elapsed_seconds", "poll_interval",
        "polls", "started_at", "updated_at"} (the format of the copy's, without bytes)."""
        if self.progress_file:
            write_atomically(self.progress_file, json.dumps({
                "operation": f"waiting for {what}", "state": "done" if done else "running", "detail": state,
                "elapsed_seconds": round(elapsed, 1), "polls": polls,
                "poll_interval": round(self.pause(elapsed), 1) if self.adaptive else self.interval,
                **({"poll_interval_max": self.interval} if self.adaptive else {}),
                "started_at": since, "updated_at": time.time()}, sort_keys=True))


class TasksApi:
    """POST/GET /v2/tasks of one Images endpoint."""

    def __init__(self, glance):
        self.glance = glance

    def available(self) -> bool:
        """Whether this endpoint offers the tasks API to these credentials."""
        resp = self.glance.http.request("GET", f"{self.glance.url}/v2/tasks", "probe the tasks API",
                                        params={"limit": "1"}, ok=(200, 401, 403, 404, 405))
        return resp.status_code == 200

    def create(self, task_type: str, task_input: dict, matches=None) -> dict:
        """POST /v2/tasks. After an attempt whose outcome is unknown (a gateway error once the
        request was sent), a task with this input made since is adopted instead of a second."""
        started = time.time()

        def send():
            return self.glance.http.request(
                "POST", f"{self.glance.url}/v2/tasks", f"create an {task_type} task in region {self.glance.region}",
                headers={"Content-Type": "application/json"},
                body=json.dumps({"type": task_type, "input": task_input}).encode(), ok=(201,)).json()

        def find():
            same = matches or (lambda given: given == task_input)
            for status in ("pending", "processing", "success", "failure"):
                for task in self.list_tasks(task_type, status):
                    if created_since(task, started - CLOCK_SLACK) and same(task.get("input") or {}):
                        return task
            return None

        return create_once(send, find)

    def get(self, task_id: str) -> dict:
        return self.glance.http.request("GET", f"{self.glance.url}/v2/tasks/{task_id}",
                                        f"read task {task_id} in region {self.glance.region}").json()

    def list_tasks(self, task_type: str, status: str):
        """Every task of this type and status (each read in full: lists leave out input and
        result), following ``next`` to the last page."""
        url, params, seen = f"{self.glance.url}/v2/tasks", {"type": task_type, "status": status}, set()
        while url:
            listed = self.glance.http.request("GET", url, f"list tasks in region {self.glance.region}",
                                              params=params).json()
            for brief in listed.get("tasks", []):
                yield self.get(brief["id"])
            nxt = listed.get("next")
            if not nxt or nxt in seen:
                return
            seen.add(nxt)
            url, params = urljoin(self.glance.url + "/", nxt.lstrip("/")), None

    def find_running(self, task_type: str, matches) -> dict | None:
        """A pending or processing task of this type whose input satisfies matches(input)."""
        for status in ("pending", "processing"):
            for task in self.list_tasks(task_type, status):
                if task.get("status") in ("pending", "processing") and matches(task.get("input") or {}):
                    return task
        return None

    def find_succeeded(self, task_type: str, matches) -> list:
        """Successful tasks of this type whose input satisfies matches(input), newest first."""
        return [task for task in self.list_tasks(task_type, "success") if matches(task.get("input") or {})]

    def run(self, task_type: str, task_input: dict, poller: Poller, attempts: int, matches=None) -> dict:
        """Join a running task with this input, or create one; wait for success; re-create on passing failures."""
        task = self.find_running(task_type, matches) if matches else None
        failures = []
        for attempt in range(attempts + 1):
            if task is None:
                task = self.create(task_type, task_input, matches)
            task = poller.wait(lambda t=task: self._state(t["id"]),
                               f"{task_type} task {task['id']} in region {self.glance.region}")
            if task["status"] == "success":
                task["attempts"] = attempt + 1
                return task
            message = task.get("message") or "(no message)"
            failures.append(message)
            if PERMANENT.search(message) or attempt == attempts:
                raise TransferError(f"The {task_type} task {task['id']} in region {self.glance.region} failed: "
                                    f"{message}", task=task, task_failures=failures)
            task = None
        raise AssertionError("unreachable")

    def _state(self, task_id: str):
        try:
            task = self.get(task_id)
        except HttpError as exc:
            if exc.status == 404:
                raise TransferError(f"Task {task_id} disappeared from region {self.glance.region}") from None
            raise
        return task["status"] in ("success", "failure"), task, task["status"]
