from __future__ import annotations

import hashlib

from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import EMPTY_MD5, SegmentStep, etag_of_etags
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_write import (
    WritePlan,
    same_headers,
    written_problems,
)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def plan_of(parts, prefix="mi disco ñ.vhd-"):
    steps, offset = [], 0
    for n, part in enumerate(parts, 1):
        steps.append(SegmentStep(n, f"{prefix}{n:05d}", len(part), offset, md5(part)))
        offset += len(part)
    return WritePlan("c", "mi disco ñ.vhd", "c", prefix, steps)


def listing_of(plan):
    return [{"name": s.name, "bytes": s.size, "hash": s.md5} for s in plan.steps]


def summed(plan):
    return {"x-object-manifest": "c/mi%20disco%20%C3%B1.vhd-", "content-length": str(plan.size),
            "etag": f'"{etag_of_etags(s.md5 for s in plan.steps)}"'}


def test_what_was_written_reads_back():
    plan = plan_of([b"a" * 4, b"b" * 4, b"c"])
    assert written_problems(plan, summed(plan), listing_of(plan), limit=100) == []


def test_past_the_listing_limit_the_complete_listing_is_the_check():
    plan = plan_of([b"a"] * 5)
    unsummed = {"x-object-manifest": "c/mi%20disco%20%C3%B1.vhd-", "content-length": "0", "etag": EMPTY_MD5}
    assert written_problems(plan, unsummed, listing_of(plan), limit=5) == []
    # under the limit, the same headers mean Swift summed something else
    assert written_problems(plan, unsummed, listing_of(plan), limit=6) == [
        f"Swift reads it back as 0 bytes with ETag {EMPTY_MD5}; expected 5 bytes with ETag "
        f"{etag_of_etags(s.md5 for s in plan.steps)}"]


def test_an_extra_or_missing_segment_is_named():
    plan = plan_of([b"a" * 4, b"b"])
    extra = listing_of(plan) + [{"name": "mi disco ñ.vhd-00003", "bytes": 1, "hash": md5(b"x")}]
    assert written_problems(plan, summed(plan), extra, limit=100) == [
        "the listing under the prefix holds 3 objects where 2 segments were written "
        "(first difference: mi disco ñ.vhd-00003)"]
    assert written_problems(plan, summed(plan), listing_of(plan)[:1], limit=100) == [
        "the listing under the prefix holds 1 objects where 2 segments were written "
        "(first difference: mi disco ñ.vhd-00002)"]


def test_a_missing_or_foreign_manifest_is_named():
    plan = plan_of([b"a"])
    assert written_problems(plan, None, listing_of(plan), limit=100) == ["the manifest is missing"]
    other = {**summed(plan), "x-object-manifest": "c/other-"}
    assert written_problems(plan, other, listing_of(plan), limit=100) == [
        "the manifest points at 'c/other-', not c/mi%20disco%20%C3%B1.vhd-"]


def test_same_headers_compares_the_decoded_value():
    wanted = {"X-Object-Manifest": "c/mi%20disco%20%C3%B1.vhd-", "X-Object-Meta-Build-Id": "1"}
    assert same_headers({"x-object-manifest": "c/mi disco %C3%B1.vhd-", "x-object-meta-build-id": "1"}, wanted)
    assert not same_headers({"x-object-manifest": "c/mi disco ñ.vhd-x", "x-object-meta-build-id": "1"}, wanted)
    assert not same_headers({"x-object-manifest": "c/mi%20disco%20%C3%B1.vhd-"}, wanted)
