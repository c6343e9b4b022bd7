"""One Glance, several stores: image_import's copy-image against the local cloud's Glance,
which runs two file stores (local, the default, and extra) and offers the copy-image import.
Assertions are on the image Glance serves and on each store's files."""
from __future__ import annotations

import os
from pathlib import Path

from cloudtest import create_image, md5

P = {"cloud": "localcloud-producer", "region_name": "RegionOne"}
ADMIN = {"cloud": "localcloud-admin", "region_name": "RegionOne"}  # Glance's default policy: copy_image is admin-only


def image_of(producer, image_id: str) -> dict:
    with producer.session() as s:
        return s.get(f"{producer.url('image', 'RegionOne')}/v2/images/{image_id}").json()


def in_store(cloud: dict, store: str, image_id: str) -> bytes | None:
    """The file a store of RegionOne's Glance keeps for the image, or None."""
    folder = "images" if store == "local" else f"images-{store}"
    found = list(Path(cloud["state_dir"]).glob(f"glance-regionone/{folder}/{image_id}"))
    return found[0].read_bytes() if found else None


def test_copy_image_writes_the_image_into_another_store_once(run, cloud, producer, unique):
    data = os.urandom(1024 * 1024 + 9)
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), data, name=f"{unique} störe")
    assert image_of(producer, source["id"])["stores"] == "local"
    info = run("image_info", {**P, "capabilities": True})
    assert info["capabilities"]["stores"] == ["local", "extra"]  # the default first
    refused = run("image_import", {**P, "method": "copy-image", "source_image_id": source["id"], "stores": ["extra"]})
    assert refused["failed"] and "403" in refused["msg"] and "only admins copy an image" in refused["msg"], refused
    args = {**ADMIN, "method": "copy-image", "source_image_id": source["id"], "stores": ["extra"]}
    would = run("image_import", args, check=True)
    assert would["changed"] and "would copy" in would["msg"], would["msg"]
    assert image_of(producer, source["id"])["stores"] == "local"  # check mode copied nothing
    done = run("image_import", args)
    assert done["changed"] and sorted(done["stores"]) == ["extra", "local"], done.get("msg")
    after = image_of(producer, source["id"])
    assert sorted(after["stores"].split(",")) == ["extra", "local"] and after["checksum"] == md5(data)
    assert "os_glance_import_task" not in after  # Glance let go of its lock before the module returned
    assert in_store(cloud, "extra", source["id"]) == data
    again = run("image_import", {**ADMIN, "method": "copy-image", "source_image_id": source["id"], "all_stores": True})
    assert not again["changed"] and "already in the stores" in again["msg"], again.get("msg")


def test_copy_image_into_a_store_glance_does_not_have_says_which_it_has(run, producer, unique):
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), b"x" * 1000, name=unique)
    failed = run("image_import", {**P, "method": "copy-image", "source_image_id": source["id"], "stores": ["ceph"]})
    assert failed["failed"] and failed["msg"] == "Glance in region RegionOne has no store ceph (it has local, extra)"
    assert image_of(producer, source["id"])["stores"] == "local"
