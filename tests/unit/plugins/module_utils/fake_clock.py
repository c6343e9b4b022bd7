"""A clock the waits of _tasks read and sleep on: time moves only when they sleep."""
from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _tasks


class Clock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(_tasks.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(_tasks.time, "sleep", fake.sleep)
    return fake
