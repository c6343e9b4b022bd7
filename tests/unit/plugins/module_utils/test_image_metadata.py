"""image_metadata's plan: the JSON patch that brings an image's properties, attributes and tags
to what was asked, and nothing else."""
from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import HttpError
from ansible_collections.cloudimages.transfer.plugins.module_utils._image_metadata import (
    Options,
    apply_ops,
    custom_properties,
    plan_patch,
    run,
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


class Protecting:
    """A Glance whose property protections refuse any patch that touches one of ``protected``."""

    def __init__(self, image, protected=()):
        self.image, self.protected, self.patches = dict(image), set(protected), []

    def where(self, image_id):
        return f"image {image_id}"

    def find_image(self, image=None, filters=None):
        return dict(self.image)

    def get_image(self, image_id):
        return dict(self.image)

    def patch_image(self, image_id, ops):
        self.patches.append(ops)
        if any(op["path"][1:] in self.protected for op in ops):
            raise HttpError("update image: 403 Forbidden", 403)
        self.image = apply_ops(self.image, ops)
        return dict(self.image)


SOURCE = {"id": "s1", "name": "web", "os_distro": "debian", "kernel_id": "k-of-the-source", "ramdisk_id": "r",
          "img_signature": "c2ln", "img_signature_hash_method": "SHA-256", "img_signature_certificate_uuid": "cert",
          "x_billing_code": "12"}


def copy(target, signatures=False, properties=None):
    opts = Options(image="t1", properties=properties or {}, copy_from={"image": "s1", "signatures": signatures})
    return run(opts, target, Protecting(SOURCE), False)


def test_copy_from_never_copies_image_ids_of_the_other_region_and_signatures_only_when_asked():
    target = Protecting({"id": "t1", "name": "web"})
    result = copy(target)
    assert custom_properties(target.image) == {"os_distro": "debian", "x_billing_code": "12"}
    assert result["warnings"] == [
        "kernel_id, ramdisk_id not copied: they name images of the source's region; set them to the target's "
        "copies of those images with properties",
        "img_signature, img_signature_certificate_uuid, img_signature_hash_method not copied: the signature is over "
        "the source's bytes and its certificate is in the source cloud's key manager (copy_from.signatures: true "
        "copies it)"]
    target = Protecting({"id": "t1", "name": "web"})
    copy(target, signatures=True)
    assert target.image["img_signature"] == "c2ln" and "kernel_id" not in target.image


def test_a_copied_property_the_target_protects_is_skipped_and_the_rest_copied():
    target = Protecting({"id": "t1", "name": "web"}, protected={"x_billing_code"})
    result = copy(target)
    assert custom_properties(target.image) == {"os_distro": "debian"}
    assert result["changed"] and [op["path"] for op in result["patch"]] == ["/os_distro"]
    assert result["warnings"][-1] == ("image t1 refused the copied properties x_billing_code (403: the target cloud "
                                      "protects them); the rest were copied")
    # a key the user names is theirs: its refusal fails the task
    with pytest.raises(HttpError):
        copy(Protecting({"id": "t1", "name": "web"}, protected={"x_billing_code"}),
             properties={"x_billing_code": "13"})
