"""Transfers that hold on a real cloud: targets stored in another format, verified by what survives.

The vendor path runs on the shared cloud, whose vendor emulator converts as the vendor
documents (an export task writes a new VHD; an import task stores raw). The upstream paths
into a converting Glance run on a cloud of their own whose RegionTwo has the real
image_conversion import plugin on (LOCALCLOUD_IMAGE_CONVERSION=raw). Every assertion is on
the images both regions hold.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import requests
from cloudtest import create_image, md5, vhd_image
from systemtest import own_cloud
from test_region_transfer import KEY, failures, objects, play

VERIFIED = "cloudimages_transfer_verified"


def changed_count(output: str) -> int:
    return sum(int(n) for n in re.findall(r"^transfer-\S+\s*: ok=\d+\s+changed=(\d+)", output, re.MULTILINE))


def targets(session: requests.Session, glance: str, source_id: str) -> list:
    return session.get(f"{glance}/v2/images", params={KEY: source_id, "status": None}).json()["images"]


def test_the_vendor_path_converts_and_is_verified_by_what_survives(collections_path, cloud, producer, unique,
                                                                   tmp_path):
    data = vhd_image(os.urandom(5 * 1024 * 1024 + 512))
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique, disk_format="vhd",
                              os_distro="debian", instance_uuid="0000", image_type="snapshot", min_disk=3,
                              min_ram=512, tags=["golden", "debian"], visibility="shared")
    extra = {"region_transfer_image": source["id"], "region_transfer_source_cloud": "localcloud-producer-apikey",
             "region_transfer_export_method": "task", "region_transfer_import_method": "task",
             "region_transfer_export_container": f"exp-{unique}", "region_transfer_import_container": f"imp-{unique}"}
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, failures(out)
    with producer.session() as s:
        [target] = targets(s, producer.url("image", "RegionTwo"), source["id"])
    assert (target["status"], target["disk_format"]) == ("active", "raw")
    assert target["checksum"] != source["checksum"] and target["virtual_size"] == source["virtual_size"]
    assert target[VERIFIED] == source["os_hash_value"]
    # attributes and properties travel; Nova's snapshot bookkeeping and the visibility do not (private by default)
    assert target["os_distro"] == "debian" and "instance_uuid" not in target and "image_type" not in target
    assert (target["min_disk"], target["min_ram"], sorted(target["tags"])) == (3, 512, ["debian", "golden"])
    assert target["visibility"] == "private"
    rc, again = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0 and changed_count(again) == 0, again[-3000:]
    assert "verified as a copy of this source's content" in again
    assert objects(producer, "RegionOne", f"exp-{unique}") == [] and objects(producer, "RegionTwo", f"imp-{unique}") == []


@pytest.mark.serial  # the vendor emulator's fault file acts on every vendor transfer
def test_a_target_whose_virtual_size_differs_is_refused(collections_path, cloud, producer, unique, tmp_path):
    data = vhd_image(os.urandom(2 * 1024 * 1024))
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique, disk_format="vhd")
    faults = Path(cloud["state_dir"]) / "vendor-faults.json"
    faults.write_text(json.dumps({"import_grow_bytes": 1024 * 1024}))
    try:
        rc, out = play(collections_path, cloud, tmp_path, {
            "region_transfer_image": source["id"], "region_transfer_source_cloud": "localcloud-producer-apikey",
            "region_transfer_export_method": "task", "region_transfer_import_method": "task",
            "region_transfer_export_container": f"exp-{unique}", "region_transfer_import_container": f"imp-{unique}"})
    finally:
        faults.unlink()
    assert rc != 0 and f"virtual_size {2 * 1024 * 1024 + 1024 * 1024} where the source has {2 * 1024 * 1024}" in out
    with producer.session() as s:
        [target] = targets(s, producer.url("image", "RegionTwo"), source["id"])
    assert VERIFIED not in target  # never stamped as done


def test_two_sources_sharing_a_coordination_value_get_a_target_each(collections_path, cloud, producer, unique,
                                                                    tmp_path):
    payloads = [os.urandom(300000), os.urandom(300000)]  # equal sizes, other content
    with producer.session() as s:
        sources = [create_image(s, producer.url("image", "RegionOne"), p, name=f"{unique}-{n}")
                   for n, p in enumerate(payloads)]
    for source in sources:
        rc, out = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"],
                                                           "region_transfer_coordination_value": unique})
        assert rc == 0, failures(out)
    with producer.session() as s:
        found = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images", params={KEY: unique}).json()["images"]
    found = [[t for t in found if t["cloudimages_source_image"] == source["id"]] for source in sources]
    assert [len(f) for f in found] == [1, 1] and found[0][0]["id"] != found[1][0]["id"]
    assert [f[0]["checksum"] for f in found] == [md5(p) for p in payloads]
    assert [f[0][VERIFIED] for f in found] == [source["os_hash_value"] for source in sources]


@pytest.fixture(scope="module")
def converting_cloud(tmp_path_factory):
    yield from own_cloud(tmp_path_factory.mktemp("converting-cloud"), IMAGE_CONVERSION="raw")


def login(cloud: dict) -> requests.Session:
    """A session with a token of the producer on a cloud of the test's own."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "producer", "domain": {"id": "default"}, "password": cloud["passwords"]["producer"]}}},
        "scope": {"project": {"name": "producer", "domain": {"id": "default"}}}}}
    resp = requests.post(f"{cloud['keystone']}/v3/auth/tokens", json=body, timeout=30)
    s = requests.Session()
    s.headers["X-Auth-Token"] = resp.headers["X-Subject-Token"]
    s.project_id = resp.json()["token"]["project"]["id"]
    return s


def qcow2_of(raw: bytes, tmp_path: Path) -> bytes:
    (tmp_path / "disk.raw").write_bytes(raw)
    done = subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(tmp_path / "disk.raw"),
                           str(tmp_path / "disk.qcow2")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return (tmp_path / "disk.qcow2").read_bytes()


@pytest.mark.parametrize("method", ["web-download", "glance-download", "direct"])
def test_upstream_paths_into_a_converting_glance(collections_path, converting_cloud, unique, tmp_path, method):
    cloud = converting_cloud
    s = login(cloud)
    raw = os.urandom(3 * 1024 * 1024)
    source = create_image(s, cloud["regions"]["RegionOne"]["glance"], qcow2_of(raw, tmp_path), name=unique,
                          disk_format="qcow2")
    extra = {"region_transfer_image": source["id"], "region_transfer_import_method": method}
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, failures(out)
    [target] = targets(s, cloud["regions"]["RegionTwo"]["glance"], source["id"])
    assert (target["status"], target["disk_format"], target["checksum"]) == ("active", "raw", md5(raw))
    assert target["virtual_size"] == source["virtual_size"] == len(raw) and target[VERIFIED] == source["os_hash_value"]
    assert "skipped: converted (qcow2 -> raw by the target's import)" in out
    rc, again = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0 and changed_count(again) == 0, again[-3000:]


def test_a_shared_source_of_another_project_is_transferred(collections_path, cloud, producer, consumer, unique,
                                                           tmp_path):
    """The producer can read the consumer's shared image but not change it: the coordinating
    metadata then lives only on the target."""
    data = os.urandom(400000)
    glance = consumer.url("image", "RegionOne")
    with consumer.session() as s:
        source = create_image(s, glance, data, name=unique, visibility="shared", os_distro="alpine")
        assert s.post(f"{glance}/v2/images/{source['id']}/members", json={"member": producer.project_id}).ok
    with producer.session() as s:
        assert s.put(f"{glance}/v2/images/{source['id']}/members/{producer.project_id}",
                     json={"status": "accepted"}).ok
    rc, out = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"]})
    assert rc == 0, failures(out)
    assert "belongs to another project" in out
    with producer.session() as s:
        [target] = targets(s, producer.url("image", "RegionTwo"), source["id"])
        held = s.get(f"{glance}/v2/images/{source['id']}").json()
    assert target["owner"] == producer.project_id and target["checksum"] == md5(data)
    assert target[VERIFIED] == source["os_hash_value"] and target["os_distro"] == "alpine"
    assert KEY not in held  # the source was not changed
    rc, again = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"]})
    assert rc == 0 and changed_count(again) == 0, again[-3000:]


def test_a_source_without_a_checksum_is_identified_by_size_updated_at_and_id(collections_path, cloud, producer,
                                                                             unique, tmp_path):
    """Ceph-backed Nova snapshots have checksum and os_hash_value null: made here by clearing
    them in RegionOne's Glance database, as Glance itself leaves them for images created
    from a location."""
    data = os.urandom(700000)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique)
    db = cloud["database"]
    done = subprocess.run([db["psql"], "-h", "127.0.0.1", "-p", str(db["port"]), "-U", db["user"], "-d",
                           db["names"]["RegionOne"], "-v", "ON_ERROR_STOP=1", "-c",
                           "UPDATE images SET checksum = NULL, os_hash_algo = NULL, os_hash_value = NULL "
                           f"WHERE id = '{source['id']}'"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "UPDATE 1", done.stderr
    with producer.session() as s:
        held = s.get(f"{producer.url('image', 'RegionOne')}/v2/images/{source['id']}").json()
    assert (held["checksum"], held["os_hash_value"]) == (None, None)
    rc, out = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"]})
    assert rc == 0, failures(out)
    with producer.session() as s:
        [target] = targets(s, producer.url("image", "RegionTwo"), source["id"])
        stamped = s.get(f"{producer.url('image', 'RegionOne')}/v2/images/{source['id']}").json()
    assert (target["status"], target["checksum"]) == ("active", md5(data))
    assert target[VERIFIED] == f"size:{len(data)};updated_at:{stamped['updated_at']};id:{source['id']}"
    assert "not checked" in out  # nothing to compare the target's checksum with
    rc, again = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"]})
    assert rc == 0 and changed_count(again) == 0, again[-3000:]
    # the same id and size with other content (a later change moves updated_at) is not done
    with producer.session() as s:
        assert s.patch(f"{producer.url('image', 'RegionOne')}/v2/images/{source['id']}",
                       json=[{"op": "add", "path": "/os_distro", "value": "changed"}],
                       headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}).ok
    rc, third = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"]}, check=True)
    assert rc == 0 and "nothing to move" not in third, failures(third)


def vendor_transfer(unique: str, source_id: str, **more) -> dict:
    return {"region_transfer_image": source_id, "region_transfer_source_cloud": "localcloud-producer-apikey",
            "region_transfer_export_method": "task", "region_transfer_import_method": "task",
            "region_transfer_export_container": f"exp-{unique}", "region_transfer_import_container": f"imp-{unique}",
            **more}


def test_verify_content_compares_the_disks_across_a_conversion(collections_path, cloud, producer, unique, tmp_path):
    disk = os.urandom(3 * 1024 * 1024)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), vhd_image(disk), name=unique, disk_format="vhd")
    rc, out = play(collections_path, cloud, tmp_path, vendor_transfer(unique, source["id"],
                                                                       region_transfer_verify="content"))
    assert rc == 0, failures(out)
    with producer.session() as s:
        [target] = targets(s, producer.url("image", "RegionTwo"), source["id"])
        stored = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images/{target['id']}/file").content
    assert (target["disk_format"], target[VERIFIED]) == ("raw", source["os_hash_value"])
    assert stored[:len(disk)] == disk and re.search(r"""["']content["']: true""", out)
    assert not list(tmp_path.glob(".cloudimages-compare-*"))  # the two downloads are gone


@pytest.mark.serial  # the vendor emulator's fault file acts on every vendor transfer
def test_verify_content_refuses_a_conversion_that_corrupted_the_disk(collections_path, cloud, producer, unique,
                                                                     tmp_path):
    disk = os.urandom(2 * 1024 * 1024)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), vhd_image(disk), name=unique, disk_format="vhd")
    faults = Path(cloud["state_dir"]) / "vendor-faults.json"
    faults.write_text(json.dumps({"import_flip_byte_at": 1234567}))
    try:
        rc, out = play(collections_path, cloud, tmp_path, vendor_transfer(unique, source["id"],
                                                                           region_transfer_verify="content"))
    finally:
        faults.unlink()
    assert rc != 0 and f"Content mismatch at offset {1234567 // 512 * 512}" in out, out[-3000:]
    with producer.session() as s:
        [target] = targets(s, producer.url("image", "RegionTwo"), source["id"])
    assert target["virtual_size"] == source["virtual_size"] and VERIFIED not in target  # never stamped as done
    assert not list(tmp_path.glob(".cloudimages-compare-*"))


def test_a_vhd_import_a_converting_glance_fails_ends_at_once_with_what_to_do(collections_path, converting_cloud,
                                                                            unique, tmp_path):
    """The role not told that the target converts: the vendor's VHD export is web-downloaded as
    VHD, Glance's image_conversion plugin fails on it, and Glance leaves the image queued with its
    failed import task still named as the lock. The wait ends at that poll (it waited for hours)."""
    cloud = converting_cloud
    s = login(cloud)
    source = create_image(s, cloud["regions"]["RegionOne"]["glance"], vhd_image(os.urandom(2 * 1024 * 1024)),
                          name=unique, disk_format="vhd")
    extra = {"region_transfer_image": source["id"], "region_transfer_source_cloud": "localcloud-producer-apikey",
             "region_transfer_target_cloud": "localcloud-producer", "region_transfer_export_method": "task",
             "region_transfer_wait_timeout": 600}
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc != 0 and "Gave up waiting" not in out, out[-3000:]
    assert re.search(r"The import of image \S+ in region RegionTwo failed: it is queued.*a Glance that runs the "
                     r"image_conversion import plugin cannot read VHD", out), failures(out)
    [target] = targets(s, cloud["regions"]["RegionTwo"]["glance"], source["id"])
    assert target["status"] == "queued" and VERIFIED not in target


def test_a_vendor_vhd_export_reaches_a_converting_glance_converted_on_the_way(collections_path, converting_cloud,
                                                                              unique, tmp_path):
    """The vendor's export task writes VHD; Glance's image_conversion plugin cannot read VHD
    (qemu-img calls it vpc), so the staged VHD is converted to qcow2 before the web-download
    import, which the plugin then stores as raw."""
    cloud = converting_cloud
    s = login(cloud)
    raw = os.urandom(3 * 1024 * 1024 + 512)
    source = create_image(s, cloud["regions"]["RegionOne"]["glance"], vhd_image(raw), name=unique, disk_format="vhd")
    extra = {"region_transfer_image": source["id"], "region_transfer_source_cloud": "localcloud-producer-apikey",
             "region_transfer_target_cloud": "localcloud-producer", "region_transfer_export_method": "task",
             "region_transfer_staging": "disk", "region_transfer_target_converts": True}
    rc, plan = play(collections_path, cloud, tmp_path, extra, check=True)
    assert rc == 0, failures(plan)
    assert targets(s, cloud["regions"]["RegionTwo"]["glance"], source["id"]) == []
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, failures(out)
    assert ("Import by web-download as qcow2: the target's web-download import cannot take vhd (its image schema "
            "lists them; its image_conversion plugin cannot read VHD): converting vhd to qcow2") in out
    [target] = targets(s, cloud["regions"]["RegionTwo"]["glance"], source["id"])
    assert (target["status"], target["disk_format"], target["checksum"]) == ("active", "raw", md5(raw))
    assert target["virtual_size"] == source["virtual_size"] == len(raw)
    assert target[VERIFIED] == source["os_hash_value"] and target["cloudimages_transfer_converted"] == "vhd to qcow2"
    assert [p for p in tmp_path.glob(".cloudimages-*") if p.is_dir()] == []  # staged and converted files gone
    assert target["cloudimages_transfer_import_object"] == f"{source['id']}.qcow2"  # what the conversion uploaded
    rc, again = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0 and changed_count(again) == 0, again[-3000:]
    # a run that died after the import and before its cleanup left the converted object: the
    # rerun, which plans nothing, finds its name on the target and deletes it
    imports = f"{cloud['regions']['RegionTwo']['swift']}/v1/AUTH_{s.project_id}/cloudimages-imports"
    s.put(f"{imports}/{source['id']}.qcow2-00001", data=b"converted").raise_for_status()
    s.put(f"{imports}/{source['id']}.qcow2", data=b"", headers={
        "X-Object-Manifest": f"cloudimages-imports/{source['id']}.qcow2-",
        "X-Object-Meta-Cloudimages-Source-Image": source["id"]}).raise_for_status()
    s.patch(f"{cloud['regions']['RegionTwo']['glance']}/v2/images/{target['id']}",
            json=[{"op": "replace", "path": "/cloudimages_transfer_cleaned_up", "value": "source"}],
            headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}).raise_for_status()
    rc, third = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, failures(third)
    listed = s.get(imports, params={"format": "json", "prefix": source["id"]}).json()
    assert listed == []


def test_an_upstream_qcow2_reaches_the_vendors_vhd_only_import_converted_on_the_way(collections_path, cloud, producer,
                                                                                    unique, tmp_path):
    raw = os.urandom(3 * 1024 * 1024)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), qcow2_of(raw, tmp_path), name=unique,
                              disk_format="qcow2")
    extra = {"region_transfer_image": source["id"], "region_transfer_target_cloud": "localcloud-producer-apikey",
             "region_transfer_import_container": f"imp-{unique}", "region_transfer_export_container": f"exp-{unique}"}
    rc, out = play(collections_path, cloud, tmp_path, extra)  # streamed: no local copy to convert
    assert rc != 0 and ("the target's task import cannot take qcow2 (the vendor's import task takes VHD only): "
                        "converting qcow2 to vhd; converting needs region_transfer_staging: disk") in out
    assert objects(producer, "RegionTwo", f"imp-{unique}") == []  # nothing was copied
    rc, out = play(collections_path, cloud, tmp_path, {**extra, "region_transfer_staging": "disk"})
    assert rc == 0, failures(out)
    with producer.session() as s:
        [target] = targets(s, producer.url("image", "RegionTwo"), source["id"])
    assert (target["status"], target["disk_format"]) == ("active", "raw")  # the vendor stores raw
    assert target["checksum"] == md5(raw) and target["virtual_size"] == source["virtual_size"] == len(raw)
    assert target["cloudimages_transfer_converted"] == "qcow2 to vhd" and target[VERIFIED] == source["os_hash_value"]


def hostile_qcow2(tmp_path: Path, names: Path) -> bytes:
    """A qcow2 whose external data file is a file of the host that converts it (OSSA-2024-001).

    Glance 33 inspects uploads and refuses this one, but only for container_format bare: the
    tests store it as ``ovf`` (HOSTILE), which that Glance does not inspect, as Glances before
    2024.1 inspected nothing and images stored before an upgrade stay as they are."""
    scratch, image = tmp_path / "scratch.bin", tmp_path / "hostile.qcow2"
    for argv in (["create", "-q", "-f", "qcow2", "-o", f"data_file={scratch},data_file_raw=on", str(image), "1M"],
                 ["amend", "-f", "qcow2", "-o", f"data_file={names}", str(image)]):
        done = subprocess.run(["qemu-img", *argv], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    scratch.unlink()
    return image.read_bytes()


HOSTILE = {"disk_format": "qcow2", "container_format": "ovf"}


def test_glance_refuses_the_hostile_qcow2_only_as_a_bare_image(producer, unique, tmp_path):
    """The server's own behaviour the two tests below build on (Glance 33's upload inspection)."""
    secret = tmp_path / "worker-secret.yaml"
    secret.write_bytes(b"x" * 4096)
    data = hostile_qcow2(tmp_path, secret)
    with producer.session() as s:
        glance = producer.url("image", "RegionOne")
        image = s.post(f"{glance}/v2/images", json={"name": unique, "disk_format": "qcow2",
                                                   "container_format": "bare"}).json()
        put = s.put(f"{glance}/v2/images/{image['id']}/file", data=data,
                    headers={"Content-Type": "application/octet-stream"})
        assert put.status_code == 415 and "Image failed safety checks" in put.text
        assert create_image(s, glance, data, name=unique, **HOSTILE)["status"] == "active"


def test_a_qcow2_naming_a_file_of_the_worker_is_refused_before_qemu_img_opens_it(collections_path, cloud, producer,
                                                                                  unique, tmp_path):
    """Before the inspection, the role's conversion copied the named file into the VHD it
    uploaded, and the target image held the worker's secret."""
    secret = tmp_path / "worker-secret.yaml"
    secret.write_bytes(b"clouds: {prod: {auth: {password: the-workers-own-secret}}}\n".ljust(1024 * 1024, b"#"))
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), hostile_qcow2(tmp_path, secret), name=unique,
                              **HOSTILE)
    extra = {"region_transfer_image": source["id"], "region_transfer_target_cloud": "localcloud-producer-apikey",
             "region_transfer_import_container": f"imp-{unique}", "region_transfer_export_container": f"exp-{unique}",
             "region_transfer_staging": "disk", "region_transfer_staging_dir": str(tmp_path)}
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc != 0 and "is refused as a qcow2 image: it failed the inspector's safety checks (data_file: Image has " \
                       "data_file set); qemu-img was not run on it" in out, out[-3000:]
    assert objects(producer, "RegionTwo", f"imp-{unique}") == []  # nothing reached the target's object store
    with producer.session() as s:
        assert [t for t in targets(s, producer.url("image", "RegionTwo"), source["id"])
                if t["status"] == "active"] == []
    assert b"the-workers-own-secret" not in b"".join(p.read_bytes() for p in tmp_path.rglob("*")
                                                       if p.is_file() and p != secret)


def test_verify_content_inspects_both_downloads_before_qemu_img_compares_them(collections_path, cloud, producer,
                                                                              unique, tmp_path):
    """Before the inspection, qemu-img compare followed the data file on both sides, read the same
    file of the worker twice, and called the copy verified."""
    secret = tmp_path / "worker-secret.yaml"
    secret.write_bytes(b"clouds: {prod: {auth: {password: the-workers-own-secret}}}\n".ljust(1024 * 1024, b"#"))
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), hostile_qcow2(tmp_path, secret), name=unique,
                              **HOSTILE)
    rc, out = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"],
                                                       "region_transfer_import_method": "glance-download",
                                                       "region_transfer_verify": "content",
                                                       "region_transfer_staging_dir": str(tmp_path)})
    assert rc != 0 and "source is refused as a qcow2 image: it failed the inspector's safety checks (data_file: " \
                       "Image has data_file set)" in out, out[-3000:]
    with producer.session() as s:
        [target] = targets(s, producer.url("image", "RegionTwo"), source["id"])
    assert VERIFIED not in target  # never stamped as a verified copy
    assert not list(tmp_path.glob(".cloudimages-compare-*"))
