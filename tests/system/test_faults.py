"""Faults injected between the DLO modules and Swift: every transfer ends verified or fails cleanly.

A fault proxy (tests/localcloud/faultproxy.py) sits in front of each region's Swift; the
modules reach it through clouds.yaml's object_store_endpoint_override. Connection resets
mid-body, bursts of 500/503, 429 with Retry-After, stalls past the read timeout, truncated
bodies and flipped bytes (in responses and in request bodies). Either the result is
byte-identical with every segment verified, or the module fails naming the segment and no
target manifest (or destination file) exists.
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from faultproxy import FaultProxy, Rule
from systemtest import Runner, clouds_with

MiB = 1024 * 1024
SEGMENTS = 6


@pytest.fixture(scope="module")
def proxies(cloud):
    started = {region: FaultProxy(cloud["regions"][region]["swift"]).start() for region in ("RegionOne", "RegionTwo")}
    yield started
    for proxy in started.values():
        proxy.stop()


@pytest.fixture
def faulty(collections_path, cloud, proxies, tmp_path):
    """A Runner whose clouds.yaml sends object-store calls of each region through its proxy."""
    faulty_cloud = clouds_with(cloud, tmp_path / "clouds.yaml", {
        name: ("localcloud-producer", {"region_name": region,
                                       "object_store_endpoint_override": f"{proxies[region].url}/v1/AUTH_%(project_id)s"})
        for region, name in (("RegionOne", "faulty-one"), ("RegionTwo", "faulty-two"))})
    for proxy in proxies.values():
        proxy.clear()
    yield Runner(collections_path, faulty_cloud, tmp_path)
    for proxy in proxies.values():
        proxy.clear()


def make_source(run, unique: str, tmp_path: Path) -> tuple[Path, str]:
    src = tmp_path / "src.img"
    data = os.urandom(SEGMENTS * MiB - 1000)
    src.write_bytes(data)
    result = run("swift_dlo_upload", {"cloud": "localcloud-producer", "region_name": "RegionOne",
                                      "container": unique, "object": "disk.img", "src": str(src), "segment_size": "1MiB"})
    assert result["changed"], result["msg"]
    return src, hashlib.md5(data).hexdigest()


def every_kind(segment: str, method: str) -> list:
    """One of each transient fault, spread over the segments."""
    return [
        Rule("status", path=rf"{segment}-00001$", method=method, times=3, status=503),
        Rule("status", path=rf"{segment}-00002$", method=method, times=1, status=429, retry_after="1"),
        Rule("status", path=rf"{segment}-00003$", method=method, times=2, status=500),
        Rule("reset", path=rf"{segment}-00004$", method="GET", after_bytes=300000),
        Rule("truncate", path=rf"{segment}-00005$", method="GET", after_bytes=100000),
        Rule("flip", path=rf"{segment}-00006$", method="GET", offset=12345),
        Rule("stall", path=rf"{segment}-00002$", method="GET", seconds=8),
    ]


def body_md5(producer, region: str, container: str, name: str) -> str:
    with producer.session() as s:
        return hashlib.md5(s.get(f"{producer.url('object-store', region)}/{container}/{name}").content).hexdigest()


def test_download_survives_transient_faults(faulty, run, proxies, producer, unique, tmp_path):
    _, digest = make_source(run, unique, tmp_path)
    proxies["RegionOne"].add(*every_kind("disk.img", "GET"))
    dest = tmp_path / "out.img"
    result = faulty("swift_dlo_download", {"cloud": "faulty-one", "container": unique, "object": "disk.img",
                                           "dest": str(dest), "timeout": 3, "concurrency": 3})
    assert not result.get("failed"), result["msg"]
    assert hashlib.md5(dest.read_bytes()).hexdigest() == digest
    assert sum(proxies["RegionOne"].injected.values()) >= 10


def test_copy_survives_transient_faults_on_both_sides(faulty, run, proxies, producer, unique, tmp_path):
    _, digest = make_source(run, unique, tmp_path)
    proxies["RegionOne"].add(*every_kind("disk.img", "GET"))
    proxies["RegionTwo"].add(
        Rule("status", path=r"disk.img-0000[1-3]$", method="PUT", times=3, status=503),
        Rule("flip_request", path=r"disk.img-00004$", method="PUT", offset=777),  # the ETag makes Swift say 422
        Rule("status", path=r"disk.img$", method="PUT", times=1, status=500))
    result = faulty("swift_dlo_copy", {"cloud": "faulty-one", "container": unique, "object": "disk.img",
                                       "timeout": 3, "target": {"cloud": "faulty-two", "region_name": "RegionTwo"}})
    assert not result.get("failed"), result["msg"]
    assert body_md5(producer, "RegionTwo", unique, "disk.img") == digest
    assert proxies["RegionTwo"].injected["flip_request"] == 1


def test_upload_survives_transient_faults(faulty, proxies, producer, unique, tmp_path):
    src = tmp_path / "up.img"
    data = os.urandom(4 * MiB + 5)
    src.write_bytes(data)
    proxies["RegionOne"].add(
        Rule("status", path=r"up.img-00001$", method="PUT", times=2, status=503),
        Rule("status", path=r"up.img-00002$", method="PUT", times=1, status=429, retry_after="1"),
        Rule("flip_request", path=r"up.img-00003$", method="PUT", offset=4096),
        Rule("status", path=rf"/{unique}$", method="GET", times=2, status=502))  # the listing
    result = faulty("swift_dlo_upload", {"cloud": "faulty-one", "container": unique, "object": "up.img",
                                         "src": str(src), "segment_size": "1MiB"})
    assert not result.get("failed"), result["msg"]
    assert body_md5(producer, "RegionOne", unique, "up.img") == hashlib.md5(data).hexdigest()


def test_a_persistent_fault_fails_cleanly_naming_the_segment(faulty, run, proxies, producer, unique, tmp_path):
    make_source(run, unique, tmp_path)
    proxies["RegionOne"].add(Rule("flip", path=r"disk.img-00003$", method="GET", times=99, offset=5))
    dest = tmp_path / "out.img"
    down = faulty("swift_dlo_download", {"cloud": "faulty-one", "container": unique, "object": "disk.img",
                                         "dest": str(dest), "retries": 2})
    assert down.get("failed") and "disk.img-00003" in down["msg"] and "Traceback" not in down["msg"]
    assert not dest.exists()
    proxies["RegionOne"].clear()
    proxies["RegionTwo"].add(Rule("flip_request", path=r"disk.img-00002$", method="PUT", times=99, offset=5))
    copy = faulty("swift_dlo_copy", {"cloud": "faulty-one", "container": unique, "object": "disk.img", "retries": 2,
                                     "target": {"cloud": "faulty-two", "region_name": "RegionTwo"}})
    assert copy.get("failed") and "disk.img-00002" in copy["msg"]
    with producer.session() as s:  # no manifest while a segment is unverified
        assert s.head(f"{producer.url('object-store', 'RegionTwo')}/{unique}/disk.img").status_code == 404


def test_a_401_mid_upload_renews_the_token_and_sends_the_segment_anew(faulty, proxies, producer, unique, tmp_path):
    """Swift answers a segment PUT with 401 after reading its body (an expired token): the
    one-shot body was consumed, so re-sending it as it is would send nothing under its
    Content-Length and stall until the read timeout (60 s here)."""
    src = tmp_path / "up.img"
    data = os.urandom(3 * MiB + 17)
    src.write_bytes(data)
    proxies["RegionOne"].add(Rule("status", path=r"up.img-00002$", method="PUT", status=401))
    started = time.monotonic()
    result = faulty("swift_dlo_upload", {"cloud": "faulty-one", "container": unique, "object": "up.img",
                                         "src": str(src), "segment_size": "1MiB", "timeout": 60})
    assert not result.get("failed"), result["msg"]
    assert time.monotonic() - started < 40  # no stall on an empty re-send
    assert proxies["RegionOne"].injected["status"] == 1
    assert body_md5(producer, "RegionOne", unique, "up.img") == hashlib.md5(data).hexdigest()
