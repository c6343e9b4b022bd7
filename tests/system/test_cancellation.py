"""Cancelling a transfer stops it: the playbook killed (SIGTERM as AWX's Cancel sends, or
SIGKILL) during the copy, and nobody helps afterwards.

The role runs the copy in the background (async) to print its progress, and Ansible's async
wrapper outlives the playbook; the copy must notice that its playbook stopped touching the
heartbeat and stop by itself. A fault proxy in front of RegionOne's Swift holds each segment
GET for 4 s, so the copy would otherwise last 40 s. Within 30 s of the kill nothing of that
run may still run, and for 3 s more nothing may write; the rerun, without the proxy's delays, makes one verified image.

``make test`` kills once with each signal, 2 s into the copy. ``CANCEL_TRIALS=10`` (what
``hacking/hardening.sh`` runs) makes ten trials per signal, each killing at a moment drawn
from a seeded generator (0.5 to 8 s into the copy), and appends one JSON line per trial to
``$CANCEL_REPORT`` when that is set.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cloudtest import create_image, md5
from faultproxy import FaultProxy, Rule
from systemtest import ANSIBLE_PLAYBOOK, clouds_with, kill_tree, run_progress
from test_region_transfer import KEY, failures, play

pytestmark = pytest.mark.serial  # measures how fast a cancel stops the copy

SEGMENTS = 10
TRIALS = int(os.environ.get("CANCEL_TRIALS", "1"))


def copies_running(clouds: Path) -> list:
    """The copy modules (and their async wrappers) of this test's runs: those whose environment
    names this test's clouds.yaml, so that another transfer on the machine does not count."""
    mark = f"OS_CLIENT_CONFIG_FILE={clouds}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if "AnsiballZ_swift_dlo_copy" not in cmdline:
                    continue
                if mark not in (entry / "environ").read_bytes().split(b"\0"):
                    continue
            except OSError:
                continue
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_playbook_stops_its_copy_and_the_rerun_finishes(collections_path, cloud, producer, unique,
                                                                  tmp_path, how, trial):
    moment = random.Random(f"{how.name}-{trial}").uniform(0.5, 8.0) if TRIALS > 1 else 2.0
    proxy = FaultProxy(cloud["regions"]["RegionOne"]["swift"]).start()
    try:
        clouds = tmp_path / "clouds.yaml"
        slowed = clouds_with(cloud, clouds, {"slow-one": (
            "localcloud-producer", {"object_store_endpoint_override": f"{proxy.url}/v1/AUTH_%(project_id)s"})})
        data = os.urandom(SEGMENTS * 8 * 1024 * 1024 - 4096)
        with producer.session() as s:
            source = create_image(s, producer.url("image", "RegionOne"), data, name=unique)
        extra = {"region_transfer_image": source["id"], "region_transfer_source_cloud": "slow-one",
                 "region_transfer_target_cloud": "localcloud-producer", "region_transfer_concurrency": 1,
                 "region_transfer_import_method": "web-download"}  # the object-store path: a copy to stop
        proxy.add(Rule("stall", path=r"\.vhd-\d{5}$", method="GET", times=99, seconds=4))
        proc = play(collections_path, slowed, tmp_path, extra, background=True)
        deadline, progress = time.monotonic() + 120, None
        while time.monotonic() < deadline and proc.poll() is None:
            progress = run_progress(tmp_path, source["id"], "copy")  # in the run's own folder, once it is there
            try:
                if progress and json.loads(progress.read_text()).get("operation") == "copy":
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        assert proc.poll() is None, "the playbook ended before its copy started"
        time.sleep(moment)  # the copy is under way
        assert copies_running(clouds)
        if how == signal.SIGKILL:
            kill_tree(proc.pid)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        killed = time.monotonic()
        proc.wait(timeout=60)
        while copies_running(clouds) and time.monotonic() - killed < 30:
            time.sleep(0.5)
        stopped_after = time.monotonic() - killed
        assert copies_running(clouds) == [], "the copy outlived its playbook"
        written = progress.stat().st_mtime
        time.sleep(3)
        assert progress.stat().st_mtime == written  # nothing writes any more
        with producer.session() as s:
            assert s.get(f"{producer.url('image', 'RegionTwo')}/v2/images",
                         params={KEY: source["id"]}).json()["images"] == []
        with producer.session() as s:
            listed = s.get(f"{producer.url('object-store', 'RegionTwo')}/cloudimages-imports",
                           params={"format": "json", "prefix": source["id"]})
        segments_before = len(listed.json()) if listed.status_code == 200 else 0
        proxy.clear()
        rc, out = play(collections_path, slowed, tmp_path, extra)
        assert rc == 0, failures(out)
        with producer.session() as s:
            [target] = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images",
                             params={KEY: source["id"]}).json()["images"]
        assert target["checksum"] == md5(data) and target["cloudimages_transfer_verified"] == source["os_hash_value"]
        if os.environ.get("CANCEL_REPORT"):
            with open(os.environ["CANCEL_REPORT"], "a", encoding="utf-8") as report:
                report.write(json.dumps({"signal": how.name, "trial": trial, "killed_into_copy_s": round(moment, 1),
                                         "copy_stopped_after_s": round(stopped_after, 1),
                                         "segments_in_target_before_rerun": segments_before,
                                         "rerun": "one verified image"}) + "\n")
    finally:
        proxy.stop()


def test_sigint_stops_a_module_within_seconds_and_writes_no_manifest(collections_path, cloud, producer, unique,
                                                                     tmp_path, run):
    """AWX's Cancel sends SIGINT: queued segments are dropped and the one in flight abandoned."""
    src = tmp_path / "disk.img"
    src.write_bytes(os.urandom(SEGMENTS * 1024 * 1024))
    up = run("swift_dlo_upload", {"cloud": "localcloud-producer", "container": unique, "object": "disk.img",
                                  "src": str(src), "segment_size": "1MiB"})
    assert not up.get("failed"), up["msg"]
    proxy, proc = FaultProxy(cloud["regions"]["RegionOne"]["swift"]).start(), None
    try:
        clouds = tmp_path / "clouds.yaml"
        run.env["OS_CLIENT_CONFIG_FILE"] = clouds_with(cloud, clouds, {"slow-one": (
            "localcloud-producer", {"object_store_endpoint_override": f"{proxy.url}/v1/AUTH_%(project_id)s"})})["clouds_yaml"]
        proxy.add(Rule("stall", path=r"disk\.img-\d{5}$", method="GET", times=99, seconds=4))
        path, _ = run.playbook("swift_dlo_copy", {"cloud": "slow-one", "container": unique, "object": "disk.img",
                                                  "concurrency": 2, "target": {"region_name": "RegionTwo"}})
        proc = subprocess.Popen([ANSIBLE_PLAYBOOK, str(path)], env=run.env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not copies_running(clouds):
            time.sleep(0.2)
        time.sleep(3)  # two segments in flight, ten queued
        [module] = [int(line.split(":")[0]) for line in copies_running(clouds)
                    if "AnsiballZ_swift_dlo_copy.py" in line and "/bin/sh" not in line]
        os.kill(module, signal.SIGINT)
        stopped = time.monotonic()
        while copies_running(clouds) and time.monotonic() - stopped < 30:
            time.sleep(0.2)
        assert copies_running(clouds) == [] and time.monotonic() - stopped < 12
        proc.wait(timeout=30)
        with producer.session() as s:
            assert s.head(f"{producer.url('object-store', 'RegionTwo')}/{unique}/disk.img").status_code == 404
            copied = s.get(f"{producer.url('object-store', 'RegionTwo')}/{unique}", params={"format": "json"})
        assert len(copied.json() if copied.status_code == 200 else []) < SEGMENTS  # queued segments dropped
    finally:
        if proc is not None and proc.poll() is None:
            kill_tree(proc.pid)
        proxy.stop()
