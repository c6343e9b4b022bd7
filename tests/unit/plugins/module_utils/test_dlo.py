from __future__ import annotations

import hashlib

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import (
    EMPTY_MD5,
    Dlo,
    Segment,
    SegmentStep,
    choose_segment_size,
    chunk_layout,
    deletable_segments,
    dlo_problems,
    etag_of_etags,
    layout_steps,
    layout_warnings,
    manifest_value,
    plan_segments,
    segment_name,
    split_manifest,
    stale_segments,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError


MiB = 1024 * 1024


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def make_dlo(parts, head_size=None, head_etag=None, summed=True):
    segments = [Segment(f"disk.vhd-{n:05d}", len(p), md5(p)) for n, p in enumerate(parts, 1)]
    return Dlo("exports", "disk.vhd", "exports", "disk.vhd-", segments,
               head_size=sum(len(p) for p in parts) if head_size is None else head_size,
               head_etag=etag_of_etags(s.etag for s in segments) if head_etag is None else head_etag,
               summed_by_swift=summed)


def test_etag_of_etags_is_md5_of_the_concatenated_hex_digests():
    parts = [b"a" * 10, b"b" * 10, b"c"]
    assert etag_of_etags(md5(p) for p in parts) == md5("".join(md5(p) for p in parts).encode())


def test_a_consistent_dlo_has_no_problems():
    assert dlo_problems(make_dlo([b"a" * 10, b"b" * 10, b"c" * 3])) == []
    assert dlo_problems(make_dlo([b"only"])) == []


def test_size_and_etag_come_from_the_listing():
    dlo = make_dlo([b"a" * 10, b"b" * 3], head_size=0, head_etag=EMPTY_MD5, summed=False)
    assert (dlo.size, dlo.etag) == (13, etag_of_etags([md5(b"a" * 10), md5(b"b" * 3)]))


def test_unequal_segments_are_warnings_not_problems():
    dlo = make_dlo([b"a" * 10, b"b" * 9, b"c" * 11])
    assert dlo_problems(dlo) == []
    assert layout_warnings(dlo.prefix, dlo.segments) == [
        "segment disk.vhd-00002 is 9 bytes where the first is 10",
        "last segment disk.vhd-00003 is 11 bytes (expected 1 to 10)"]


def test_a_gap_in_numbering_is_a_warning():
    segments = [Segment("x-00001", 5, "a"), Segment("x-00003", 5, "b"), Segment("x-00004", 2, "c")]
    assert layout_warnings("x-", segments) == ["segment numbers have a gap (missing [2])"]


def test_names_outside_the_numbered_series_are_a_warning():
    segments = [Segment("x-00001", 5, "a"), Segment("x-22.04-00001", 5, "b")]
    assert layout_warnings("x-", segments) == ["1 segment names are outside the numbered series (first: x-22.04-00001)"]


def test_swift_cli_numbering_is_a_series():
    segments = [Segment(f"d/1/2/3/{n:08d}", 5, "a") for n in range(3)]
    assert layout_warnings("d/1/2/3/", segments) == []


def test_head_totals_must_match_the_listing_where_swift_summed_them():
    assert dlo_problems(make_dlo([b"a" * 4], head_size=5)) == ["segments add up to 4 bytes but the manifest says 5"]
    assert dlo_problems(make_dlo([b"a" * 4], head_etag="0" * 32)) == [
        "the manifest ETag is not the MD5 of the segment ETags"]
    # at or past the listing limit Swift shows the manifest's own headers: nothing to compare
    assert dlo_problems(make_dlo([b"a" * 4], head_size=0, head_etag=EMPTY_MD5, summed=False)) == []


def test_a_manifest_without_segments_is_refused():
    assert dlo_problems(Dlo("c", "o", "c", "o-", [], head_size=0, head_etag=EMPTY_MD5)) == [
        "the manifest points at c/o- where there are no segments"]


def test_chunk_layout():
    assert chunk_layout(10, 4) == [(0, 4), (4, 4), (8, 2)]
    assert chunk_layout(8, 4) == [(0, 4), (4, 4)]
    assert chunk_layout(0, 4) == []
    with pytest.raises(TransferError, match="positive"):
        chunk_layout(10, 0)
    with pytest.raises(TransferError, match="at most 99999"):
        chunk_layout(100000, 1)


def test_layout_steps_name_number_and_place_each_segment():
    steps = layout_steps("disk.vhd-", 10, 4)
    assert [(s.number, s.name, s.offset, s.size) for s in steps] == [
        (1, "disk.vhd-00001", 0, 4), (2, "disk.vhd-00002", 4, 4), (3, "disk.vhd-00003", 8, 2)]
    assert all(s.md5 is None and s.action == "transfer" for s in steps)
    assert layout_steps("disk.vhd-", 0, 4) == []


def test_segment_names_sort_in_order():
    names = [segment_name("disk.vhd-", n) for n in (1, 2, 10, 99999)]
    assert names == sorted(names) and names[0] == "disk.vhd-00001"


def test_split_manifest():
    assert split_manifest("exports/disk.vhd-") == ("exports", "disk.vhd-")
    assert split_manifest("segs/a/b/") == ("segs", "a/b/")
    with pytest.raises(TransferError):
        split_manifest("/nothing")


@pytest.mark.parametrize("container,prefix", [
    ("interop_segments", "mi disco ñ.vhd/1700000000.000000/2097229/1048576/"),
    ("c", "a%b+c?d#e;f&g-"), ("c", "/leading-slash-"), ("c", "trailing/"), ("cont ainer", "x-"),
    ("c", "日本語 イメージ.vhd-"),
])
def test_manifest_values_round_trip(container, prefix):
    value = manifest_value(container, prefix)
    assert split_manifest(value) == (container, prefix)
    raw_prefix = value.split("/", 1)[1]
    # Swift refuses a raw value with '?' or '&', or a prefix starting with '/'
    assert "?" not in value and "&" not in value and not raw_prefix.startswith("/")


def test_the_swift_cli_manifest_is_decoded():
    assert split_manifest("interop_segments/mi%20disco%20%C3%B1.vhd/1/2/3/") == (
        "interop_segments", "mi disco ñ.vhd/1/2/3/")


def test_only_own_numbered_non_empty_segments_are_deletable():
    listing = [{"name": "ubuntu-00001", "bytes": 5}, {"name": "ubuntu-22.04", "bytes": 0},
               {"name": "ubuntu-22.04-00001", "bytes": 5}, {"name": "ubuntu-2404", "bytes": 7},
               {"name": "ubuntu-00002", "bytes": 0}, {"name": "ubuntu-000003", "bytes": 3}]
    assert deletable_segments("ubuntu-", listing) == (
        ["ubuntu-00001"], ["ubuntu-22.04", "ubuntu-22.04-00001", "ubuntu-2404", "ubuntu-00002", "ubuntu-000003"])


def test_a_folder_prefix_numbered_series_of_any_width_is_deletable_when_asked():
    listing = [{"name": "d/1/2/3/00000000", "bytes": 5}, {"name": "d/1/2/3/notes", "bytes": 5}]
    assert deletable_segments("d/1/2/3/", listing, any_width=True) == (["d/1/2/3/00000000"], ["d/1/2/3/notes"])
    assert deletable_segments("d/1/2/3/", listing) == ([], ["d/1/2/3/00000000", "d/1/2/3/notes"])
    assert deletable_segments("d-", [{"name": "d-7", "bytes": 1}], any_width=True) == ([], ["d-7"])
    # rclone's manifest prefix has no trailing slash: <name>/<time>/<size>, segments <prefix>/00000000
    rclone = [{"name": "d/1.5/30/00000000", "bytes": 5}, {"name": "d/1.5/300", "bytes": 5}]
    assert deletable_segments("d/1.5/30", rclone, any_width=True) == (["d/1.5/30/00000000"], ["d/1.5/300"])


class FakeSwift:
    region = "R1"

    def __init__(self, info):
        self._info = info

    def info(self):
        return self._info


@pytest.mark.parametrize("info,requested,total,expected", [
    ({}, None, 10 * 1024 ** 3, 1024 ** 3),
    ({"max_file_size": 64 * MiB}, None, 10 * 1024 ** 3, 64 * MiB),
    # 100-object listing pages: 99 segments at most, so Swift still sums the object
    ({"max_file_size": 64 * MiB, "container_listing_limit": 100}, None, 99 * 64 * MiB + 1, 64 * MiB),
    ({"max_file_size": 64 * MiB, "container_listing_limit": 100}, None, 99 * 32 * MiB, 64 * MiB),
    ({"max_file_size": 5 * 1024 ** 3, "container_listing_limit": 100}, None, 99 * 1024 ** 3, 1024 ** 3),
    ({"max_file_size": 5 * 1024 ** 3, "container_listing_limit": 100}, None, 99 * 1024 ** 3 + 99, 1024 ** 3 + 1),
    ({"max_file_size": 64 * MiB}, 8 * MiB, 10, 8 * MiB),
])
def test_segment_size_is_chosen_from_the_cluster(info, requested, total, expected):
    assert choose_segment_size(FakeSwift(info), requested, total) == expected


def test_an_explicit_segment_size_that_does_not_fit_is_refused():
    with pytest.raises(TransferError, match="segment_size 134217728 is larger than the largest object region R1 "
                                            r"accepts \(67108864 bytes\)"):
        choose_segment_size(FakeSwift({"max_file_size": 64 * MiB}), 128 * MiB, 10)


def test_plan_keeps_only_exact_matches():
    existing = {s.name: s for s in (Segment("p-00001", 4, md5(b"aaaa")), Segment("p-00002", 4, md5(b"xxxx")),
                                    Segment("p-00003", 3, md5(b"ccc")), Segment("p-00009", 1, md5(b"z")))}
    wanted = [SegmentStep(1, "p-00001", 4, 0, md5(b"aaaa")), SegmentStep(2, "p-00002", 4, 4, md5(b"bbbb")),
              SegmentStep(3, "p-00003", 2, 8, md5(b"cc")), SegmentStep(4, "p-00004", 1, 10, md5(b"d"))]
    plan = plan_segments(wanted, existing)
    assert [(s.action, s.reason) for s in plan] == [
        ("keep", "same size and MD5"), ("transfer", "MD5 differs"),
        ("transfer", "size 3 differs from 2"), ("transfer", "missing")]
    listing = [{"name": s.name, "bytes": s.size, "hash": s.etag} for s in existing.values()]
    assert stale_segments("p-", listing + [{"name": "p-other", "bytes": 1}], wanted) == (["p-00009"], ["p-other"])


def test_plan_asks_for_a_hash_when_only_the_size_is_known():
    existing = {"p-00001": Segment("p-00001", 4, md5(b"aaaa"))}
    [step] = plan_segments([SegmentStep(1, "p-00001", 4)], existing)
    assert step.action == "hash"
