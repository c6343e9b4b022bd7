"""image_metadata's plan: the JSON patch that brings an image's properties, attributes and tags
to what was asked, and nothing else."""
from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._image_metadata import (
    apply_ops,
    custom_properties,
    plan_patch,
    selected,
)

IMAGE = {"id": "i1", "name": "web", "status": "active", "checksum": "abc", "size": 10, "tags": ["a"],
         "os_glance_importing_to_stores": "", "os_hash_value": "f00", "visibility": "private",
         "os_distro": "ubuntu", "stale": "x", "com.mycompany.image-of": "old"}


def plan(properties=None, absent=(), purge=False, attributes=None, tags=None, purge_tags=False):
    return plan_patch(IMAGE, properties or {}, list(absent), purge, attributes or {}, tags, purge_tags)


def test_add_replace_remove():
    ops = plan({"com.mycompany.image-of": "new", "org.openstack__1__os_version": 22}, absent=["stale", "missing"])
    assert ops == [
        {"op": "replace", "path": "/com.mycompany.image-of", "value": "new"},
        {"op": "add", "path": "/org.openstack__1__os_version", "value": "22"},
        {"op": "remove", "path": "/stale"},
    ]


def test_nothing_to_do_is_an_empty_patch():
    assert plan({"os_distro": "ubuntu"}, absent=["missing"], attributes={"name": "web"}, tags=["a"]) == []


def test_purge_removes_only_custom_properties():
    ops = plan({"os_distro": "ubuntu"}, purge=True)
    assert [op["path"] for op in ops] == ["/com.mycompany.image-of", "/stale"]


def test_attributes_and_tags():
    assert plan(attributes={"visibility": "shared", "min_disk": 20, "name": None}, tags=["b"]) == [
        {"op": "replace", "path": "/min_disk", "value": 20},
        {"op": "replace", "path": "/visibility", "value": "shared"},
        {"op": "replace", "path": "/tags", "value": ["a", "b"]},
    ]
    assert plan(tags=["b"], purge_tags=True) == [{"op": "replace", "path": "/tags", "value": ["b"]}]


@pytest.mark.parametrize("key", ["checksum", "os_glance_failed_import", "os_hash_algo", "owner", "size", "name"])
def test_reserved_keys_are_refused(key):
    with pytest.raises(TransferError) as caught:
        plan({key: "x"})
    assert caught.value.msg == (f"Property {key!r} is reserved or read-only (or an image attribute with its own "
                                "option); it cannot be set as a custom property")


def test_custom_properties_leave_out_base_and_denied_keys():
    assert custom_properties(IMAGE) == {"os_distro": "ubuntu", "stale": "x", "com.mycompany.image-of": "old"}


def test_prefix_selection():
    props = {"hw_disk_bus": "scsi", "hw_vif": "e1000", "os_distro": "u", "x": "y"}
    assert selected(props, ["hw_", "os_"], ["hw_vif"]) == {"hw_disk_bus": "scsi", "os_distro": "u"}
    assert selected(props, None, None) == props


def test_apply_follows_the_escaped_pointers():
    ops = [{"op": "remove", "path": "/a~1b"}, {"op": "add", "path": "/d", "value": "4"}]
    assert apply_ops({"a/b": "1", "c": "2"}, ops) == {"c": "2", "d": "4"}
