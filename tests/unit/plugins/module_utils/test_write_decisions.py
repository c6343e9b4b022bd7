"""The rerun decisions of every large-object write (upload, copy, stream export) against an
object store in memory: what to write, what to keep, what to delete, what is not ours, and
whether what was written reads back. The system tests keep one end-to-end case of each."""
from __future__ import annotations

import hashlib

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import SegmentStep, chunk_layout, segment_name
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_write import (
    apply_write,
    plan_write,
    same_manifest,
    verify_written,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

from ansible_collections.cloudimages.transfer.tests.unit.plugins.module_utils.memory_swift import MemorySwift

DATA = bytes(range(256)) * 40  # 10240 bytes: 3 segments of 4096 (the last 2048)


def steps(data=DATA, size=4096, prefix="disk.vhd-"):
    return [SegmentStep(n, segment_name(prefix, n), length, offset, hashlib.md5(data[offset:offset + length]).hexdigest())
            for n, (offset, length) in enumerate(chunk_layout(len(data), size), start=1)]


def plan(swift, wanted=None, stale_policy="delete", create=True, headers=None):
    return plan_write(swift, "exports", "disk.vhd", "exports", "disk.vhd-", wanted or steps(), headers or {},
                      create, stale_policy)


def write(swift, written, data=DATA):
    def worker(step):
        swift.put_object(written.segment_container, step.name, data[step.offset:step.offset + step.size],
                         etag=step.md5)
    written.manifest_action = "write" if not same_manifest(swift, written, swift.head_object("exports", "disk.vhd") or {}) \
        else "keep"
    apply_write(swift, written, worker, 2)


def test_a_first_write_creates_the_container_and_every_segment_then_a_rerun_keeps_all():
    swift = MemorySwift()
    first = plan(swift)
    assert (first.create, [s.action for s in first.steps], first.changed) == (["exports"], ["transfer"] * 3, True)
    write(swift, first)
    assert swift.head_object("exports", "disk.vhd")["content-length"] == str(len(DATA))
    again = plan(swift)
    assert [s.action for s in again.steps] == ["keep"] * 3 and not again.create and not again.stale
    assert same_manifest(swift, again, swift.head_object("exports", "disk.vhd"))


def test_a_resumed_write_sends_only_what_is_missing_or_differs():
    swift = MemorySwift()
    swift.put_container("exports")
    swift.put_object("exports", "disk.vhd-00001", DATA[:4096])
    swift.put_object("exports", "disk.vhd-00002", b"x" * 4096)  # a segment of another content
    again = plan(swift)
    assert [(s.action, s.reason) for s in again.steps] == [
        ("keep", "same size and MD5"), ("transfer", "MD5 differs"), ("transfer", "missing")]


def test_segments_an_earlier_longer_write_left_are_deleted_or_refused():
    swift = MemorySwift()
    longer = DATA + DATA
    write(swift, plan(swift, steps(longer)), longer)
    shorter = plan(swift)
    assert shorter.stale == ["disk.vhd-00004", "disk.vhd-00005"]
    with pytest.raises(TransferError, match=r"2 segments under exports/disk.vhd- in region R1 are not part of the "
                                            r"new object \(first: disk.vhd-00004\); stale_segments=fail"):
        plan(swift, stale_policy="fail")
    write(swift, shorter)
    assert [o["name"] for o in swift.list_objects("exports", "disk.vhd-")] == [f"disk.vhd-0000{n}" for n in (1, 2, 3)]
    assert swift.head_object("exports", "disk.vhd")["content-length"] == str(len(DATA))


def test_an_object_under_the_prefix_that_is_not_a_segment_is_refused_and_left():
    swift = MemorySwift()
    swift.put_container("exports")
    swift.put_object("exports", "disk.vhd-backup", b"someone else's")
    with pytest.raises(TransferError, match="also matches 1 objects that are not segments .* disk.vhd-backup"):
        plan(swift)
    assert [o["name"] for o in swift.list_objects("exports")] == ["disk.vhd-backup"]


def test_a_missing_container_is_an_error_when_it_may_not_be_created():
    with pytest.raises(TransferError, match="Container exports does not exist in region R1 and create_container is false"):
        plan(MemorySwift(), create=False)


def test_a_manifest_with_other_headers_is_rewritten():
    swift = MemorySwift()
    write(swift, plan(swift))
    other = plan(swift, headers={"X-Object-Meta-Build": "2"})
    assert not same_manifest(swift, other, swift.head_object("exports", "disk.vhd"))


def test_what_does_not_read_back_as_written_is_named():
    swift = MemorySwift()
    written = plan(swift)
    write(swift, written)
    swift.delete_object("exports", "disk.vhd-00002")  # another writer, or a lost segment
    with pytest.raises(TransferError, match=r"does not read back as written: the listing under the prefix holds 2 "
                                            r"objects where 3 segments were written \(first difference: disk.vhd-00002\)"):
        verify_written(swift, written, attempts=1)
    swift.put_object("exports", "disk.vhd-00002", DATA[4096:8192])
    swift.put_object("exports", "disk.vhd", b"", headers={"X-Object-Manifest": "elsewhere/disk.vhd-"})
    with pytest.raises(TransferError, match="the manifest points at 'elsewhere/disk.vhd-'"):
        verify_written(swift, written, attempts=1)


def test_past_one_listing_page_the_listing_alone_is_the_check():
    swift = MemorySwift(listing_limit=2)
    written = plan(swift)
    write(swift, written)
    assert swift.head_object("exports", "disk.vhd")["content-length"] == "0"  # Swift no longer sums it
    verify_written(swift, written, attempts=1)


# ---------------------------------------------------------------- a download's rerun decisions

class Held:
    """What a download knows of the object it reads: its size (the rest is in the steps)."""

    size = len(DATA)


def download_options(dest, **more):
    from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_download import Options
    return Options(container="exports", object="disk.vhd", dest=str(dest), **more)


def test_a_destination_that_already_holds_the_object_is_kept_and_another_only_replaced_with_force(tmp_path):
    from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_download import destination_identical
    dest = tmp_path / "disk.vhd"
    assert not destination_identical(download_options(dest), Held, steps())
    dest.write_bytes(DATA)
    wanted = steps()
    assert destination_identical(download_options(dest), Held, wanted)
    assert {s.reason for s in wanted} == {"destination already identical"}
    dest.write_bytes(DATA[:-1] + b"!")
    with pytest.raises(TransferError, match="exists and differs from exports/disk.vhd; set force=true"):
        destination_identical(download_options(dest), Held, steps())
    assert not destination_identical(download_options(dest, force=True), Held, steps())


def test_a_resumed_download_fetches_only_what_its_temporary_file_lacks_and_only_for_the_same_object(tmp_path):
    from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_download import plan_fetch, temp_paths
    from ansible_collections.cloudimages.transfer.plugins.module_utils._local_files import write_json
    dest = tmp_path / "disk.vhd"
    part, meta = temp_paths(str(dest))
    with open(part, "wb") as f:
        f.write(DATA[:4096] + b"\0" * 4096 + DATA[8192:])  # the second segment never arrived
    identity = {"etag": "abc", "size": len(DATA)}
    write_json(meta, identity)
    assert [s.number for s in plan_fetch(download_options(dest), identity, steps())] == [2]
    # another object under the same name (the record differs), or mode whole: everything again
    assert len(plan_fetch(download_options(dest), {**identity, "etag": "def"}, steps())) == 3
    assert len(plan_fetch(download_options(dest, mode="whole"), identity, steps())) == 3


# ---------------------------------------------------------------- an import's rerun decision

class Images:
    region = "R2"

    def __init__(self, *images):
        self.images = list(images)

    def list_images(self, filters):
        return [i for i in self.images if all(i.get(k) == v for k, v in filters.items())]

    def where(self, image_id):
        return f"image {image_id} in region R2"


def test_an_earlier_runs_image_is_found_by_its_stamps_and_a_broken_one_is_the_users_to_resolve():
    from ansible_collections.cloudimages.transfer.plugins.module_utils._image_import import find_earlier
    keys = {"cloudimages_source_image": "s1"}
    assert find_earlier(Images({"id": "other", "status": "active"}), keys) is None
    found = {"id": "t1", "status": "queued", **keys}
    assert find_earlier(Images(found, {"id": "gone", "status": "killed", **keys}), keys) == found
    with pytest.raises(TransferError, match="2 images in region R2 carry .* resolve the duplicates"):
        find_earlier(Images(found, {"id": "t2", "status": "active", **keys}), keys)
    with pytest.raises(TransferError, match="is deactivated: reactivate it"):
        find_earlier(Images({"id": "t3", "status": "deactivated", **keys}), keys)


# ---------------------------------------------------------------- a cleanup's decision

def test_a_cleanup_deletes_segments_only_of_a_manifest_that_carries_its_stamp():
    from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_upload import Options, delete
    swift = MemorySwift()
    written = plan(swift, headers={"X-Object-Meta-Cloudimages-Source-Image": "img-1"})
    write(swift, written)
    absent = Options(container="exports", object="disk.vhd", state="absent", trust_manifest=False,
                     stamp={"Cloudimages-Source-Image": "img-2"})
    planned = delete(absent, swift, True)
    assert planned["deleted"] == ["exports/disk.vhd"] and "X-Object-Meta-Cloudimages-Source-Image: 'img-1', not 'img-2'" \
        in planned["warnings"][0]
    gone = delete(Options(container="exports", object="disk.vhd", state="absent", trust_manifest=False,
                          stamp={"Cloudimages-Source-Image": "img-1"}), swift, False)
    assert gone["deleted"] == ["exports/disk.vhd"] + [f"exports/disk.vhd-0000{n}" for n in (1, 2, 3)]
    assert swift.list_objects("exports") == []
    # a manifest someone replaced (no stamp): it alone goes, the segments stay
    write(swift, plan(swift))
    alone = delete(Options(container="exports", object="disk.vhd", state="absent", trust_manifest=False,
                           stamp={"Cloudimages-Source-Image": "img-1"}), swift, False)
    assert alone["deleted"] == ["exports/disk.vhd"] and len(swift.list_objects("exports")) == 3
