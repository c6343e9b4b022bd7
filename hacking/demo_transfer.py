"""The README demo: an image moved from RegionOne to RegionTwo twice, then moved again (nothing changes).

1. the vendor path: API-key identity, export task, segments copied between regions, import task
   (the vendor stores imports in another format: the target's checksum differs, its virtual
   size does not);
2. the upstream path: Keystone v3 password, stream export, segments copied, web-download import
   (nothing converted: the checksums match too);
3. with ``converting`` as second argument, on a cloud whose RegionTwo Glance runs the
   image_conversion import plugin: the vendor's export task, the VHD staged on disk and
   converted to qcow2 (that Glance cannot read VHD), web-download, stored as raw by the plugin.
Each runs `ansible-playbook cloudimages.transfer.transfer_image`, then runs it again and shows that
the second run changed nothing. Usage: python demo_transfer.py VHD_FILE  (LOCALCLOUD_DIR and
OS_CLIENT_CONFIG_FILE set, ANSIBLE_COLLECTIONS_PATH pointing at this checkout)
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import requests

KEY = "com.cloudimages.image-of"


def login(cloud: dict) -> tuple[requests.Session, dict]:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "producer", "domain": {"id": "default"}, "password": cloud["passwords"]["producer"]}}},
        "scope": {"project": {"name": "producer", "domain": {"id": "default"}}}}}
    resp = requests.post(f"{cloud['keystone']}/v3/auth/tokens", json=body, timeout=30)
    resp.raise_for_status()
    session = requests.Session()
    session.headers["X-Auth-Token"] = resp.headers["X-Subject-Token"]
    return session, cloud["regions"]


def upload(session, glance: str, name: str, data: bytes) -> dict:
    image = session.post(f"{glance}/v2/images", json={"name": name, "disk_format": "vhd", "container_format": "bare",
                                                      "os_distro": "debian"}, timeout=30).json()
    session.put(f"{glance}/v2/images/{image['id']}/file", data=data, timeout=120,
                headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    return session.get(f"{glance}/v2/images/{image['id']}", timeout=30).json()


def playbook(extra: dict, workdir: Path) -> tuple[float, int, str]:
    (workdir / "vars.json").write_text(json.dumps(extra))
    started = time.monotonic()
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "cloudimages.transfer.transfer_image",
                           "-e", f"@{workdir / 'vars.json'}"], capture_output=True, text=True, cwd=workdir)
    elapsed = time.monotonic() - started
    if done.returncode:
        print(done.stdout[-4000:], done.stderr[-2000:])
        raise SystemExit(f"the transfer failed (exit {done.returncode})")
    changed = sum(int(n) for n in re.findall(r"^transfer-\S+\s*: ok=\d+\s+changed=(\d+)", done.stdout, re.M))
    return elapsed, changed, done.stdout


def main() -> int:
    data = Path(sys.argv[1]).read_bytes()
    workdir = Path(sys.argv[1]).parent
    cloud = json.loads((Path(os.environ["LOCALCLOUD_DIR"]) / "cloud.json").read_text())
    session, regions = login(cloud)
    base = {"region_transfer_source_region": "RegionOne", "region_transfer_target_region": "RegionTwo",
            "region_transfer_poll_interval": 1, "region_transfer_progress_interval": 2,
            "region_transfer_segment_size": "4MiB", "region_transfer_staging_dir": str(workdir)}
    converting = [
        ("vendor -> a converting Glance: export task, staged on disk, vhd converted to qcow2, web-download "
         "(Glance's image_conversion stores raw)",
         {"region_transfer_source_cloud": "localcloud-producer-apikey", "region_transfer_target_cloud": "localcloud-producer",
          "region_transfer_export_method": "task", "region_transfer_import_method": "web-download",
          "region_transfer_staging": "disk", "region_transfer_target_converts": True}),
    ]
    paths = converting if sys.argv[2:] == ["converting"] else [
        ("vendor: API key, export task, copy, import task",
         {"region_transfer_source_cloud": "localcloud-producer-apikey", "region_transfer_export_method": "task",
          "region_transfer_import_method": "task"}),
        ("upstream: Keystone v3, stream export, copy, web-download import",
         {"region_transfer_source_cloud": "localcloud-producer", "region_transfer_export_method": "stream",
          "region_transfer_import_method": "web-download"}),
    ]
    rows = []
    for label, extra in paths:
        source = upload(session, regions["RegionOne"]["glance"], f"demo-{int(time.time())}", data)
        variables = {**base, **extra, "region_transfer_image": source["id"]}
        first, changed_first, _ = playbook(variables, workdir)
        again, changed_again, _ = playbook(variables, workdir)
        found = session.get(f"{regions['RegionTwo']['glance']}/v2/images", params={KEY: source["id"]},
                            timeout=30).json()["images"]
        target = found[0] if len(found) == 1 else {}
        checks = verification(source, target, data)
        ok = target.get("status") == "active" and all(v is True or v.startswith("skipped") for v in checks.values())
        rows.append((label, source, target, first, changed_first, again, changed_again, checks, ok))

    print("\nRegionOne -> RegionTwo on " + ("a local cloud whose RegionTwo converts\n" if paths is converting
                                           else "the local cloud\n"))
    for label, source, target, first, changed_first, again, changed_again, checks, ok in rows:
        print(f"{label}\n  source image {source['id']}: {source['disk_format']}, {source['size']} bytes, "
              f"virtual size {source.get('virtual_size')}, checksum {source['checksum']}\n"
              f"  target image {target.get('id', '(none)')}: {target.get('disk_format')}, {target.get('size')} bytes, "
              f"virtual size {target.get('virtual_size')}, checksum {target.get('checksum')}\n"
              f"  first run {first:.1f} s ({changed_first} changes); second run {again:.1f} s ({changed_again} changes)\n"
              f"  verified: {', '.join(f'{k} {v}' for k, v in checks.items())}\n")
    return 0 if all(r[-1] and r[-3] == 0 for r in rows) else 1


def verification(source: dict, target: dict, data: bytes) -> dict:
    """What the demo shows was checked: what survives conversion, and the bytes where nothing converted."""
    converted = target.get("disk_format") != source["disk_format"]
    return {
        "completion stamp": target.get("cloudimages_transfer_verified") == source["os_hash_value"],
        "virtual size": target.get("virtual_size") == source.get("virtual_size"),
        "checksum": f"skipped: converted {source['disk_format']} -> {target.get('disk_format')}" if converted
        else target.get("checksum") == source["checksum"] == hashlib.md5(data).hexdigest(),
    }


if __name__ == "__main__":
    sys.exit(main())
