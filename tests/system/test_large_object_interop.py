"""Large objects as Swift defines them, made and read by other tools, with names people use.

Producers: the swift CLI (DLO and SLO), rclone (Debian's package, swift backend),
openstacksdk (SLO), raw requests (for layouts no tool makes on purpose: unequal segments, a
stored dot-segment name, nested SLOs with byte ranges and inline data), and our own
modules; each is read back by the others. Limits: the local cloud's listing limit is
100, so 120 segments are past one listing page, where Swift's HEAD no longer sums a DLO.
Every assertion is on what Swift serves or holds, or on the local file.
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

from systemtest import MiB, file_md5, listing, random_file, swift_cli

KiB = 1024
P = {"cloud": "localcloud-producer"}


def url_of(producer, region: str, container: str, name: str | None = None) -> str:
    base = f"{producer.url('object-store', region)}/{quote(container, safe='')}"
    return f"{base}/{quote(name, safe='/')}" if name is not None else base


def served_md5(producer, region: str, container: str, name: str) -> tuple[str, int]:
    """The MD5 and length of what Swift serves for a GET of the object."""
    digest, length = hashlib.md5(), 0
    with producer.session() as s:
        resp = s.get(url_of(producer, region, container, name), stream=True)
        assert resp.status_code == 200, (resp.status_code, container, name)
        for chunk in resp.iter_content(MiB):
            digest.update(chunk)
            length += len(chunk)
    return digest.hexdigest(), length


def head(producer, region: str, container: str, name: str):
    with producer.session() as s:
        return s.head(url_of(producer, region, container, name))


def put(producer, region: str, container: str, name: str, data: bytes = b"", headers: dict | None = None):
    with producer.session() as s:
        s.put(url_of(producer, region, container), headers={"Content-Length": "0"})
        resp = s.put(url_of(producer, region, container, name), data=data, headers=headers or {})
        assert resp.status_code == 201, resp.text
    return hashlib.md5(data).hexdigest()


def rclone(producer, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RCLONE_CONFIG_LC1_TYPE": "swift", "RCLONE_CONFIG_LC1_AUTH_TOKEN": producer.token,
           "RCLONE_CONFIG_LC1_STORAGE_URL": producer.url("object-store", "RegionOne")}
    return subprocess.run(["rclone", *args], env=env, capture_output=True, text=True, cwd=cwd)


def ok(result: dict) -> dict:
    assert not result.get("failed"), result["msg"]
    return result


def test_a_swift_cli_dlo_with_a_spaced_non_ascii_name_round_trips(run, producer, unique, tmp_path):
    name = "mi disco ñ.vhd"
    digest = random_file(tmp_path / name, 2 * MiB + 500 * KiB + 3)
    done = swift_cli(producer, "RegionOne", "upload", "--use-dlo", "--segment-size", "1000000", unique, name,
                     cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # the CLI writes the manifest percent-encoded; Swift decodes it
    assert "%20" in head(producer, "RegionOne", unique, name).headers["X-Object-Manifest"]
    dest = tmp_path / "out ñ.img"
    for mode in ("segments", "whole"):
        down = ok(run("swift_dlo_download", {**P, "container": unique, "object": name, "dest": str(dest),
                                             "mode": mode, "force": True}))
        assert down["size"] == dest.stat().st_size == 2 * MiB + 500 * KiB + 3
        assert file_md5(dest) == digest
    copy = ok(run("swift_dlo_copy", {**P, "container": unique, "object": name,
                                     "target": {"region_name": "RegionTwo"}}))
    assert copy["changed"]
    assert served_md5(producer, "RegionTwo", unique, name)[0] == digest
    got = swift_cli(producer, "RegionTwo", "download", unique, name, "-o", "cli.img", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert file_md5(tmp_path / "cli.img") == digest
    # state=absent finds the CLI's segments through the decoded manifest and deletes them all
    gone = ok(run("swift_dlo_upload", {**P, "container": unique, "object": name, "state": "absent"}))
    assert len(gone["deleted"]) == 1 + 3 and gone["left"] == []
    assert head(producer, "RegionOne", unique, name).status_code == 404
    assert listing(producer, "RegionOne", f"{unique}_segments") == []


def test_more_segments_than_one_listing_page_both_ways(run, producer, unique, tmp_path):
    size = 120 * 64 * KiB - 1000
    digest = random_file(tmp_path / "many.img", size)
    # the swift CLI's DLO of 120 segments: Swift no longer sums it on HEAD
    done = swift_cli(producer, "RegionOne", "upload", "--use-dlo", "--segment-size", str(64 * KiB), unique,
                     "many.img", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert head(producer, "RegionOne", unique, "many.img").headers["Content-Length"] == "0"
    dest = tmp_path / "down.img"
    for mode in ("whole", "segments"):
        down = ok(run("swift_dlo_download", {**P, "container": unique, "object": "many.img", "dest": str(dest),
                                             "mode": mode, "force": True}))
        assert down["size"] == size and file_md5(dest) == digest
    copy = ok(run("swift_dlo_copy", {**P, "container": unique, "object": "many.img",
                                     "target": {"region_name": "RegionTwo"}}))
    assert copy["changed"] and copy["size"] == size
    assert served_md5(producer, "RegionTwo", unique, "many.img") == (digest, size)
    assert len(listing(producer, "RegionTwo", unique, "many.img-")) == 120
    assert not ok(run("swift_dlo_copy", {**P, "container": unique, "object": "many.img",
                                         "target": {"region_name": "RegionTwo"}}))["changed"]
    # our upload of 120 segments, read back by the swift CLI; a rerun changes nothing
    args = {**P, "container": unique, "object": "ours.img", "src": str(tmp_path / "many.img"),
            "segment_size": "64KiB"}
    up = ok(run("swift_dlo_upload", args))
    assert up["changed"] and len(up["segments"]) == 120
    assert not ok(run("swift_dlo_upload", args))["changed"]
    got = swift_cli(producer, "RegionOne", "download", unique, "ours.img", "-o", "cli.img", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert file_md5(tmp_path / "cli.img") == digest


def test_unequal_segments_are_copied_as_swift_serves_them(run, producer, unique, tmp_path):
    parts = [os.urandom(n) for n in (3000, 1000, 5000)]
    for number, part in enumerate(parts, 1):
        put(producer, "RegionOne", unique, f"odd.img-{number:05d}", part)
    put(producer, "RegionOne", unique, "odd.img", headers={"X-Object-Manifest": f"{unique}/odd.img-"})
    digest = hashlib.md5(b"".join(parts)).hexdigest()
    assert served_md5(producer, "RegionOne", unique, "odd.img") == (digest, 9000)
    dest = tmp_path / "odd.img"
    down = ok(run("swift_dlo_download", {**P, "container": unique, "object": "odd.img", "dest": str(dest)}))
    assert file_md5(dest) == digest
    assert "segment odd.img-00002 is 1000 bytes where the first is 3000" in down["_output"]
    copy = ok(run("swift_dlo_copy", {**P, "container": unique, "object": "odd.img",
                                     "target": {"region_name": "RegionTwo"}}))
    assert served_md5(producer, "RegionTwo", unique, "odd.img") == (digest, 9000)
    assert [s["size"] for s in copy["segments"]] == [3000, 1000, 5000]
    strict = run("swift_dlo_download", {**P, "container": unique, "object": "odd.img", "dest": str(tmp_path / "x"),
                                        "layout": "strict"})
    assert strict.get("failed") and "is 1000 bytes where the first is 3000" in strict["msg"], strict["msg"]
    assert not (tmp_path / "x").exists()


def test_a_prefix_neighbour_is_never_touched(run, producer, unique, tmp_path):
    random_file(tmp_path / "a.img", 3 * MiB)
    random_file(tmp_path / "b.img", 2 * MiB)

    def upload(container, name, src, **extra):
        return run("swift_dlo_upload", {**P, "container": container, "object": name, "src": str(tmp_path / src),
                                        "segment_size": "1MiB", **extra})

    # the case: ubuntu first, then ubuntu-22.04 beside it, then ubuntu removed
    ok(upload(unique, "ubuntu", "a.img"))
    ok(upload(unique, "ubuntu-22.04", "b.img"))
    neighbour = served_md5(producer, "RegionOne", unique, "ubuntu-22.04")
    gone = ok(run("swift_dlo_upload", {**P, "container": unique, "object": "ubuntu", "state": "absent"}))
    assert gone["deleted"] == [f"{unique}/ubuntu"] + [f"{unique}/ubuntu-{n:05d}" for n in (1, 2, 3)]
    assert sorted(gone["left"]) == [f"{unique}/ubuntu-22.04"] + [f"{unique}/ubuntu-22.04-{n:05d}" for n in (1, 2)]
    assert served_md5(producer, "RegionOne", unique, "ubuntu-22.04") == neighbour
    # the other order: the upload refuses a prefix that would serve (and could delete) the neighbour
    refused = upload(unique, "ubuntu", "a.img")
    assert refused.get("failed") and "ubuntu-22.04" in refused["msg"], refused["msg"]
    assert served_md5(producer, "RegionOne", unique, "ubuntu-22.04") == neighbour
    assert head(producer, "RegionOne", unique, "ubuntu").status_code == 404
    # a prefix of its own works beside it
    ok(upload(unique, "ubuntu", "a.img", segment_prefix="ubuntu/"))
    assert served_md5(producer, "RegionOne", unique, "ubuntu")[0] == file_md5(tmp_path / "a.img")
    assert served_md5(producer, "RegionOne", unique, "ubuntu-22.04") == neighbour


def test_a_stored_dot_segment_name_never_reaches_another_container(run, producer, unique, tmp_path):
    victim = put(producer, "RegionOne", f"{unique}-prod", "victim.vhd", b"production data")
    put(producer, "RegionOne", unique, "img.vhd-00001", b"first segment")
    # sent as %2E%2E, Swift stores the name literally; http.client sends the path as it is given
    url = urlsplit(url_of(producer, "RegionOne", unique))
    conn = http.client.HTTPConnection(url.hostname, url.port)
    conn.request("PUT", f"{url.path}/img.vhd-00002/%2E%2E/%2E%2E/{unique}-prod/victim.vhd", body=b"evil",
                 headers={"X-Auth-Token": producer.token})
    assert conn.getresponse().status == 201
    conn.close()
    stored = [o["name"] for o in listing(producer, "RegionOne", unique)]
    assert f"img.vhd-00002/../../{unique}-prod/victim.vhd" in stored
    put(producer, "RegionOne", unique, "img.vhd", headers={"X-Object-Manifest": f"{unique}/img.vhd-"})
    down = run("swift_dlo_download", {**P, "container": unique, "object": "img.vhd", "dest": str(tmp_path / "d")})
    assert down.get("failed") and "'..' path segment" in down["msg"], down["msg"]
    gone = ok(run("swift_dlo_upload", {**P, "container": unique, "object": "img.vhd", "state": "absent"}))
    assert gone["left"] == [f"{unique}/img.vhd-00002/../../{unique}-prod/victim.vhd"]
    with producer.session() as s:
        assert s.get(url_of(producer, "RegionOne", f"{unique}-prod", "victim.vhd")).content == b"production data"
    assert hashlib.md5(b"production data").hexdigest() == victim


def test_underscored_metadata_is_kept_and_a_rerun_changes_nothing(run, producer, unique, tmp_path):
    random_file(tmp_path / "m.img", 1000)
    args = {**P, "container": unique, "object": "m.img", "src": str(tmp_path / "m.img"),
            "metadata": {"build_id": 7, "os_distro": "debian"}}
    first = ok(run("swift_dlo_upload", args))
    assert first["changed"] and "'build_id' is stored as 'build-id'" in first["_output"]
    headers = head(producer, "RegionOne", unique, "m.img").headers
    assert (headers["X-Object-Meta-Build-Id"], headers["X-Object-Meta-Os-Distro"]) == ("7", "debian")
    assert not ok(run("swift_dlo_upload", args))["changed"]


def test_rclone_large_objects_both_ways(run, producer, unique, tmp_path):
    name = "rclone ñ disk.img"
    digest = random_file(tmp_path / name, 3 * MiB + 17)
    done = rclone(producer, "copyto", "--swift-chunk-size", "1M", name, f"LC1:{unique}/{name}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "X-Object-Manifest" in head(producer, "RegionOne", unique, name).headers  # rclone wrote a DLO
    dest = tmp_path / "down.img"
    ok(run("swift_dlo_download", {**P, "container": unique, "object": name, "dest": str(dest)}))
    assert file_md5(dest) == digest
    ok(run("swift_dlo_copy", {**P, "container": unique, "object": name, "target": {"region_name": "RegionTwo"}}))
    assert served_md5(producer, "RegionTwo", unique, name)[0] == digest
    # ours, read by rclone
    ok(run("swift_dlo_upload", {**P, "container": unique, "object": "ours ñ.img", "src": str(dest),
                                "segment_size": "1MiB"}))
    back = rclone(producer, "copyto", f"LC1:{unique}/ours ñ.img", "back.img", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert file_md5(tmp_path / "back.img") == digest
    gone = ok(run("swift_dlo_upload", {**P, "container": unique, "object": name, "state": "absent"}))
    assert gone["left"] == [] and len(gone["deleted"]) == 1 + 4


def test_absent_finishes_a_delete_interrupted_after_the_manifest(run, producer, unique, tmp_path):
    random_file(tmp_path / "i.img", 3 * MiB)
    ok(run("swift_dlo_upload", {**P, "container": unique, "object": "i.img", "src": str(tmp_path / "i.img"),
                                "segment_size": "1MiB"}))
    put(producer, "RegionOne", unique, "i.img-notes", b"someone else's")
    with producer.session() as s:  # what a delete killed between the manifest and its segments leaves
        assert s.delete(url_of(producer, "RegionOne", unique, "i.img")).status_code == 204
    check = ok(run("swift_dlo_upload", {**P, "container": unique, "object": "i.img", "state": "absent"}, check=True))
    assert check["changed"] and len(listing(producer, "RegionOne", unique, "i.img-")) == 4
    gone = ok(run("swift_dlo_upload", {**P, "container": unique, "object": "i.img", "state": "absent"}))
    assert gone["deleted"] == [f"{unique}/i.img-{n:05d}" for n in (1, 2, 3)]
    assert [o["name"] for o in listing(producer, "RegionOne", unique)] == ["i.img-notes"]
    assert not ok(run("swift_dlo_upload", {**P, "container": unique, "object": "i.img", "state": "absent"}))["changed"]


# ---------------------------------------------------------------- Static Large Objects

def is_slo(producer, region: str, container: str, name: str) -> bool:
    return head(producer, region, container, name).headers.get("X-Static-Large-Object") == "True"


def put_slo(producer, region: str, container: str, name: str, entries: list) -> None:
    with producer.session() as s:
        resp = s.put(url_of(producer, region, container, name), params={"multipart-manifest": "put"},
                     data=json.dumps(entries).encode())
        assert resp.status_code == 201, resp.text


def test_a_swift_cli_slo_downloads_copies_converts_and_deletes(run, producer, unique, tmp_path):
    name = "mi imagen ñ.img"
    digest = random_file(tmp_path / name, 2 * MiB + 300 * KiB + 1)
    done = swift_cli(producer, "RegionOne", "upload", "--segment-size", "1000000", unique, name, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert is_slo(producer, "RegionOne", unique, name)  # the CLI's default kind
    dest = tmp_path / "out.img"
    for mode in ("segments", "whole"):
        down = ok(run("swift_dlo_download", {**P, "container": unique, "object": name, "dest": str(dest),
                                             "mode": mode, "force": True}))
        assert down["kind"] == "slo" and file_md5(dest) == digest
    kept = ok(run("swift_dlo_copy", {**P, "container": unique, "object": name, "target": {"region_name": "RegionTwo"}}))
    assert kept["kind"] == "slo" and is_slo(producer, "RegionTwo", unique, name)
    assert served_md5(producer, "RegionTwo", unique, name)[0] == digest
    assert not ok(run("swift_dlo_copy", {**P, "container": unique, "object": name,
                                         "target": {"region_name": "RegionTwo"}}))["changed"]
    as_dlo = ok(run("swift_dlo_copy", {**P, "container": unique, "object": name, "manifest": "dlo",
                                       "target": {"region_name": "RegionTwo", "object": "as dlo.img"}}))
    assert as_dlo["kind"] == "dlo" and "X-Object-Manifest" in head(producer, "RegionTwo", unique, "as dlo.img").headers
    assert served_md5(producer, "RegionTwo", unique, "as dlo.img")[0] == digest
    gone = ok(run("swift_dlo_upload", {**P, "container": unique, "object": name, "state": "absent"}))
    assert gone["kind"] == "slo" and len(gone["deleted"]) == 1 + 3
    assert head(producer, "RegionOne", unique, name).status_code == 404
    assert listing(producer, "RegionOne", f"{unique}_segments") == []


def test_an_openstacksdk_slo_is_downloaded_and_copied(run, cloud, producer, unique, tmp_path):
    import openstack  # the SDK as users call it, with the local cloud's clouds.yaml

    digest = random_file(tmp_path / "sdk.img", 3 * MiB + 5)
    conn = openstack.connect(cloud="localcloud-producer", region_name="RegionOne")
    conn.create_container(unique)
    conn.create_object(unique, "sdk ñ.img", filename=str(tmp_path / "sdk.img"), segment_size=MiB)
    assert is_slo(producer, "RegionOne", unique, "sdk ñ.img")
    ok(run("swift_dlo_download", {**P, "container": unique, "object": "sdk ñ.img", "dest": str(tmp_path / "d.img")}))
    assert file_md5(tmp_path / "d.img") == digest
    ok(run("swift_dlo_copy", {**P, "container": unique, "object": "sdk ñ.img", "target": {"region_name": "RegionTwo"}}))
    assert served_md5(producer, "RegionTwo", unique, "sdk ñ.img")[0] == digest


def test_nested_ranged_and_inline_slo_pieces_are_reproduced(run, producer, unique, tmp_path):
    a, b, c = os.urandom(3000), os.urandom(2000), os.urandom(1500)
    put(producer, "RegionOne", f"{unique}-segs", "a", a)
    put(producer, "RegionOne", f"{unique}-segs", "b", b)
    put(producer, "RegionOne", unique, "c", c)
    put_slo(producer, "RegionOne", unique, "inner", [{"path": f"/{unique}-segs/a"}, {"path": f"/{unique}-segs/b"}])
    put_slo(producer, "RegionOne", unique, "outer", [
        {"path": f"/{unique}/inner", "range": "1000-3999"}, {"data": base64.b64encode(b"hello").decode()},
        {"path": f"/{unique}/c", "range": "-500"}, {"path": f"/{unique}-segs/a"}])
    expected = (a + b)[1000:4000] + b"hello" + c[-500:] + a
    assert served_md5(producer, "RegionOne", unique, "outer") == (hashlib.md5(expected).hexdigest(), len(expected))
    dest = tmp_path / "outer.img"
    for mode in ("segments", "whole"):
        ok(run("swift_dlo_download", {**P, "container": unique, "object": "outer", "dest": str(dest), "mode": mode,
                                      "force": True}))
        assert dest.read_bytes() == expected
    for kind in ("slo", "dlo"):
        copy = ok(run("swift_dlo_copy", {**P, "container": unique, "object": "outer", "manifest": kind,
                                         "target": {"region_name": "RegionTwo", "object": f"outer-{kind}"}}))
        assert [s["size"] for s in copy["segments"]] == [2000, 1000, 5, 500, 3000]
        assert served_md5(producer, "RegionTwo", unique, f"outer-{kind}")[0] == hashlib.md5(expected).hexdigest()


def test_our_slo_is_read_back_by_the_swift_cli_and_rclone(run, producer, unique, tmp_path):
    digest = random_file(tmp_path / "src.img", 3 * MiB + 99)
    args = {**P, "container": unique, "object": "ours slo ñ.img", "src": str(tmp_path / "src.img"),
            "segment_size": "1MiB", "manifest": "slo"}
    check = ok(run("swift_dlo_upload", args, check=True))
    assert check["changed"] and head(producer, "RegionOne", unique, "ours slo ñ.img").status_code == 404
    up = ok(run("swift_dlo_upload", args))
    assert up["changed"] and is_slo(producer, "RegionOne", unique, "ours slo ñ.img")
    assert not ok(run("swift_dlo_upload", args))["changed"]
    got = swift_cli(producer, "RegionOne", "download", unique, "ours slo ñ.img", "-o", "cli.img", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert file_md5(tmp_path / "cli.img") == digest
    back = rclone(producer, "copyto", f"LC1:{unique}/ours slo ñ.img", "rclone.img", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert file_md5(tmp_path / "rclone.img") == digest
    gone = ok(run("swift_dlo_upload", {**P, "container": unique, "object": "ours slo ñ.img", "state": "absent"}))
    assert gone["kind"] == "slo"
    assert listing(producer, "RegionOne", unique) == []


EXPIRE = 25  # seconds: long enough for three module runs on a loaded machine


def test_expire_after_reaches_every_segment_and_the_manifest(run, producer, unique, tmp_path):
    random_file(tmp_path / "e.img", 3 * MiB)
    for kind in ("dlo", "slo"):
        up = ok(run("swift_dlo_upload", {**P, "container": unique, "object": f"e-{kind}", "manifest": kind,
                                         "src": str(tmp_path / "e.img"), "segment_size": "1MiB",
                                         "expire_after": EXPIRE}))
        assert up["changed"]
    ok(run("swift_dlo_copy", {**P, "container": unique, "object": "e-dlo", "expire_after": EXPIRE,
                              "target": {"region_name": "RegionTwo"}}))
    written = [("RegionOne", name) for name in ("e-dlo", "e-slo")] + [("RegionTwo", "e-dlo")]
    latest = 0
    for region, name in written:
        for obj in [name] + [o["name"] for o in listing(producer, region, unique, f"{name}-")]:
            headers = head(producer, region, unique, obj).headers
            assert "X-Delete-At" in headers, (region, obj)
            latest = max(latest, int(headers["X-Delete-At"]))
    time.sleep(max(latest + 1.5 - time.time(), 0))  # Swift refuses an object past its X-Delete-At
    for region, name in written:
        assert head(producer, region, unique, name).status_code == 404


def test_web_download_imports_an_object_with_a_spaced_non_ascii_name(run, producer, unique, tmp_path):
    """The TempURL Glance fetches is signed over the decoded path, as Swift's tempurl checks it."""
    name = "web dl ñ #1.img"
    digest = random_file(tmp_path / "w.img", 2 * MiB + 11)
    ok(run("swift_dlo_upload", {**P, "region_name": "RegionTwo", "container": unique, "object": name,
                                "src": str(tmp_path / "w.img"), "segment_size": "1MiB"}))
    imported = ok(run("image_import", {**P, "region_name": "RegionTwo", "name": unique, "method": "web-download",
                                       "container": unique, "object": name, "disk_format": "raw",
                                       "properties": {"cloudimages_test_run": unique}, "poll_interval": 1}))
    with producer.session() as s:
        image = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images/{imported['image_id']}").json()
    assert (image["status"], image["checksum"], image["size"]) == ("active", digest, 2 * MiB + 11)


def test_names_with_reserved_characters_round_trip_through_every_operation(run, producer, unique, tmp_path):
    digest = random_file(tmp_path / "src.img", 2 * MiB + 9)
    for name in ("/lead a%b+c?d;e#f.img", "trail/ñ+%20;?#/"):
        args = {**P, "container": unique, "object": name, "src": str(tmp_path / "src.img"), "segment_size": "1MiB"}
        assert ok(run("swift_dlo_upload", args))["changed"]
        assert not ok(run("swift_dlo_upload", args))["changed"]
        assert served_md5(producer, "RegionOne", unique, name)[0] == digest
        for mode in ("segments", "whole"):
            ok(run("swift_dlo_download", {**P, "container": unique, "object": name, "dest": str(tmp_path / "d.img"),
                                          "mode": mode, "force": True}))
            assert file_md5(tmp_path / "d.img") == digest
        ok(run("swift_dlo_copy", {**P, "container": unique, "object": name, "target": {"region_name": "RegionTwo"}}))
        assert served_md5(producer, "RegionTwo", unique, name)[0] == digest
        gone = ok(run("swift_dlo_upload", {**P, "container": unique, "object": name, "state": "absent"}))
        assert len(gone["deleted"]) == 1 + 3 and gone["left"] == []
    assert listing(producer, "RegionOne", unique) == []


def test_a_manifest_re_pointed_elsewhere_is_deleted_alone_when_the_manifest_is_not_trusted(run, producer, unique,
                                                                                           tmp_path):
    """The role's cleanup: anyone who can write the export container could point the manifest at
    another container's objects; before trust_manifest=false the cleanup deleted those."""
    backups = [put(producer, "RegionOne", f"{unique}-backups", f"db/{n:05d}", f"backup {n}".encode()) for n in (1, 2)]
    random_file(tmp_path / "disk.img", 3 * 64 * KiB)
    ok(run("swift_dlo_upload", {**P, "container": unique, "object": "disk.vhd", "src": str(tmp_path / "disk.img"),
                                "segment_size": "64KiB"}))
    put(producer, "RegionOne", unique, "disk.vhd", headers={"X-Object-Manifest": f"{unique}-backups/db/"})
    args = {**P, "container": unique, "object": "disk.vhd", "state": "absent", "trust_manifest": False}
    planned = ok(run("swift_dlo_upload", args, check=True))
    assert planned["changed"] and planned["deleted"] == [f"{unique}/disk.vhd"]
    assert head(producer, "RegionOne", unique, "disk.vhd").status_code == 200
    gone = ok(run("swift_dlo_upload", args))
    assert gone["deleted"] == [f"{unique}/disk.vhd"] and gone["left"] == [f"{unique}-backups/db/"]
    assert "only the manifest is deleted" in gone["msg"]
    assert head(producer, "RegionOne", unique, "disk.vhd").status_code == 404
    assert [o["hash"] for o in listing(producer, "RegionOne", f"{unique}-backups")] == backups
    # the segments the collection wrote are left too (the manifest no longer named them); a
    # later state=absent without a manifest finds them by the collection's own naming
    leftovers = ok(run("swift_dlo_upload", args))
    assert leftovers["deleted"] == [f"{unique}/disk.vhd-{n:05d}" for n in (1, 2, 3)]
    assert listing(producer, "RegionOne", f"{unique}-backups") != []


def test_a_container_anyone_may_read_is_refused_before_a_disk_image_is_written_into_it(run, producer, unique,
                                                                                        tmp_path):
    with producer.session() as s:
        assert s.put(url_of(producer, "RegionOne", unique), headers={"X-Container-Read": ".r:*,.rlistings"}
                     ).status_code in (201, 202)
    random_file(tmp_path / "disk.img", 3 * 64 * KiB)
    args = {**P, "container": unique, "object": "disk.vhd", "src": str(tmp_path / "disk.img"), "segment_size": "64KiB"}
    refused = run("swift_dlo_upload", args)
    assert refused.get("failed") and "is readable by anyone (X-Container-Read: .r:*,.rlistings); refusing to write " \
                                     "a disk image into it" in refused["msg"], refused
    assert listing(producer, "RegionOne", unique) == []
    ok(run("swift_dlo_upload", {**args, "allow_public_container": True}))
    assert len(listing(producer, "RegionOne", unique)) == 4
