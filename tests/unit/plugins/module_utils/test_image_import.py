from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _disk_compare
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._image_import import (
    ImportEnded,
    Options,
    import_state,
    verify as verify_options,
    wait_active,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._image_metadata import copyable
from ansible_collections.cloudimages.transfer.plugins.module_utils._tasks import Poller

SOURCE = {"source_checksum": "c0", "source_virtual_size": 1000448, "source_os_hash_algo": "sha512",
          "source_os_hash_value": "h0", "disk_format": "vhd"}


def verify(params: dict, image: dict, method: str) -> dict:
    """verify() with the options image_import would be given these parameters."""
    return verify_options(Options.from_params(params), image, method)


def image(**fields):
    return {"id": "i", "status": "active", "disk_format": "vhd", "checksum": "c0", "os_hash_algo": "sha512",
            "os_hash_value": "h0", "virtual_size": 1000448, **fields}


def test_nothing_converted_compares_the_sha512_hash():
    assert verify(SOURCE, image(), "upload") == {"active": True, "virtual_size": True, "checksum": True,
                                                 "content": "not checked: verify_content not asked"}
    with pytest.raises(TransferError, match="os_hash_value"):
        verify(SOURCE, image(os_hash_value="other"), "web-download")


def test_without_sha512_the_md5_checksum_is_compared():
    params = {**SOURCE, "source_os_hash_algo": None}
    with pytest.raises(TransferError, match="checksum c1 where the source has c0"):
        verify(params, image(checksum="c1"), "upload")


@pytest.mark.parametrize("params,fields,method,why", [
    (SOURCE, {"disk_format": "raw", "checksum": "c9"}, "web-download", "skipped: converted (vhd -> raw by the target's import)"),
    (SOURCE, {"disk_format": "raw", "checksum": "c9"}, "task", "skipped: converted (the vendor's import task stores its own format)"),
    ({**SOURCE, "source_converted": True}, {"checksum": "c9", "os_hash_value": "h9"}, "upload",
     "skipped: converted (the data imported is not the source image's own bytes (a vendor export converts))"),
])
def test_a_conversion_skips_the_checksum_and_says_why(params, fields, method, why):
    assert verify(params, image(**fields), method)["checksum"] == why


def test_the_virtual_size_is_compared_in_whole_sectors_and_must_match():
    assert verify({**SOURCE, "source_virtual_size": 1000123}, image(), "upload")["virtual_size"] is True
    with pytest.raises(TransferError, match="virtual_size 2000896 where the source has 1000448"):
        verify(SOURCE, image(virtual_size=2000896, disk_format="raw"), "task")


def test_a_side_without_virtual_size_is_said_not_checked():
    assert verify({**SOURCE, "source_virtual_size": None}, image(), "upload")["virtual_size"] == \
        "not checked: the source reports no virtual_size"
    assert verify(SOURCE, image(virtual_size=None), "upload")["virtual_size"] == \
        "not checked: the target reports no virtual_size"


def test_a_source_without_checksum_or_hash_is_said_not_checked():
    params = {"source_virtual_size": 1000448, "disk_format": "vhd"}
    assert verify(params, image(), "upload")["checksum"] == "not checked: the source has no checksum or hash"


def test_copy_from_never_takes_the_collections_stamps_and_nova_bookkeeping_only_when_named():
    props = {"os_distro": "debian", "cloudimages_source_image": "x", "cloudimages_transfer_verified": "h",
             "instance_uuid": "u", "image_type": "snapshot", "hw_disk_bus": "scsi"}
    assert copyable(props, None, None) == {"os_distro": "debian", "hw_disk_bus": "scsi"}
    assert copyable(props, ["instance_uuid", "hw_"], None) == {"instance_uuid": "u", "hw_disk_bus": "scsi"}
    assert copyable(props, ["cloudimages_"], None) == {}


@pytest.mark.parametrize("fmt,qemu", [("vhd", "vpc"), ("raw", "raw"), ("qcow2", "qcow2"), ("vmdk", "vmdk")])
def test_glance_formats_map_to_qemu_img_drivers(fmt, qemu):
    assert _disk_compare.QEMU_FORMATS[_disk_compare.readable_format({"disk_format": fmt}, "the source")] == qemu


def test_a_content_check_that_cannot_run_says_why_before_anything_is_imported(monkeypatch):
    with pytest.raises(TransferError, match="cannot read the source's disk_format 'ami'"):
        _disk_compare.readable_format({"disk_format": "ami"}, "the source")
    monkeypatch.setattr(_disk_compare.shutil, "which", lambda name: None)
    with pytest.raises(TransferError, match="apt-get install qemu-utils"):
        _disk_compare.check_possible({"disk_format": "raw"})


class FakeGlance:
    """Serves one image through a list of states, one per poll."""

    def __init__(self, *states, failure=""):
        self.states, self.failure = list(states), failure

    def where(self, image_id):
        return f"image {image_id}"

    def get_image(self, image_id):
        return image(**(self.states.pop(0) if len(self.states) > 1 else self.states[0]))

    def import_failure(self, image_id):
        return self.failure

    def import_message(self, image_id, task_id):
        return "Copied 512 MiB" if task_id == "t9" else ""


def test_a_failure_left_by_an_earlier_import_counts_only_once_the_lock_is_gone():
    glance = FakeGlance({"status": "queued", "os_glance_failed_import": "local", "os_glance_import_task": "t2"},
                        {"status": "active", "os_glance_failed_import": ""})
    assert wait_active(glance, "i", Poller(interval=1, deadline=10), started=True)["status"] == "active"


def test_a_started_import_back_to_queued_without_the_lock_has_ended():
    glance = FakeGlance({"status": "queued", "os_glance_import_task": "t1", "disk_format": "raw"},
                        {"status": "queued", "disk_format": "raw"}, failure="task t1: Task failed due to Internal Error")
    with pytest.raises(ImportEnded, match="queued again; Glance's task t1: Task failed due to Internal Error$"):
        wait_active(glance, "i", Poller(interval=1, deadline=10), started=True)
    with pytest.raises(ImportEnded, match=r"os_glance_failed_import: local\); a Glance that runs the image_conversion "
                                          r"import plugin cannot read VHD"):
        wait_active(FakeGlance({"status": "queued", "os_glance_failed_import": "local"}), "i",
                    Poller(interval=1, deadline=10))


def test_the_state_of_an_import_says_what_glance_exposes():
    glance = FakeGlance({"status": "importing"})
    assert import_state(glance, image(status="importing")) == "importing"
    assert import_state(glance, image(status="importing", os_glance_import_task="t9",
                                      os_glance_importing_to_stores="local,ceph")) == \
        "importing (import task t9; stores left: local,ceph; Copied 512 MiB)"
