"""Local files in shared directories: private staging, no planted link written through.

Disk staging holds a whole VM disk in /var/tmp (here: a test folder in its place); every
assertion is on the file system and the cloud.
"""
from __future__ import annotations

import os
import stat
import time

from cloudtest import create_image, md5
from systemtest import MiB, random_file
from test_region_transfer import KEY, failures, play


def stages(folder, source_id: str) -> list:
    return sorted(p for p in folder.iterdir() if p.name.startswith(f".cloudimages-{source_id}-"))


def test_disk_staging_is_private_and_removed_after_a_failure(collections_path, cloud, producer, unique, tmp_path):
    data = os.urandom(2 * MiB + 5)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=unique)
    staging = tmp_path / "staging"
    staging.mkdir(mode=0o1777)
    staging.chmod(0o1777)  # like /var/tmp
    # a run killed an hour ago (its heartbeat stale), and a run of the same image still going
    # (another AWX job, or the same image to another region): only the first is gone's
    leftover = staging / f".cloudimages-{source['id']}-killedrun"
    leftover.mkdir(mode=0o700)
    (leftover / "disk.vhd").write_bytes(b"a killed run's staged disk")
    (leftover / "heartbeat").touch()
    os.utime(leftover / "heartbeat", (time.time() - 3600, time.time() - 3600))
    alive = staging / f".cloudimages-{source['id']}-liverun"
    alive.mkdir(mode=0o700)
    (alive / "disk.vhd").write_bytes(b"a running transfer's staged disk")
    (alive / "heartbeat").touch()
    base = {"region_transfer_image": source["id"], "region_transfer_staging": "disk",
            "region_transfer_staging_dir": str(staging)}
    rc, out = play(collections_path, cloud, tmp_path, base, check=True)
    assert rc == 0, failures(out)
    assert sorted(p.name for p in staging.iterdir() if not p.name.endswith(".progress.json")) == \
        sorted([leftover.name, alive.name])  # check mode removes nothing
    # the upload fails (a container name Swift refuses): the staged disk must not stay behind
    (alive / "heartbeat").touch()
    rc, out = play(collections_path, cloud, tmp_path, {**base, "region_transfer_import_container": "x" * 300})
    assert rc != 0 and "Upload it to the target region" in out, out[-2000:]
    assert not leftover.exists() and (alive / "disk.vhd").read_bytes() == b"a running transfer's staged disk"
    [failed_run] = [p for p in stages(staging, source["id"]) if p != alive]
    assert sorted(p.name for p in failed_run.iterdir() if not p.name.endswith(".progress.json")) == ["heartbeat"]
    # kept on request: a 0700 folder of its own, the disk 0600
    rc, out = play(collections_path, cloud, tmp_path, {**base, "region_transfer_keep_staged": True})
    assert rc == 0, failures(out)
    [folder] = [p for p in stages(staging, source["id"]) if (p / "staged").exists()]
    [disk] = list((folder / "staged").iterdir())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(disk.stat().st_mode) == 0o600
    assert (alive / "disk.vhd").exists()  # never another run's
    assert md5(disk.read_bytes()) == md5(data) and not folder.is_symlink()
    with producer.session() as s:
        [target] = s.get(f"{producer.url('image', 'RegionTwo')}/v2/images", params={KEY: source["id"]}).json()["images"]
    assert target["checksum"] == md5(data)


def test_a_planted_link_is_never_written_through(run, producer, unique, tmp_path):
    random_file(tmp_path / "disk.img", MiB + 1)
    up = run("swift_dlo_upload", {"cloud": "localcloud-producer", "container": unique, "object": "disk.img",
                                  "src": str(tmp_path / "disk.img")})
    assert not up.get("failed"), up["msg"]
    shared = tmp_path / "shared"
    shared.mkdir()
    victim = tmp_path / "victim.conf"
    victim.write_text("precious\n")
    for planted in (".out.img.part.json", ".out.img.part"):
        link = shared / planted
        link.symlink_to(victim)
        down = run("swift_dlo_download", {"cloud": "localcloud-producer", "container": unique, "object": "disk.img",
                                          "dest": str(shared / "out.img")})
        assert down.get("failed") and "is a symbolic link; refusing to write through it" in down["msg"], down
        assert "Traceback" not in down["_output"] and "attempt 2" not in down["msg"]  # not retried
        assert victim.read_text() == "precious\n" and not (shared / "out.img").exists()
        link.unlink()
