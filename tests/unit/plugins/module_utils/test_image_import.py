from __future__ import annotations

import hashlib

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _disk_compare
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._image_import import (
    ImportEnded,
    Options,
    copy_image,
    direct,
    import_state,
    verify as verify_options,
    wait_active,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._image_metadata import copyable
from ansible_collections.cloudimages.transfer.plugins.module_utils._tasks import Poller
from ansible_collections.cloudimages.transfer.tests.unit.plugins.module_utils.fake_clock import clock  # noqa: F401  # pylint: disable=unused-import

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

    def import_task(self, image_id, task_id):
        return self.tasks.get(task_id, {})

    tasks = {"t9": {"id": "t9", "status": "processing", "message": "Copied 512 MiB"},
             "t4": {"id": "t4", "status": "failure", "message": "Task failed due to Internal Error"}}


def test_a_failure_left_by_an_earlier_import_counts_only_once_the_lock_is_gone(clock):
    glance = FakeGlance({"status": "queued", "os_glance_failed_import": "local", "os_glance_import_task": "t2"},
                        {"status": "active", "os_glance_failed_import": ""})
    assert wait_active(glance, "i", Poller(interval=1, deadline=10), started=True)["status"] == "active"


def test_a_started_import_back_to_queued_without_the_lock_has_ended(clock):
    glance = FakeGlance({"status": "queued", "os_glance_import_task": "t1", "disk_format": "raw"},
                        {"status": "queued", "disk_format": "raw"}, failure="task t1: Task failed due to Internal Error")
    with pytest.raises(ImportEnded, match="queued again; Glance's task t1: Task failed due to Internal Error$"):
        wait_active(glance, "i", Poller(interval=1, deadline=10), started=True)
    with pytest.raises(ImportEnded, match=r"os_glance_failed_import: local\); a Glance that runs the image_conversion "
                                          r"import plugin cannot read VHD"):
        wait_active(FakeGlance({"status": "queued", "os_glance_failed_import": "local"}), "i",
                    Poller(interval=1, deadline=10))


def test_a_failed_import_task_that_still_holds_the_lock_ends_the_wait_at_once(clock):
    # what Glance leaves when a plugin's revert fails: queued, the failed task still named as the lock
    glance = FakeGlance({"status": "importing", "os_glance_import_task": "t9"},
                        {"status": "queued", "os_glance_import_task": "t4", "disk_format": "vhd"})
    with pytest.raises(ImportEnded, match=r"queued and its import task t4 failed: Task failed due to Internal Error "
                                          r"\(Glance holds .* 60 minutes .*\); a Glance that runs the image_conversion") as err:
        wait_active(glance, "i", Poller(interval=30, deadline=3600), started=True)
    assert err.value.details["locked"] is True
    assert clock.now < 1  # seen at the second poll, a fraction of a second in


def test_a_store_that_failed_during_this_import_ends_the_wait_one_failed_before_does_not(clock):
    during = FakeGlance({"status": "importing", "os_glance_import_task": "t9", "os_glance_failed_import": "old"},
                        {"status": "importing", "os_glance_import_task": "t9", "os_glance_failed_import": "old,ceph"})
    with pytest.raises(ImportEnded, match=r"failed to write to the store\(s\) ceph \(os_glance_failed_import: old,ceph\)"):
        wait_active(during, "i", Poller(interval=30, deadline=3600), started=True, failed_before="old")
    earlier = FakeGlance({"status": "importing", "os_glance_import_task": "t9", "os_glance_failed_import": "old"},
                         {"status": "active", "os_glance_failed_import": ""})
    assert wait_active(earlier, "i", Poller(interval=30, deadline=3600), started=True,
                       failed_before="old")["status"] == "active"


def test_a_wait_on_glance_is_adaptive_a_short_import_is_seen_within_a_fifth_of_its_time(clock):
    # active after 14 s (a 1 GiB glance-download here): seen within 20 % of that, not at 30 s
    class Timed(FakeGlance):
        def get_image(self, image_id):
            return image(status="active" if clock.now >= 14 else "importing",
                         **({} if clock.now >= 14 else {"os_glance_import_task": "t9"}))

    wait_active(Timed(), "i", Poller(interval=30, deadline=3600), started=True)
    assert 14 <= clock.now <= 14 * 1.2 + 0.2


def test_the_state_of_an_import_says_what_glance_exposes():
    assert import_state(image(status="importing"), {}) == "importing"
    assert import_state(image(status="importing", os_glance_import_task="t9", os_glance_importing_to_stores="local,ceph"),
                        FakeGlance.tasks["t9"]) == "importing (import task t9; stores left: local,ceph; Copied 512 MiB)"


class Streamed:
    """A streaming response as requests gives it (its raw stream read in chunks)."""

    def __init__(self, data: bytes):
        self.data, self.closed = data, False
        self.raw = self

    def stream(self, size, decode_content=False):
        for at in range(0, len(self.data), size):
            yield self.data[at:at + size]

    def close(self):
        self.closed = True


class DirectPair:
    """A source Glance serving bytes and a target Glance taking them (stage or file), importing
    what was staged once asked to; what each was asked is recorded."""

    class Policy:
        retries = 0

    def __init__(self, data: bytes, methods=("glance-direct",), serve: bytes | None = None):
        self.data, self.methods, self.serve, self.calls = data, set(methods), serve, []
        self.status, self.http = "queued", self

    policy = Policy()

    def where(self, image_id):
        return f"image {image_id}"

    def import_methods(self):
        return self.methods

    def get_image(self, image_id):
        if image_id == "src":
            return {"id": "src", "status": "active", "size": len(self.data), "checksum": hashlib.md5(self.data).hexdigest(),
                    "os_hash_algo": "sha512", "os_hash_value": hashlib.sha512(self.data).hexdigest()}
        return None if self.status == "deleted" else {"id": image_id, "status": self.status, "disk_format": "raw"}

    def open_image_data(self, image_id):
        self.response = Streamed(self.serve if self.serve is not None else self.data)
        return self.response

    def stage_image_data(self, image_id, body):
        self.calls.append(("stage", b"".join(body)))
        self.status = "uploading"

    def upload_image_data(self, image_id, body):
        self.calls.append(("file", b"".join(body)))
        self.status = "active"

    def start_import(self, image_id, body):
        self.calls.append(("import", body["method"]["name"]))
        self.status = "active"

    def delete_image(self, image_id):
        self.calls.append(("delete", image_id))
        self.status = "deleted"

    def image_tasks(self, image_id):
        return []

    def import_task(self, image_id, task_id):
        return {}


def run_direct(pair, made=True):
    opts = Options(method="direct", source_region="R1", source_image_id="src")
    return direct(pair, pair, opts, {"id": "new", "status": "queued"}, len(pair.data), Poller(1, 60), made)


def test_direct_stages_the_source_bytes_then_imports_them_with_glance_direct(clock):
    data = b"\x00disk" * 300000
    pair = DirectPair(data)
    assert run_direct(pair)["status"] == "active"
    assert pair.calls == [("stage", data), ("import", "glance-direct")] and pair.response.closed


def test_direct_without_glance_direct_puts_the_file(clock):
    pair = DirectPair(b"abc", methods=("web-download",))
    run_direct(pair)
    assert pair.calls == [("file", b"abc")]


def test_direct_bytes_that_are_not_the_sources_are_never_imported_and_the_image_made_is_deleted(clock):
    pair = DirectPair(b"abcd", serve=b"abce")  # the source's checksum says abcd; the stream carries abce
    with pytest.raises(TransferError, match=r"streamed from image src to image new is not the source's: MD5 .*"
                                            r"the image this run made was deleted"):
        run_direct(pair)
    assert pair.calls == [("stage", b"abce"), ("delete", "new")]


def test_direct_a_stage_an_earlier_run_finished_is_imported_without_streaming_again(clock):
    pair = DirectPair(b"abcd")
    pair.status = "uploading"
    opts = Options(method="direct", source_region="R1", source_image_id="src")
    direct(pair, pair, opts, {"id": "new", "status": "uploading"}, 4, Poller(1, 60), False)
    assert pair.calls == [("import", "glance-direct")]


class StoresGlance:
    """A Glance with stores local and extra, copying into them as told (``reach``: the stores a
    copy reaches; ``fail``: the copy task fails while holding the lock)."""

    region = "R1"

    def __init__(self, reach=("extra",), fail=False):
        self.reach, self.fail, self.calls = set(reach), fail, []
        self.image = {"id": "i", "status": "active", "stores": "local"}

    def where(self, image_id):
        return f"image {image_id}"

    def stores(self):
        return ["local", "extra"]

    def get_image(self, image_id):
        return dict(self.image)

    def start_import(self, image_id, body):
        self.calls.append(body)
        if self.fail:
            self.image["os_glance_import_task"] = "t4"
            return
        reached = self.reach & set(body["stores"])
        self.image["stores"] = ",".join(sorted({"local"} | reached))
        failed = set(body["stores"]) - reached
        if failed:
            self.image["os_glance_failed_import"] = ",".join(sorted(failed))

    def import_task(self, image_id, task_id):
        return {"id": "t4", "status": "failure", "message": "Store extra full"} if task_id == "t4" else {}


def copy(glance, **kw):
    return copy_image(Options(method="copy-image", source_image_id="i", **kw), glance, False)


def test_copy_image_copies_only_into_the_stores_missing_and_not_twice(clock):
    glance = StoresGlance()
    result = copy(glance, all_stores=True)
    assert result["changed"] and result["stores"] == ["extra", "local"]
    assert glance.calls == [{"method": {"name": "copy-image"}, "stores": ["extra"], "all_stores_must_succeed": True}]
    assert not copy(glance, stores=["extra"])["changed"] and len(glance.calls) == 1


def test_copy_image_a_store_not_reached_fails_or_warns_as_asked(clock):
    with pytest.raises(TransferError, match="without the stores extra \\(failed: extra\\)"):
        copy(StoresGlance(reach=()), stores=["extra"])
    kept = copy(StoresGlance(reach=()), stores=["extra"], all_stores_must_succeed=False)
    assert kept["warnings"] == ["copy-image did not reach the stores extra (failed: extra); all_stores_must_succeed "
                                "is false, so the others are kept"]


def test_copy_image_a_failed_copy_task_ends_the_wait_at_once(clock):
    with pytest.raises(ImportEnded, match="its task t4 says Store extra full"):
        copy(StoresGlance(fail=True), stores=["extra"])
    assert clock.now < 1
