"""The region_transfer role through the transfer_image playbook, on the local cloud.

Assertions are on both regions' state (raw Images and Swift calls), never on what the role said.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from cloudtest import create_image, md5
from systemtest import ANSIBLE_PLAYBOOK, MiB, kill_tree, progress_reached, run_progress

KEY = "com.cloudimages.image-of"


def play(collections_path, cloud, tmp_path, extra: dict, check: bool = False, background: bool = False):
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections_path), "OS_CLIENT_CONFIG_FILE": cloud["clouds_yaml"],
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false"}
    variables = {"region_transfer_source_cloud": "localcloud-producer", "region_transfer_source_region": "RegionOne",
                 "region_transfer_target_region": "RegionTwo", "region_transfer_poll_interval": 1,
                 "region_transfer_progress_interval": 1, "region_transfer_segment_size": "8MiB",
                 "region_transfer_staging_dir": str(tmp_path), **extra}
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    argv = [ANSIBLE_PLAYBOOK, "cloudimages.transfer.transfer_image", "-e", f"@{tmp_path / 'vars.json'}"]
    argv += ["--check"] if check else []
    if background:  # True, or a file for the output
        out = open(background, "w") if isinstance(background, Path) else subprocess.DEVNULL  # noqa: SIM115
        return subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def failures(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith(("fatal:", "[ERROR]")) or "FAILED!" in line]
    return "\n".join(lines)[-4000:] or output[-3000:]


def changed_count(output: str) -> int:
    return sum(int(n) for n in re.findall(r"^transfer-\S+\s*: ok=\d+\s+changed=(\d+)", output, re.MULTILINE))


def target_images(producer, source_id: str) -> list:
    with producer.session() as s:
        return s.get(f"{producer.url('image', 'RegionTwo')}/v2/images", params={KEY: source_id}).json()["images"]


def objects(producer, region: str, container: str) -> list:
    with producer.session() as s:
        resp = s.get(f"{producer.url('object-store', region)}/{container}", params={"format": "json"})
        return [o["name"] for o in resp.json()] if resp.status_code == 200 else []


STAGED = {"region_transfer_import_method": "web-download"}  # the object-store path: export, copy, web-download


def test_auto_takes_glance_download_within_one_cloud_and_a_rerun_changes_nothing(collections_path, cloud, producer,
                                                                                 unique, tmp_path):
    """One cloud, and RegionTwo's Glance offers glance-download: auto lets Glance copy the image,
    no export, no object, and says why; the target records the path, so that a rerun looks for
    no intermediates."""
    data = os.urandom(1 * MiB + 3)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique)
    extra = {"region_transfer_image": source["id"], "region_transfer_export_container": f"exp-{unique}",
             "transfer_report": str(tmp_path / "report.json")}
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, failures(out)
    assert re.search(r"Import by glance-download as raw: .*\(no export, no object store: both regions share a "
                     r"Keystone and the target offers glance-download", out), out[-3000:]
    [target] = target_images(producer, source["id"])
    assert (target["status"], target["checksum"], target["cloudimages_transfer_path"]) == (
        "active", md5(data), "glance-download")
    assert "cloudimages_transfer_cleaned_up" not in target
    with producer.session() as s:
        assert s.head(f"{producer.url('object-store', 'RegionOne')}/exp-{unique}").status_code == 404
    [row] = json.loads((tmp_path / "report.json").read_text())["images"]
    assert row["path"].startswith("glance-download: both regions share a Keystone"), row
    rc, again = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0 and changed_count(again) == 0, again[-3000:]


def test_transfer_then_rerun_changes_nothing(collections_path, cloud, producer, unique, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 5)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique, os_distro="cirros")
    rc, out = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"], **STAGED})
    assert rc == 0, failures(out)
    [target] = target_images(producer, source["id"])
    assert target["status"] == "active" and target["checksum"] == md5(data) and target["os_distro"] == "cirros"
    assert target["cloudimages_source_image"] == source["id"]
    assert target["cloudimages_transfer_verified"] == source["os_hash_value"]  # the completion stamp
    with producer.session() as s:
        assert s.get(f"{producer.url('image', 'RegionTwo')}/v2/images/{target['id']}/file").content == data
        assert s.get(f"{producer.url('image', 'RegionOne')}/v2/images/{source['id']}").json()[KEY] == source["id"]
    # this transfer's intermediates cleaned up (other tests share the default containers)
    assert [o for o in objects(producer, "RegionOne", "cloudimages-exports") if o.startswith(source["id"])] == []
    assert [o for o in objects(producer, "RegionTwo", "cloudimages-imports") if o.startswith(source["id"])] == []
    assert target["cloudimages_transfer_cleaned_up"] == "source,target"  # so a rerun need not look again
    rc, again = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"], **STAGED})
    assert rc == 0 and changed_count(again) == 0, again[-3000:]
    assert [i["id"] for i in target_images(producer, source["id"])] == [target["id"]]
    # a run that died after the completion stamp and before its cleanup: the target has no record
    # of it, and the export is still there; the rerun deletes it and records that
    with producer.session() as s:
        s.patch(f"{producer.url('image', 'RegionTwo')}/v2/images/{target['id']}",
                json=[{"op": "remove", "path": "/cloudimages_transfer_cleaned_up"}],
                headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}).raise_for_status()
        exports = f"{producer.url('object-store', 'RegionOne')}/cloudimages-exports"
        s.put(f"{exports}/{source['id']}.vhd-00001", data=data[:1000]).raise_for_status()
        s.put(f"{exports}/{source['id']}.vhd", data=b"",
              headers={"X-Object-Manifest": f"cloudimages-exports/{source['id']}.vhd-",
                       "X-Object-Meta-Cloudimages-Source-Image": source["id"]}).raise_for_status()  # as exports are
    rc, again = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"], **STAGED})
    assert rc == 0, failures(again)
    assert [o for o in objects(producer, "RegionOne", "cloudimages-exports") if o.startswith(source["id"])] == []
    [target] = target_images(producer, source["id"])
    assert target["cloudimages_transfer_cleaned_up"] == "source,target"


def test_direct_streams_the_image_through_once_and_a_rerun_changes_nothing(collections_path, cloud, producer,
                                                                           unique, tmp_path):
    """region_transfer_import_method direct: the source's bytes from RegionOne's Glance into
    RegionTwo's (PUT /stage and glance-direct: the local cloud offers it), no export, no object."""
    data = os.urandom(2 * MiB + 7)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=f"{unique} dïrect image")
    extra = {"region_transfer_image": source["id"], "region_transfer_import_method": "direct",
             "region_transfer_export_container": f"exp-{unique}", "region_transfer_import_container": f"imp-{unique}",
             "transfer_report": str(tmp_path / "report.json")}
    rc, out = play(collections_path, cloud, tmp_path, extra, check=True)
    assert rc == 0 and "Import by direct as raw" in out, failures(out)
    assert target_images(producer, source["id"]) == []  # check mode made nothing
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, failures(out)
    [target] = target_images(producer, source["id"])
    assert (target["status"], target["checksum"], target["os_hash_value"], target["name"]) == (
        "active", md5(data), source["os_hash_value"], f"{unique} dïrect image")
    assert target["cloudimages_transfer_verified"] == source["os_hash_value"]
    with producer.session() as s:
        assert s.get(f"{producer.url('image', 'RegionTwo')}/v2/images/{target['id']}/file").content == data
        for region, container in (("RegionOne", f"exp-{unique}"), ("RegionTwo", f"imp-{unique}")):
            assert s.head(f"{producer.url('object-store', region)}/{container}").status_code == 404  # nothing staged
    [row] = json.loads((tmp_path / "report.json").read_text())["images"]
    assert row["verification"]["bytes"] == "MD5 and SHA-512 of the stream compared with the source", row
    rc, again = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0 and changed_count(again) == 0, again[-3000:]
    assert [i["id"] for i in target_images(producer, source["id"])] == [target["id"]]


def test_check_mode_changes_nothing_in_either_region(collections_path, cloud, producer, unique, tmp_path):
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), os.urandom(100000), name=unique)
    for extra, said in (({}, "Import by glance-download"), (STAGED, "would export")):
        rc, out = play(collections_path, cloud, tmp_path, {"region_transfer_image": source["id"],
                                                           "region_transfer_export_container": unique, **extra},
                       check=True)
        assert rc == 0 and said in out, failures(out)
    with producer.session() as s:
        after = s.get(f"{producer.url('image', 'RegionOne')}/v2/images/{source['id']}").json()
    assert KEY not in after and after["updated_at"] == source["updated_at"]
    assert target_images(producer, source["id"]) == []
    with producer.session() as s:
        assert s.head(f"{producer.url('object-store', 'RegionOne')}/{unique}").status_code == 404


@pytest.mark.serial  # kills every background copy on the machine
def test_a_transfer_killed_during_the_copy_resumes(collections_path, cloud, producer, unique, tmp_path):
    data = os.urandom(160 * 1024 * 1024)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique)
    extra = {"region_transfer_image": source["id"], "region_transfer_concurrency": 1, **STAGED}
    first = tmp_path / "first-run.log"
    proc = play(collections_path, cloud, tmp_path, extra, background=first)
    done = progress_reached(proc, lambda: run_progress(tmp_path, source["id"], "copy"), 0.2)
    assert 0.2 < done < 1, f"the copy was not caught part-way ({done:.0%})"
    kill_tree(proc.pid)
    kill_async_copies()
    proc.wait()
    assert target_images(producer, source["id"]) == []
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, failures(out)
    # the copy printed its progress: percent, bytes, rate and ETA
    assert re.search(r"^\[transfer-\S+\] copy: [\d.]+ % - [\d.]+ of 160.0 MiB, [\d.]+ MB/s, ETA (\?|\d+ (s|min)[\d a-z]*), "
                     r"\d+ s elapsed$", out, re.MULTILINE), out[-3000:]
    # and so did the export before the kill, and the import: what it waits for, for how long
    assert re.search(r"^\[transfer-\S+\] export: ", first.read_text(), re.MULTILINE), first.read_text()[-3000:]
    assert re.search(r"^\[transfer-\S+\] import: waiting for image \S+ in region RegionTwo to become active: "
                     r"\w+.*, \d+ s elapsed, polling every (0\.\d|1) s", out, re.MULTILINE), out[-3000:]
    [target] = target_images(producer, source["id"])
    assert target["checksum"] == md5(data) and target["size"] == len(data)
    rc, again = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0 and changed_count(again) == 0, again[-3000:]


def kill_async_copies() -> None:
    """Ansible's async wrapper detaches the copy from the playbook: find it by its command line."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"swift_dlo_copy" in cmdline or b"async_wrapper" in cmdline:
                kill_tree(int(entry.name))


def test_three_images_at_once(collections_path, cloud, producer, unique, tmp_path):
    payloads = [os.urandom(200000 + n) for n in range(3)]
    with producer.session() as s:
        sources = [create_image(s, producer.url("image", "RegionOne"), p, name=f"{unique}-{n}")
                   for n, p in enumerate(payloads)]
    # the upload method here (the first test covers the default, web-download)
    rc, out = play(collections_path, cloud, tmp_path, {"transfer_images": [i["id"] for i in sources],
                                                       "transfer_image_parallel": 3,
                                                       "region_transfer_import_method": "upload",
                                                       "region_transfer_wait_timeout": 300})
    assert rc == 0, failures(out)
    for source, payload in zip(sources, payloads):
        [target] = target_images(producer, source["id"])
        assert target["status"] == "active" and target["checksum"] == md5(payload)


def test_a_failing_image_does_not_stop_the_others_and_the_report_says_which(collections_path, cloud, producer,
                                                                            unique, tmp_path):
    payloads = [os.urandom(300000 + n) for n in range(2)]
    with producer.session() as s:
        sources = [create_image(s, producer.url("image", "RegionOne"), p, name=f"{unique}-{n}")
                   for n, p in enumerate(payloads)]
    missing = f"{unique}-no-such-image"
    wanted = [sources[0]["id"], missing, sources[1]["id"]]
    report = tmp_path / "report.json"
    rc, out = play(collections_path, cloud, tmp_path, {"transfer_images": wanted, "transfer_image_parallel": 1,
                                                       "transfer_report": str(report)})
    assert rc != 0  # one image did not arrive
    for source, payload in zip(sources, payloads):  # the ones after the failure were transferred too
        [target] = target_images(producer, source["id"])
        assert target["checksum"] == md5(payload)
    rows = json.loads(report.read_text())["images"]
    assert [(r["image"], r["result"]) for r in rows] == [(sources[0]["id"], "transferred"), (missing, "failed"),
                                                        (sources[1]["id"], "transferred")]
    assert "0 images in RegionOne match" in rows[1]["error"]
    assert set(rows[0]["phases"]) == {"preflight", "export", "copy", "import", "verify", "finish"}
    assert rows[0]["target_image_id"] == target_images(producer, sources[0]["id"])[0]["id"]
    assert rows[0]["verification"]["active"] is True and rows[0]["bytes"] == len(payloads[0])
    # the table in the output: a header and one line per image, the failure with its reason
    assert re.search(r"^\s*\"source image\s+name\s+target image\s+MiB\s+preflight\s+export\s+copy", out, re.MULTILINE)
    assert re.search(rf"\"{missing}\s.*failed: .*0 images in RegionOne match", out), out[-3000:]

    # transfer_image_keep_going: false starts no image after a failure; the report names them
    rc, out = play(collections_path, cloud, tmp_path, {"transfer_images": [missing, sources[0]["id"]],
                                                       "transfer_image_parallel": 1, "transfer_image_keep_going": False,
                                                       "transfer_report": str(report)})
    assert rc != 0
    assert [r["result"] for r in json.loads(report.read_text())["images"]] == \
        ["failed", "not started: an earlier image failed"]


def test_an_export_another_run_still_reads_is_left_for_it_then_deleted_by_the_last(collections_path, cloud, producer,
                                                                                  unique, tmp_path):
    """Two runs of one image to two targets share its export: the first to finish must not delete
    what the other still copies. The other run is stood for by its lease (the container metadata
    a run of the role holds, named for its target, while it reads the export); a rerun to the
    same target takes over its own target's lease (test_crash_rerun.py)."""
    data = os.urandom(2 * 1024 * 1024 + 3)
    container = f"exp-{unique}"
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique)
        swift = f"{producer.url('object-store', 'RegionOne')}/{container}"
        s.put(swift).raise_for_status()
        digest = hashlib.sha256(f"{source['id']}.vhd".encode()).hexdigest()[:12]
        s.post(swift, headers={f"X-Container-Meta-Cloudimages-Lease-{digest}-otherrun": str(int(time.time()) + 600)}
               ).raise_for_status()
    extra = {"region_transfer_image": source["id"], "region_transfer_export_container": container, **STAGED}
    rc, out = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, failures(out)
    assert objects(producer, "RegionOne", container)[0] == f"{source['id']}.vhd"  # left for the other run
    [target] = target_images(producer, source["id"])
    assert target["checksum"] == md5(data) and target["cloudimages_transfer_cleaned_up"] == "target"
    with producer.session() as s:
        held = {k.lower(): v for k, v in s.head(swift).headers.items()}
    assert [k for k in held if "lease" in k] == [f"x-container-meta-cloudimages-lease-{digest}-otherrun"]  # ours let go
    # the other run finishes (lets go); the next run of this image deletes the export
    with producer.session() as s:
        s.post(swift, headers={f"X-Remove-Container-Meta-Cloudimages-Lease-{digest}-otherrun": "x"}).raise_for_status()
    rc, again = play(collections_path, cloud, tmp_path, extra)
    assert rc == 0, failures(again)
    assert objects(producer, "RegionOne", container) == []
    [target] = target_images(producer, source["id"])
    assert target["cloudimages_transfer_cleaned_up"] == "source,target"
