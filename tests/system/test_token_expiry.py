"""A copy that outlives its token: Keystone tokens of 30 s, a copy slowed to last longer.

A cloud of its own (LOCALCLOUD_TOKEN_EXPIRATION=30) starts for this test; a fault proxy in
front of the source Swift stalls every segment GET, so the copy takes six stalls of 6.5 s, longer than a token lives.
The copy must complete, byte-identical, with more than one token seen on the wire.
"""
from __future__ import annotations

import hashlib
import os
import time

import pytest
import requests
from faultproxy import FaultProxy, Rule
from systemtest import Runner, clouds_with, own_cloud


@pytest.fixture(scope="module")
def short_token_cloud(tmp_path_factory):
    yield from own_cloud(tmp_path_factory.mktemp("short-token-cloud"), TOKEN_EXPIRATION="30")


def test_a_copy_outlives_its_token(collections_path, short_token_cloud, tmp_path):
    cloud = short_token_cloud
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "producer", "domain": {"id": "default"}, "password": cloud["passwords"]["producer"]}}},
        "scope": {"project": {"name": "producer", "domain": {"id": "default"}}}}}
    resp = requests.post(f"{cloud['keystone']}/v3/auth/tokens", json=body, timeout=30)
    project = resp.json()["token"]["project"]["id"]
    s = requests.Session()
    s.headers["X-Auth-Token"] = resp.headers["X-Subject-Token"]
    one = f"{cloud['regions']['RegionOne']['swift']}/v1/AUTH_{project}"
    two = f"{cloud['regions']['RegionTwo']['swift']}/v1/AUTH_{project}"
    parts = [os.urandom(256 * 1024) for _ in range(6)]
    s.put(f"{one}/slow")
    for n, part in enumerate(parts, 1):
        s.put(f"{one}/slow/big.img-{n:05d}", data=part).raise_for_status()
    s.put(f"{one}/slow/big.img", data=b"", headers={"X-Object-Manifest": "slow/big.img-"}).raise_for_status()

    proxy = FaultProxy(cloud["regions"]["RegionOne"]["swift"]).start()
    proxy.add(Rule("stall", path=r"big.img-\d+$", method="GET", times=99, seconds=6.5))
    slowed = clouds_with(cloud, tmp_path / "clouds.yaml", {"slow-one": (
        "localcloud-producer", {"object_store_endpoint_override": f"{proxy.url}/v1/AUTH_%(project_id)s"})})
    try:
        started = time.monotonic()
        result = Runner(collections_path, slowed, tmp_path)(
            "swift_dlo_copy", {"cloud": "slow-one", "container": "slow", "object": "big.img", "concurrency": 1,
                               "target": {"cloud": "localcloud-producer", "region_name": "RegionTwo"}})
        elapsed = time.monotonic() - started
    finally:
        proxy.stop()
    assert not result.get("failed"), result["msg"]
    assert elapsed > 35, f"the copy took only {elapsed:.0f} s; it must outlive a 30 s token"
    assert len(proxy.tokens) >= 2, "the same token was used throughout"
    fresh = requests.post(f"{cloud['keystone']}/v3/auth/tokens", json=body, timeout=30).headers["X-Subject-Token"]
    assert s.get(f"{two}/slow/big.img").status_code == 401  # the first token has expired meanwhile
    copied = hashlib.md5(requests.get(f"{two}/slow/big.img", headers={"X-Auth-Token": fresh}).content).hexdigest()
    assert copied == hashlib.md5(b"".join(parts)).hexdigest()
