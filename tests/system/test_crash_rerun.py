"""Crash and rerun: the transfer killed with SIGKILL at seeded random moments, then run again.

Two trials in make test (CRASH_TRIALS; hacking/hardening.sh runs ten), alternating the vendor path (API key, export and import tasks) and the upstream
path (stream export, web-download import). After the rerun the target is verified every
time (the same bytes upstream; the same virtual disk, converted, on the vendor path), with exactly one image carrying the coordinating metadata (no duplicate, no orphan
queued image) and no intermediate object left in either region.
"""
from __future__ import annotations

import json
import os
import random
import time

import pytest
from cloudtest import create_image, md5, vhd_image
from systemtest import kill_tree
from test_region_transfer import KEY, failures, kill_async_copies, objects, play

pytestmark = pytest.mark.serial  # kills every background copy on the machine

TRIALS = int(os.environ.get("CRASH_TRIALS", "2"))


@pytest.mark.parametrize("trial", range(TRIALS))
def test_killed_at_a_random_moment_then_rerun(collections_path, cloud, producer, unique, tmp_path, trial):
    rng = random.Random(20261122 + trial)
    vendor = trial % 2 == 0
    data = vhd_image(os.urandom(24 * 1024 * 1024 + 512 * trial))  # the import task takes only VHDs
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique, disk_format="vhd")
    extra = {"region_transfer_image": source["id"], "region_transfer_segment_size": "2MiB",
             "region_transfer_concurrency": 2, "region_transfer_export_container": f"exp-{unique}",
             "region_transfer_import_container": f"imp-{unique}",
             "region_transfer_import_method": "web-download"}  # the object-store path, whose copy resumes
    if vendor:
        extra.update(region_transfer_source_cloud="localcloud-producer-apikey", region_transfer_export_method="task",
                     region_transfer_import_method="task")
    delay = rng.uniform(2.0, 12.0)
    proc = play(collections_path, cloud, tmp_path, extra, background=True)
    time.sleep(delay)
    kill_tree(proc.pid)
    kill_async_copies()
    proc.wait()
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, f"trial {trial} (killed after {delay:.1f} s): {failures(out)}"
    with producer.session() as s:
        every = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images",
                      params={KEY: source["id"], "status": None}).json()["images"]
        named = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images", params={"name": unique}).json()["images"]
    assert len(every) == 1 and every[0]["status"] == "active", json.dumps(every)[:500]
    assert every[0]["cloudimages_transfer_verified"] == source["os_hash_value"]
    if vendor:  # the vendor stores imports in another format: the same disk, another checksum
        assert (every[0]["disk_format"], every[0]["virtual_size"]) == ("raw", source["virtual_size"])
        assert every[0]["checksum"] != md5(data)
    else:
        assert every[0]["checksum"] == md5(data)
    assert [i["id"] for i in named] == [every[0]["id"]], "an orphan image was left in RegionTwo"
    assert objects(producer, "RegionOne", f"exp-{unique}") == []
    assert objects(producer, "RegionTwo", f"imp-{unique}") == []
