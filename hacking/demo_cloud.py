"""Show the local cloud working, the way the seeds' procedure starts: with an API key.

Logs in through the v2.0 API-key identity, uploads a small VHD made with qemu-img to
RegionOne, exports it with the Images tasks API into RegionOne's object store, and prints
what landed there (segments, manifest, verification) and how long each step took.
Usage: python demo_cloud.py VHD_FILE   (OS_CLIENT_CONFIG_FILE and LOCALCLOUD_DIR set)
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import requests


def main() -> int:
    vhd = Path(sys.argv[1]).read_bytes()
    cloud = json.loads((Path(os.environ["LOCALCLOUD_DIR"]) / "cloud.json").read_text())
    t0 = time.monotonic()
    auth = {"RAX-KSKEY:apiKeyCredentials": {"username": "producer",
                                           "apiKey": cloud["passwords"]["producer-apikey"]}}
    access = requests.post(f"{cloud['identity_v2']}/v2.0/tokens", json={"auth": auth}, timeout=30).json()["access"]
    catalog = {e["type"]: {ep["region"]: ep for ep in e["endpoints"]} for e in access["serviceCatalog"]}
    images = catalog["image"]["RegionOne"]["publicURL"]  # .../v2
    swift = catalog["object-store"]["RegionOne"]["publicURL"]
    s = requests.Session()
    s.headers["X-Auth-Token"] = access["token"]["id"]
    print(f"API-key login: tenant {access['token']['tenant']['id']}, regions "
          f"{sorted(catalog['image'])}  ({time.monotonic() - t0:.2f} s)")

    t1 = time.monotonic()
    image = s.post(f"{images}/images", json={"name": f"demo-{int(time.time())}", "disk_format": "vhd",
                                             "container_format": "bare"}, timeout=30).json()
    s.put(f"{images}/images/{image['id']}/file", data=vhd, timeout=120,
          headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    image = s.get(f"{images}/images/{image['id']}", timeout=30).json()
    print(f"uploaded image {image['id']} to RegionOne: {image['size']} bytes, status {image['status']} "
          f"({time.monotonic() - t1:.2f} s)")

    t2 = time.monotonic()
    s.put(f"{swift}/exports", timeout=30)
    task = s.post(f"{images}/tasks", timeout=30, json={"type": "export", "input": {
        "image_uuid": image["id"], "receiving_swift_container": "exports"}}).json()
    while task["status"] not in ("success", "failure"):
        time.sleep(0.5)
        task = s.get(f"{images}/tasks/{task['id']}", timeout=30).json()
    if task["status"] != "success":
        print(f"export task failed: {task['message']}")
        return 1
    location = task["result"]["export_location"]
    print(f"export task {task['id']}: {task['status']} -> {location} ({time.monotonic() - t2:.2f} s)")
    listing = s.get(f"{swift}/exports", params={"format": "json", "prefix": f"{image['id']}.vhd"}, timeout=30).json()
    for obj in listing:
        print(f"  {obj['name']:52} {obj['bytes']:>10} bytes  md5 {obj['hash']}")
    body = s.get(f"{swift}/{location}", timeout=120).content
    same = hashlib.md5(body).hexdigest() == hashlib.md5(vhd).hexdigest() == image["checksum"]
    print(f"manifest GET returns {len(body)} bytes; identical to the uploaded VHD: {same}")
    print(f"total {time.monotonic() - t0:.2f} s")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
