"""Documented features that no other test ran: each asserted on the cloud's state.

Token auth for a real transfer, the OS_* environment alone (no cloud, no auth option), the
internal interface (the Swift proxy's access log shows which host name was used: the local
cloud's catalog serves public on 127.0.0.1 and internal on localhost), diff mode with exact
before/after, the image member states, and the role's disk staging with its preflight.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from cloudtest import create_image, md5, vhd_image
from systemtest import MiB, Runner, listing, random_file
from test_region_transfer import KEY, failures, play

P = {"cloud": "localcloud-producer"}


def ok(result: dict) -> dict:
    assert not result.get("failed"), result["msg"]
    return result


def served(producer, region: str, container: str, name: str) -> str:
    with producer.session() as s:
        resp = s.get(f"{producer.url('object-store', region)}/{container}/{name}")
        assert resp.status_code == 200
        return md5(resp.content)


def test_a_copy_with_a_real_token(run, cloud, producer, unique, tmp_path):
    digest = random_file(tmp_path / "t.img", 2 * MiB + 1)
    ok(run("swift_dlo_upload", {**P, "container": unique, "object": "t.img", "src": str(tmp_path / "t.img"),
                                "segment_size": "1MiB"}))
    for auth_type in ("token", "v3token"):
        auth = {"auth_url": f"{cloud['keystone']}/v3", "token": producer.token, "project_id": producer.project_id}
        copy = ok(run("swift_dlo_copy", {"auth_type": auth_type, "auth": auth, "container": unique, "object": "t.img",
                                         "target": {"region_name": "RegionTwo", "object": f"t-{auth_type}.img"}}))
        assert copy["changed"]
        assert served(producer, "RegionTwo", unique, f"t-{auth_type}.img") == digest


def os_environment(cloud: dict) -> dict:
    """What an OpenStack credential sets as plain OS_* variables: no clouds.yaml, no cloud name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    return {**env, "OS_AUTH_URL": f"{cloud['keystone']}/v3", "OS_USERNAME": "producer",
            "OS_PASSWORD": cloud["passwords"]["producer"], "OS_PROJECT_NAME": "producer",
            "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default", "OS_REGION_NAME": "RegionOne",
            "OS_IDENTITY_API_VERSION": "3", "OS_INTERFACE": "public",
            "OS_CLIENT_CONFIG_FILE": "/nonexistent/clouds.yaml"}


def test_the_os_environment_alone_runs_a_module_and_the_role(collections_path, cloud, producer, unique, tmp_path):
    runner = Runner(collections_path, cloud, tmp_path)
    runner.env = {**os_environment(cloud), "ANSIBLE_COLLECTIONS_PATH": str(collections_path), "ANSIBLE_NOCOLOR": "1",
                  "ANSIBLE_LOCALHOST_WARNING": "false"}
    random_file(tmp_path / "e.img", MiB + 7)
    up = ok(runner("swift_dlo_upload", {"container": unique, "object": "e.img", "src": str(tmp_path / "e.img")}))
    assert up["region"] == "RegionOne" and [o["name"] for o in listing(producer, "RegionOne", unique)] == [
        "e.img", "e.img-00001"]
    data = os.urandom(200000)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique)
    env_backup = dict(os.environ)
    try:  # play() builds its environment from os.environ; give it only the OS_* credential
        os.environ.clear()
        os.environ.update(os_environment(cloud))
        vars_cloud = {**cloud, "clouds_yaml": "/nonexistent/clouds.yaml"}
        rc, out = play(collections_path, vars_cloud, tmp_path, {"region_transfer_image": source["id"],
                                                                "region_transfer_source_cloud": ""})
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    assert rc == 0, failures(out)
    with producer.session() as s:
        [target] = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images", params={KEY: source["id"]}).json()["images"]
    assert target["checksum"] == md5(data)


def proxy_log(cloud: dict, region: str) -> str:
    return (Path(cloud["state_dir"]) / "logs" / f"swift-proxy-{region.lower()}.log").read_text(errors="replace")


def test_interface_internal_reaches_the_internal_endpoint(run, cloud, producer, unique, tmp_path):
    random_file(tmp_path / "i.img", 1000)
    for interface in ("internal", "public"):
        ok(run("swift_dlo_upload", {**P, "interface": interface, "container": f"{unique}-{interface}",
                                    "object": "i.img", "src": str(tmp_path / "i.img")}))
    log = proxy_log(cloud, "RegionOne")
    port = producer.url("object-store", "RegionOne").split(":")[2].split("/")[0]
    hosts = {interface: set(re.findall(rf"PUT /v1/AUTH_\w+/{unique}-{interface}/i\.img\S* .*?Host:%20([\w.]+):{port}",
                                       log)) for interface in ("internal", "public")}
    assert hosts == {"internal": {"localhost"}, "public": {"127.0.0.1"}}, hosts


def test_diff_mode_shows_exact_before_and_after(run, producer, unique, tmp_path):
    random_file(tmp_path / "d.img", 2 * MiB + 3)
    args = {**P, "container": unique, "object": "d.img", "src": str(tmp_path / "d.img"), "segment_size": "1MiB"}
    first = ok(run("swift_dlo_upload", args, diff=True))
    assert first["diff"] == {"before": {}, "after": {"kind": "dlo", "manifest": f"{unique}/d.img-", "size": 2 * MiB + 3,
                                                     "segments": 3}}
    with producer.session() as s:
        image = create_image(s, producer.url("image", "RegionOne"), b"x" * 1024, name=unique, os_distro="debian")
    meta = ok(run("image_metadata", {**P, "image": image["id"], "properties": {"os_distro": "ubuntu", "owner_team": "a"}},
                  diff=True))
    assert meta["patch"] == [{"op": "replace", "path": "/os_distro", "value": "ubuntu"},
                             {"op": "add", "path": "/owner_team", "value": "a"}]
    before = {"name": unique, "min_disk": 0, "min_ram": 0, "visibility": image["visibility"], "protected": False,
              "tags": [], "properties": {"os_distro": "debian"}}
    assert meta["diff"] == {"before": before,
                            "after": {**before, "properties": {"os_distro": "ubuntu", "owner_team": "a"}}}
    with producer.session() as s:
        held = s.get(f"{producer.url('image', 'RegionOne')}/v2/images/{image['id']}").json()
    assert (held["os_distro"], held["owner_team"]) == ("ubuntu", "a")


def test_member_states_rejected_pending_and_removed(run, producer, consumer, unique):
    with producer.session() as s:
        image = create_image(s, producer.url("image", "RegionOne"), b"m" * 512, name=unique, visibility="shared")
    members_url = f"{producer.url('image', 'RegionOne')}/v2/images/{image['id']}/members"

    def status() -> dict:
        with producer.session() as s:
            return {m["member_id"]: m["status"] for m in s.get(members_url).json()["members"]}

    ok(run("image_member", {**P, "image": image["id"], "members": [consumer.project_id]}))
    assert status() == {consumer.project_id: "pending"}
    for wanted in ("rejected", "pending"):
        done = ok(run("image_member", {"cloud": "localcloud-consumer", "image": image["id"], "status": wanted}))
        assert done["changed"] and status() == {consumer.project_id: wanted}
    gone = ok(run("image_member", {**P, "image": image["id"], "members": [consumer.project_id], "state": "absent"}))
    assert gone["changed"] and status() == {}
    assert not ok(run("image_member", {**P, "image": image["id"], "members": [consumer.project_id],
                                       "state": "absent"}))["changed"]


def test_the_role_stages_on_disk_with_its_free_space_preflight(collections_path, cloud, producer, unique, tmp_path):
    data = os.urandom(3 * MiB + 11)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique)
    staging = tmp_path / "staging"
    staging.mkdir()
    extra = {"region_transfer_image": source["id"], "region_transfer_staging": "disk",
             "region_transfer_staging_dir": str(staging)}
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, failures(out)
    assert "Room for the whole image when staging on disk" in out and "Download the export" in out
    with producer.session() as s:
        [target] = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images", params={KEY: source["id"]}).json()["images"]
    assert target["checksum"] == md5(data)
    assert [p.name for p in staging.iterdir() if not p.name.endswith(".progress.json")] == []  # the run's folder is gone


def test_role_variables_that_shape_the_target(collections_path, cloud, producer, unique, tmp_path):
    """Found by filters, renamed, a custom coordinating key, visibility and protected copied,
    properties filtered by include/exclude prefixes, copy_properties off for a second target."""
    glance_one, glance_two = producer.url("image", "RegionOne"), producer.url("image", "RegionTwo")
    with producer.session() as s:
        source = create_image(s, glance_one, os.urandom(200000), name=unique, visibility="community",
                              protected=True, **{"keep.me": "1", "keep.not": "2", "drop.me": "3"})
    key = "com.example.copy-of"
    extra = {"region_transfer_image_filters": {"name": unique}, "region_transfer_target_name": f"{unique}-copy",
             "region_transfer_coordination_key": key, "region_transfer_copy_visibility": True,
             "region_transfer_copy_protected": True, "region_transfer_property_include": ["keep."],
             "region_transfer_property_exclude": ["keep.not"]}
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, failures(out)
    with producer.session() as s:
        [target] = s.get(f"{glance_two}/v2/images", params={key: source["id"]}).json()["images"]
        stamped = s.get(f"{glance_one}/v2/images/{source['id']}").json()
        default_keyed = s.get(f"{glance_two}/v2/images", params={KEY: source["id"]}).json()["images"]
    assert (target["name"], target["visibility"], target["protected"]) == (f"{unique}-copy", "community", True)
    assert target["keep.me"] == "1" and "keep.not" not in target and "drop.me" not in target
    assert stamped[key] == source["id"] and KEY not in stamped and default_keyed == []
    rc, again = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0 and "nothing to move" in again, failures(again)
    with producer.session() as s:  # unprotected, so that nothing here outlives the test for good
        assert s.patch(f"{glance_two}/v2/images/{target['id']}", json=[{"op": "replace", "path": "/protected",
                                                                         "value": False}],
                       headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}).ok
        assert s.patch(f"{glance_one}/v2/images/{source['id']}", json=[{"op": "replace", "path": "/protected",
                                                                         "value": False}],
                       headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}).ok
    # without copy_properties a transfer under another key gets none of them, and is private
    rc, out = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"],
                                                       "region_transfer_copy_properties": False})
    assert rc == 0, failures(out)
    with producer.session() as s:
        [bare] = s.get(f"{glance_two}/v2/images", params={KEY: source["id"]}).json()["images"]
    assert "keep.me" not in bare and bare["visibility"] == "private" and bare["protected"] is False


def test_role_refuses_a_source_over_max_size_before_anything_moves(collections_path, cloud, producer, unique,
                                                                   tmp_path):
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), os.urandom(300000), name=unique)
    rc, out = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"],
                                                       "region_transfer_max_size": 299999})
    assert rc != 0 and "it must be active, at most region_transfer_max_size (299999) bytes" in out, out[-2000:]
    with producer.session() as s:
        held = s.get(f"{producer.url('image', 'RegionOne')}/v2/images/{source['id']}").json()
        targets = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images", params={KEY: source["id"]}).json()
    assert KEY not in held and targets["images"] == []
    assert listing(producer, "RegionOne", "cloudimages-exports", prefix=source["id"]) == []


@pytest.mark.serial  # the vendor emulator's fault file acts on every vendor transfer
def test_an_export_task_already_running_for_the_image_is_joined(run, cloud, producer, unique):
    """The vendor's export task is slow (40-75 min in their transcript): a second run, or another
    client, that finds one pending or processing for the same image and container waits on it."""
    with producer.session() as s:
        image = create_image(s, producer.url("image", "RegionOne"), vhd_image(os.urandom(MiB)), name=unique,
                             disk_format="vhd")
        assert s.put(f"{producer.url('object-store', 'RegionOne')}/{unique}").status_code in (201, 202)
    faults = Path(cloud["state_dir"]) / "vendor-faults.json"
    faults.write_text(json.dumps({"task_delay_seconds": 5}))
    tasks = f"{cloud['regions']['RegionOne']['images_proxy']}/v2/tasks"
    try:
        with producer.session() as s:
            first = s.post(tasks, json={"type": "export", "input": {"image_uuid": image["id"],
                                                                    "receiving_swift_container": unique}}).json()
        joined = ok(run("image_export", {"cloud": "localcloud-producer-apikey", "image": image["id"],
                                         "container": unique, "method": "task", "poll_interval": 1}))
    finally:
        faults.unlink()
    assert joined["task"]["id"] == first["id"]
    with producer.session() as s:
        listed = s.get(tasks, params={"type": "export"}).json()["tasks"]
        mine = [t for t in (s.get(f"{tasks}/{t['id']}").json() for t in listed)
                if (t.get("input") or {}).get("image_uuid") == image["id"]]
    assert [t["id"] for t in mine] == [first["id"]]  # no second task


def test_segment_size_is_chosen_from_the_clusters_info(run, cloud, producer, unique, tmp_path):
    """No segment_size: 1 GiB, or the cluster's max_file_size where smaller (here 64 MiB)."""
    random_file(tmp_path / "a.img", 3 * MiB + 1)
    up = ok(run("swift_dlo_upload", {**P, "container": unique, "object": "a.img", "src": str(tmp_path / "a.img")}))
    limit = int(cloud["settings"]["SWIFT_MAX_FILE_SIZE"])
    assert up["segment_size"] == min(limit, 1024 * MiB)
    assert [o["name"] for o in listing(producer, "RegionOne", unique, "a.img-")] == ["a.img-00001"]


@pytest.mark.parametrize("case", ["volume-backed snapshot", "encrypted", "kernel and ramdisk"])
def test_role_refuses_an_image_whose_copy_could_not_work_where_it_lands(collections_path, cloud, producer, unique,
                                                                        tmp_path, case):
    """Properties that only mean something in the source cloud: refused in preflight, before
    anything moves, saying what to do instead."""
    data, props, said = {
        "volume-backed snapshot": (b"", {"block_device_mapping": '[{"source_type": "snapshot", "snapshot_id": "s1"}]',
                                         "root_device_name": "/dev/vda"},
                                   "is the snapshot of a volume-backed instance"),
        "encrypted": (os.urandom(4096), {"cinder_encryption_key_id": "5f1e0b3c-key", "os_encrypt_format": "luks"},
                      "is encrypted (cinder_encryption_key_id or os_encrypt_* is set)"),
        "kernel and ramdisk": (os.urandom(4096), {"kernel_id": "0b7c1a4e-7c8e-4a8e-9d6f-1c2b3a4d5e6f"},
                               "boots with kernel_id 0b7c1a4e-7c8e-4a8e-9d6f-1c2b3a4d5e6f and ramdisk_id -"),
    }[case]
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique, **props)
    assert source["status"] == "active"
    rc, out = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"]})
    assert rc != 0 and said in out, out[-3000:]
    with producer.session() as s:
        targets = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images", params={KEY: source["id"]}).json()
    assert targets["images"] == []
    assert listing(producer, "RegionOne", "cloudimages-exports", prefix=source["id"]) == []
    if case == "kernel and ramdisk":  # told to leave them, it moves the image, and the copy names no kernel
        rc, out = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"],
                                                           "region_transfer_drop_kernel_ramdisk": True})
        assert rc == 0, failures(out)
        with producer.session() as s:
            [target] = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images", params={KEY: source["id"]}
                             ).json()["images"]
        assert "kernel_id" not in target and "kernel_id, ramdisk_id not copied" not in out
        assert "kernel_id not copied: they name images of the source's region" in out
