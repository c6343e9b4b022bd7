"""Faults in front of Glance, the vendor's tasks API and Keystone: nothing is created twice.

Fault proxies (tests/localcloud/faultproxy.py) sit in front of Keystone, RegionTwo's Glance
and RegionTwo's images endpoint of the vendor emulator; a clouds.yaml of the test's own
sends the modules through them. The faults that matter for requests that create something
are the ones after the server acted: a gateway's 502/504 instead of Glance's answer, or the
connection dropped with no answer at all. Every assertion counts what the cloud holds:
exactly one image, one import, one task, one membership.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from faultproxy import FaultProxy, Rule
from systemtest import ANSIBLE_PLAYBOOK, MiB, Runner, clouds_with, random_file


@pytest.fixture(scope="module")
def proxies(cloud):
    started = {"keystone": FaultProxy(cloud["keystone"]).start(),
               "glance": FaultProxy(cloud["regions"]["RegionTwo"]["glance"]).start(),
               "vendor": FaultProxy(cloud["regions"]["RegionTwo"]["images_proxy"]).start()}
    yield started
    for proxy in started.values():
        proxy.stop()


@pytest.fixture
def faulty(collections_path, cloud, proxies, tmp_path):
    """A Runner with clouds faulty-v3 (Keystone and Glance through proxies) and faulty-vendor
    (the API-key identity, the vendor's images endpoint through a proxy), both RegionTwo."""
    faulty_cloud = clouds_with(cloud, tmp_path / "clouds.yaml", {
        "faulty-v3": ("localcloud-producer", {"auth": {"auth_url": f"{proxies['keystone'].url}/v3"},
                                              "region_name": "RegionTwo", "image_endpoint_override": proxies["glance"].url}),
        "faulty-vendor": ("localcloud-producer-apikey", {"region_name": "RegionTwo",
                                                         "image_endpoint_override": f"{proxies['vendor'].url}/v2"})})
    for proxy in proxies.values():
        proxy.clear()
    yield Runner(collections_path, faulty_cloud, tmp_path)
    for proxy in proxies.values():
        proxy.clear()


def stage(run: Runner, unique: str, tmp_path: Path, vhd: bool = False) -> None:
    """An object in RegionTwo's object store to import from."""
    src = tmp_path / "disk.img"
    if vhd:
        from cloudtest import vhd_image
        src.write_bytes(vhd_image(os.urandom(MiB)))
    else:
        random_file(src, MiB + 3)
    result = run("swift_dlo_upload", {"cloud": "localcloud-producer", "region_name": "RegionTwo",
                                      "container": unique, "object": "disk.img", "src": str(src)})
    assert not result.get("failed"), result["msg"]


def images(producer, unique: str) -> list:
    with producer.session() as s:
        return s.get(f"{producer.url('image', 'RegionTwo')}/v2/images",
                     params={"cloudimages_test_run": unique}).json()["images"]


AFTER_THE_SERVER_ACTED = [("status_after", 502), ("status_after", 504), ("drop_after", 0)]


@pytest.mark.parametrize("kind,status", AFTER_THE_SERVER_ACTED)
@pytest.mark.parametrize("step", ["create", "import"])
def test_web_download_makes_one_image_and_one_import(faulty, run, proxies, producer, unique, tmp_path, step, kind,
                                                     status):
    stage(run, unique, tmp_path)
    path = r"^/v2/images$" if step == "create" else r"^/v2/images/[^/]+/import$"
    proxies["glance"].add(Rule(kind, path=path, method="POST", status=status))
    proxies["keystone"].add(Rule("status_after", path=r"/v3/auth/tokens$", method="POST", status=502),
                            Rule("drop_after", path=r"/v3/auth/tokens$", method="POST"))
    result = faulty("image_import", {"cloud": "faulty-v3", "region_name": "RegionTwo", "name": unique, "method": "web-download",
                                     "container": unique, "object": "disk.img", "disk_format": "raw",
                                     "properties": {"cloudimages_test_run": unique}, "poll_interval": 1})
    assert not result.get("failed"), result["msg"]
    assert proxies["glance"].injected[kind] == 1 and proxies["keystone"].injected["drop_after"] == 1
    [image] = images(producer, unique)  # one image, active: one import ran
    assert image["status"] == "active" and image["id"] == result["image_id"] and image["size"] == MiB + 3


def test_a_membership_is_made_once(faulty, run, proxies, producer, consumer, unique, tmp_path):
    stage(run, unique, tmp_path)
    made = run("image_import", {"cloud": "localcloud-producer", "region_name": "RegionTwo", "name": unique,
                                "method": "upload", "container": unique, "object": "disk.img", "disk_format": "raw",
                                "properties": {"cloudimages_test_run": unique}, "poll_interval": 1})
    assert not made.get("failed"), made["msg"]
    proxies["glance"].add(Rule("status_after", path=r"/members$", method="POST", status=502))
    shared = faulty("image_member", {"cloud": "faulty-v3", "region_name": "RegionTwo", "image": made["image_id"], "members": [consumer.project_id]})
    assert not shared.get("failed"), shared["msg"]
    assert proxies["glance"].injected["status_after"] == 1
    with producer.session() as s:
        members = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images/{made['image_id']}/members").json()
    assert [m["member_id"] for m in members["members"]] == [consumer.project_id]


@pytest.mark.parametrize("kind,status", [("status_after", 502), ("drop_after", 0)])
def test_the_vendor_import_task_is_created_once(faulty, run, proxies, producer, cloud, unique, tmp_path, kind,
                                                status):
    stage(run, unique, tmp_path, vhd=True)
    proxies["vendor"].add(Rule(kind, path=r"^/v2/tasks$", method="POST", status=status))
    result = faulty("image_import", {"cloud": "faulty-vendor", "region_name": "RegionTwo", "name": unique, "method": "task",
                                     "container": unique, "object": "disk.img",
                                     "properties": {"cloudimages_test_run": unique}, "poll_interval": 1})
    assert not result.get("failed"), result["msg"]
    assert proxies["vendor"].injected[kind] == 1
    [image] = images(producer, unique)
    assert image["status"] == "active"
    # the emulator's own record: one import task from this object
    with producer.session() as s:
        base = cloud["regions"]["RegionTwo"]["images_proxy"]
        listed = s.get(f"{base}/v2/tasks", params={"type": "import"}).json()["tasks"]
        inputs = [s.get(f"{base}/v2/tasks/{t['id']}").json()["input"] for t in listed]
    assert [i for i in inputs if i.get("import_from") == f"{unique}/disk.img"] == \
        [{"import_from": f"{unique}/disk.img", "import_from_format": "vhd", "image_properties": {"name": unique}}]


def account_tempurl_meta(producer, region: str) -> dict:
    with producer.session() as s:
        headers = s.head(producer.url("object-store", region)).headers
    return {k.lower(): v for k, v in headers.items() if "temp-url" in k.lower() or "tempurl" in k.lower()}


def clear_tempurl_meta(producer) -> None:
    """Start from an account without a key: a run killed by an earlier suite (the crash trials)
    may have left a lease, which keeps the key until that import's deadline, by design."""
    stale = account_tempurl_meta(producer, "RegionTwo")
    if stale:
        with producer.session() as s:
            removed = {f"X-Remove-Account-Meta-{name[len('x-account-meta-'):]}": "x" for name in stale}
            assert s.post(producer.url("object-store", "RegionTwo"), headers=removed).status_code == 204
    assert account_tempurl_meta(producer, "RegionTwo") == {}


@pytest.mark.serial  # asserts on the producer account's TempURL metadata, which every web-download uses
def test_a_key_replaced_by_a_racing_transfer_gets_the_import_signed_anew(faulty, proxies, producer, unique, tmp_path):
    """Swift has no conditional write for account metadata: another transfer of the collection
    can set its key in the second slot after this one read its own back. Glance is then refused
    the URL; the import is signed with the key that stayed and started once more."""
    clear_tempurl_meta(producer)
    stage(faulty, unique, tmp_path)
    # hold the import request at the proxy, so that the key changes between signing and Glance's fetch
    proxies["glance"].add(Rule("stall", path=r"^/v2/images/[^/]+/import$", method="POST", seconds=5))
    path, out = faulty.playbook("image_import", {
        "cloud": "faulty-v3", "region_name": "RegionTwo", "name": unique, "method": "web-download",
        "container": unique,
        "object": "disk.img", "disk_format": "raw", "properties": {"cloudimages_test_run": unique},
        "poll_interval": 1, "wait_timeout": 120})
    proc = subprocess.Popen([ANSIBLE_PLAYBOOK, str(path)], env=faulty.env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while "x-account-meta-temp-url-key-2" not in account_tempurl_meta(producer, "RegionTwo"):
            assert proc.poll() is None and time.monotonic() < deadline, "the import never set a key"
            time.sleep(0.2)
        time.sleep(2.5)  # past the module's read-back
        racer = "a-key-another-transfer-set"
        with producer.session() as s:
            assert s.post(producer.url("object-store", "RegionTwo"), headers={
                "X-Account-Meta-Temp-URL-Key-2": racer,
                "X-Account-Meta-Cloudimages-Temp-Url-Key-2": hashlib.sha256(racer.encode()).hexdigest()[:16]}
            ).status_code == 204
        assert proc.wait(timeout=180) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    result = json.loads(out.read_text())
    assert not result.get("failed"), result["msg"]
    [image] = images(producer, unique)
    assert image["status"] == "active" and image["size"] == MiB + 3
    with producer.session() as s:
        tasks = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images/{image['id']}/tasks").json()["tasks"]
    assert sorted(t["status"] for t in tasks) == ["failure", "success"]  # refused once, then fetched
    assert account_tempurl_meta(producer, "RegionTwo") == {}  # the key of the collection's is gone too


def test_an_image_a_failed_import_left_queued_is_imported_by_the_rerun(run, producer, unique, tmp_path):
    """Glance keeps os_glance_failed_import on an image until its next import ends: the rerun
    imports into the image the failed run made, and the stale mark does not fail it."""
    stage(run, unique, tmp_path)
    glance = f"{producer.url('image', 'RegionTwo')}/v2/images"
    with producer.session() as s:
        made = s.post(glance, json={"name": unique, "disk_format": "raw", "container_format": "bare",
                                    "cloudimages_test_run": unique}).json()
        refused = f"{producer.url('object-store', 'RegionTwo')}/{unique}/disk.img?temp_url_sig=00&temp_url_expires=9999999999"
        assert s.post(f"{glance}/{made['id']}/import", json={"method": {"name": "web-download", "uri": refused}}
                      ).status_code == 202
        deadline = time.monotonic() + 30
        while not s.get(f"{glance}/{made['id']}").json().get("os_glance_failed_import"):
            assert time.monotonic() < deadline
            time.sleep(0.3)
    result = run("image_import", {"cloud": "localcloud-producer", "region_name": "RegionTwo", "name": unique,
                                  "method": "web-download", "container": unique, "object": "disk.img",
                                  "disk_format": "raw", "properties": {"cloudimages_test_run": unique},
                                  "poll_interval": 1})
    assert not result.get("failed"), result["msg"]
    [image] = images(producer, unique)
    assert image["id"] == made["id"] and image["status"] == "active" and image["size"] == MiB + 3


@pytest.mark.serial  # asserts on the producer account's TempURL metadata, which every web-download uses
def test_web_download_leaves_no_tempurl_key_and_never_touches_the_users(run, producer, unique, tmp_path):
    """Two web-download imports at once leave no key this collection set; a key of the user's
    own is used as it is and left in place."""
    store = producer.url("object-store", "RegionTwo")
    clear_tempurl_meta(producer)
    for n in (1, 2):
        random_file(tmp_path / f"d{n}.img", MiB + n)
        up = run("swift_dlo_upload", {"cloud": "localcloud-producer", "region_name": "RegionTwo",
                                      "container": unique, "object": f"d{n}.img", "src": str(tmp_path / f"d{n}.img")})
        assert not up.get("failed"), up["msg"]
    procs = []
    for n in (1, 2):  # both at once: the key one sets may be replaced by the other's (signed anew then)
        path, out = run.playbook("image_import", {
            "cloud": "localcloud-producer", "region_name": "RegionTwo", "name": f"{unique}-{n}",
            "method": "web-download", "container": unique, "object": f"d{n}.img", "disk_format": "raw",
            "properties": {"cloudimages_test_run": f"{unique}-{n}"}, "poll_interval": 1, "wait_timeout": 120})
        procs.append((subprocess.Popen([ANSIBLE_PLAYBOOK, str(path)], env=run.env, cwd=tmp_path,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out))
    for proc, out in procs:
        assert proc.wait(timeout=300) == 0
        result = json.loads(out.read_text())
        assert not result.get("failed"), result["msg"]
    for n in (1, 2):
        [image] = images(producer, f"{unique}-{n}")
        assert image["status"] == "active" and image["size"] == MiB + n
    assert account_tempurl_meta(producer, "RegionTwo") == {}  # no key, no marker, no lease left
    with producer.session() as s:
        assert s.post(store, headers={"X-Account-Meta-Temp-URL-Key": "users-own-key"}).status_code == 204
    try:
        again = run("image_import", {"cloud": "localcloud-producer", "region_name": "RegionTwo", "name": f"{unique}-3",
                                     "method": "web-download", "container": unique, "object": "d1.img",
                                     "disk_format": "raw", "properties": {"cloudimages_test_run": f"{unique}-3"},
                                     "poll_interval": 1})
        assert not again.get("failed"), again["msg"]
        assert account_tempurl_meta(producer, "RegionTwo") == {"x-account-meta-temp-url-key": "users-own-key"}
        assert "users-own-key" not in again["_output"]
    finally:
        with producer.session() as s:
            s.post(store, headers={"X-Remove-Account-Meta-Temp-URL-Key": "x"})


@pytest.mark.serial  # asserts on the producer account's TempURL metadata, which every web-download uses
def test_expired_leases_are_swept_beside_a_live_one_and_a_killed_runs_key_goes_with_the_next_run(run, producer, unique,
                                                                                                  tmp_path):
    """Before: while any lease lived, no expired one was swept, and they piled up toward Swift's
    account-metadata limits (after which every web-download fails)."""
    store = producer.url("object-store", "RegionTwo")
    clear_tempurl_meta(producer)
    random_file(tmp_path / "d.img", MiB)
    assert not run("swift_dlo_upload", {"cloud": "localcloud-producer", "region_name": "RegionTwo", "container": unique,
                                        "object": "d.img", "src": str(tmp_path / "d.img")}).get("failed")
    live = "x-account-meta-cloudimages-tempurl-lease-another0run"
    killed = {f"X-Account-Meta-Cloudimages-Tempurl-Lease-dead{n:08d}": "1" for n in range(5)}
    with producer.session() as s:  # five leases of killed runs, one of a run still importing
        assert s.post(store, headers={**killed, live: str(int(time.time()) + 3600)}).status_code == 204
    args = {"cloud": "localcloud-producer", "region_name": "RegionTwo", "method": "web-download", "container": unique,
            "object": "d.img", "disk_format": "raw", "poll_interval": 1}
    done = run("image_import", {**args, "name": f"{unique}-1", "properties": {"cloudimages_test_run": f"{unique}-1"}})
    assert not done.get("failed"), done["msg"]
    held = account_tempurl_meta(producer, "RegionTwo")
    assert sorted(k for k in held if "lease" in k) == [live]  # the dead ones swept, the live one kept
    assert "x-account-meta-temp-url-key-2" in held  # the key stays while the other run's lease lives
    # that run is killed too: its lease expires, and the next run removes the key of ours it kept
    with producer.session() as s:
        assert s.post(store, headers={live: "1"}).status_code == 204
    done = run("image_import", {**args, "name": f"{unique}-2", "properties": {"cloudimages_test_run": f"{unique}-2"}})
    assert not done.get("failed"), done["msg"]
    assert account_tempurl_meta(producer, "RegionTwo") == {}
