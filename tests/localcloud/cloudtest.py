"""Fixtures shared by the suites that run on the local cloud: a running cloud and raw HTTP clients.

The cloud is used as it runs when one is up (the test command starts it once for every
suite); otherwise this session starts it and stops it at the end.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "localcloud.py"
sys.path.insert(0, str(HERE))

from vhd import vhd_image  # noqa: E402  (the test tree's helper, beside the launcher)


def launcher(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(LAUNCHER), *args], capture_output=True, text=True)


@pytest.fixture(scope="session")
def cloud() -> dict:
    started_here = launcher("status").returncode != 0
    if started_here:
        done = launcher("start")
        assert done.returncode == 0, done.stderr
    state = Path(os.environ.get("LOCALCLOUD_DIR", HERE.parents[1] / ".localcloud"))
    yield json.loads((state / "cloud.json").read_text())
    if started_here:
        launcher("stop")


@dataclass
class Login:
    token: str
    project_id: str
    catalog: list

    def url(self, service_type: str, region: str, interface: str = "public") -> str:
        for service in self.catalog:
            if service["type"] == service_type:
                for ep in service["endpoints"]:
                    if ep["region_id"] == region and ep["interface"] == interface:
                        return ep["url"]
        raise LookupError(f"no {interface} {service_type} endpoint in {region}")

    def session(self) -> requests.Session:
        s = requests.Session()
        s.headers["X-Auth-Token"] = self.token
        return s


def v3_login(cloud: dict, user: str) -> Login:
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": cloud["passwords"][user]}}},
        "scope": {"project": {"name": user, "domain": {"id": "default"}}}}}
    resp = requests.post(f"{cloud['keystone']}/v3/auth/tokens", json=body, timeout=30)
    assert resp.status_code == 201, resp.text
    doc = resp.json()["token"]
    return Login(resp.headers["X-Subject-Token"], doc["project"]["id"], doc["catalog"])


@pytest.fixture(scope="session")
def producer(cloud) -> Login:
    return v3_login(cloud, "producer")


@pytest.fixture(scope="session")
def consumer(cloud) -> Login:
    return v3_login(cloud, "consumer")


@pytest.fixture
def unique() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def create_image(session: requests.Session, glance: str, data: bytes, **props) -> dict:
    body = {"disk_format": "raw", "container_format": "bare", **props}
    resp = session.post(f"{glance}/v2/images", json=body, timeout=30)
    assert resp.status_code == 201, resp.text
    image = resp.json()
    put = session.put(f"{glance}/v2/images/{image['id']}/file", data=io.BytesIO(data), timeout=60,
                      headers={"Content-Type": "application/octet-stream"})
    assert put.status_code == 204, put.text
    return session.get(f"{glance}/v2/images/{image['id']}", timeout=30).json()


def wait_task(session: requests.Session, images: str, task_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        task = session.get(f"{images}/v2/tasks/{task_id}", timeout=30).json()
        if task["status"] in ("success", "failure") or time.monotonic() > deadline:
            return task
        time.sleep(0.2)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


__all__ = ["Login", "cloud", "consumer", "create_image", "md5", "producer", "unique", "v3_login", "vhd_image",
           "wait_task"]
