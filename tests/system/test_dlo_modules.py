"""The DLO modules end to end: interoperability, kill and resume, server-side corruption.

Every assertion is on the object store (raw HTTP) or the local disk, not on what a module said.
"""
from __future__ import annotations

import hashlib
import os
import stat

from systemtest import MiB, file_md5, listing, random_file, swift_cli, swift_object_file

def test_upload_reads_back_identically_through_the_swift_cli(run, producer, unique, tmp_path):
    src = tmp_path / "disk.img"
    digest = random_file(src, 3 * MiB + 123)
    result = run("swift_dlo_upload", {"cloud": "localcloud-producer", "container": unique, "object": "disk.img",
                                      "src": str(src), "segment_size": "1MiB"})
    assert result["changed"], result["msg"]
    done = swift_cli(producer, "RegionOne", "download", unique, "disk.img", "-o", "cli.img", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert file_md5(tmp_path / "cli.img") == digest


def test_a_swift_cli_dlo_is_verified_and_downloaded(run, producer, unique, tmp_path):
    src = tmp_path / "cli-made.img"
    digest = random_file(src, 2 * MiB + 77)
    done = swift_cli(producer, "RegionTwo", "upload", "--use-dlo", "--segment-size", str(MiB), unique,
                     "cli-made.img", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    dest = tmp_path / "out.img"
    for mode in ("segments", "whole"):
        result = run("swift_dlo_download", {"cloud": "localcloud-producer", "region_name": "RegionTwo",
                                            "container": unique, "object": "cli-made.img", "dest": str(dest),
                                            "mode": mode, "force": True})
        assert not result.get("failed"), result["msg"]
        assert file_md5(dest) == digest
        # Ansible adds the file's permission bits as "mode" to a result with a dest
        assert result["download_mode"] == mode
        assert result["mode"] == f"0{stat.S_IMODE(dest.stat().st_mode):03o}"
        dest.unlink()


def test_a_killed_upload_resumes_and_sends_only_what_is_missing(run, producer, unique, tmp_path):
    src, progress = tmp_path / "big.img", tmp_path / "progress.json"
    # 48 segments: the upload lasts a few seconds, so the kill at 40 % lands well before the manifest
    digest = random_file(src, 48 * 8 * MiB)
    args = {"cloud": "localcloud-producer", "container": unique, "object": "big.img", "src": str(src),
            "segment_size": "8MiB", "concurrency": 2, "progress_file": str(progress)}
    run.killed_part_way("swift_dlo_upload", args, progress, 0.4)
    names = [o["name"] for o in listing(producer, "RegionOne", unique)]
    assert "big.img" not in names  # the manifest comes last, so a killed upload has none
    kept = len([n for n in names if n.startswith("big.img-")])
    assert 0 < kept < 48
    result = run("swift_dlo_upload", args)
    assert result["changed"] and not result.get("failed"), result["msg"]
    # at most what was in flight when killed is sent again, on top of what was missing
    assert result["bytes_sent"] <= (48 - kept + 2) * 8 * MiB
    assert result["plan"]["to_keep"] >= kept - 2
    with producer.session() as s:
        body = s.get(f"{producer.url('object-store', 'RegionOne')}/{unique}/big.img").content
    assert hashlib.md5(body).hexdigest() == digest


def test_a_killed_copy_resumes_and_ends_identical(run, producer, unique, tmp_path):
    src, progress = tmp_path / "big.img", tmp_path / "progress.json"
    digest = random_file(src, 48 * 8 * MiB)
    up = run("swift_dlo_upload", {"cloud": "localcloud-producer", "container": unique, "object": "big.img",
                                  "src": str(src), "segment_size": "8MiB", "concurrency": 2})
    assert up["changed"], up["msg"]
    args = {"cloud": "localcloud-producer", "container": unique, "object": "big.img", "concurrency": 2,
            "target": {"region_name": "RegionTwo"}, "progress_file": str(progress)}
    run.killed_part_way("swift_dlo_copy", args, progress, 0.4)
    names = [o["name"] for o in listing(producer, "RegionTwo", unique)]
    assert "big.img" not in names
    result = run("swift_dlo_copy", args)
    assert result["changed"] and not result.get("failed"), result["msg"]
    assert result["bytes_copied"] < 48 * 8 * MiB
    with producer.session() as s:
        body = s.get(f"{producer.url('object-store', 'RegionTwo')}/{unique}/big.img").content
    assert hashlib.md5(body).hexdigest() == digest
    again = run("swift_dlo_copy", args)
    assert not again["changed"] and again["bytes_copied"] == 0


def test_a_segment_corrupted_on_the_server_is_detected(run, cloud, producer, unique, tmp_path):
    src = tmp_path / "disk.img"
    random_file(src, 3 * MiB)
    run("swift_dlo_upload", {"cloud": "localcloud-producer", "container": unique, "object": "disk.img",
                             "src": str(src), "segment_size": "1MiB"})
    data_file = swift_object_file(cloud, "RegionOne", f"AUTH_{producer.project_id}", unique, "disk.img-00002")
    with open(data_file, "r+b") as f:  # bit rot: one byte flipped on the object server's disk
        f.seek(4096)
        byte = f.read(1)
        f.seek(4096)
        f.write(bytes([byte[0] ^ 0xFF]))
    dest = tmp_path / "out.img"
    down = run("swift_dlo_download", {"cloud": "localcloud-producer", "container": unique, "object": "disk.img",
                                      "dest": str(dest), "retries": 1})
    assert down.get("failed") and "disk.img-00002" in down["msg"], down["msg"]
    assert not dest.exists()  # never a partial or wrong file under the destination name
    copy = run("swift_dlo_copy", {"cloud": "localcloud-producer", "container": unique, "object": "disk.img",
                                  "retries": 1, "target": {"region_name": "RegionTwo"}})
    assert copy.get("failed") and "disk.img-00002" in copy["msg"], copy["msg"]
    assert "disk.img" not in [o["name"] for o in listing(producer, "RegionTwo", unique)]


def test_an_upload_trusts_a_downloads_md5s_only_as_far_as_swift_confirms_them(run, producer, unique, tmp_path):
    src, dest = tmp_path / "disk.img", tmp_path / "down.img"
    random_file(src, 4 * MiB + 5)
    run("swift_dlo_upload", {"cloud": "localcloud-producer", "container": unique, "object": "disk.img",
                             "src": str(src), "segment_size": "1MiB"})
    down = run("swift_dlo_download", {"cloud": "localcloud-producer", "container": unique, "object": "disk.img",
                                      "dest": str(dest)})
    assert not down.get("failed"), down["msg"]
    assert len(os.getxattr(dest, "user.cloudimages.transfer.segment_md5s")) > 5 * 16
    # the file changes under a preserved mtime, so the record still looks valid: segment 2's
    # recorded MD5 is now wrong, and Swift must refuse it rather than store other bytes
    before = dest.stat()
    with open(dest, "r+b") as f:
        f.seek(MiB + 4096)
        byte = f.read(1)
        f.seek(MiB + 4096)
        f.write(bytes([byte[0] ^ 0xFF]))
    os.utime(dest, ns=(before.st_atime_ns, before.st_mtime_ns))
    up = run("swift_dlo_upload", {"cloud": "localcloud-producer", "region_name": "RegionTwo", "container": unique,
                                  "object": "again.img", "src": str(dest), "segment_size": "1MiB"})
    assert up["changed"] and not up.get("failed"), up["msg"]
    assert up["md5s_from_record"] == 5  # the record was used, so the refusal is what kept the bytes right
    with producer.session() as s:
        body = s.get(f"{producer.url('object-store', 'RegionTwo')}/{unique}/again.img").content
    assert hashlib.md5(body).hexdigest() == file_md5(dest) != file_md5(src)
    stored = {o["name"]: o["hash"] for o in listing(producer, "RegionTwo", unique, "again.img-")}
    with open(dest, "rb") as f:
        assert [hashlib.md5(f.read(MiB)).hexdigest() for n in range(5)] == [stored[f"again.img-{n:05d}"]
                                                                            for n in range(1, 6)]


def test_secrets_stay_out_of_verbose_output(run, cloud, unique, tmp_path):
    src = tmp_path / "f.img"
    random_file(src, 1000)
    password = cloud["passwords"]["producer"]
    auth = {"auth_url": f"{cloud['keystone']}/v3", "username": "producer", "password": password,
            "project_name": "producer", "user_domain_name": "Default", "project_domain_name": "Default"}
    ok = run("swift_dlo_upload", {"auth": auth, "container": unique, "object": "f.img", "src": str(src),
                                  "segment_size": "1MiB"},
             verbosity="-vvvv")
    bad = run("swift_dlo_upload", {"auth": {**auth, "password": password + "-wrong"}, "container": unique,
                                   "object": "g.img", "src": str(src)}, verbosity="-vvvv")
    assert ok["changed"], ok["msg"]
    assert bad.get("failed"), bad["msg"]
    for result in (ok, bad):
        assert password not in result["_output"] and password not in str(result)
    assert "Traceback" not in bad["msg"]

