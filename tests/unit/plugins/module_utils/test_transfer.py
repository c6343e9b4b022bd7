from __future__ import annotations

import hashlib
import json
import os

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _transfer
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import SegmentStep
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_download import local_matches
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import HttpError, RetryPolicy
from ansible_collections.cloudimages.transfer.plugins.module_utils._sizes import parse_rate
from ansible_collections.cloudimages.transfer.plugins.module_utils._swift import Swift
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import (
    Progress,
    SegmentMismatch,
    StreamBody,
    record_segment_md5s,
    recorded_segment_md5s,
    retriable,
    run_parallel,
    with_retries,
)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.mark.parametrize("exc,expected", [
    (HttpError("x", 503), True), (HttpError("x", 422), True), (HttpError("x", 429), True),
    (HttpError("x", 403), False), (HttpError("x", 404), False),
    (SegmentMismatch("bad md5"), True), (ConnectionResetError(), True),
    (TransferError("plain"), False), (TransferError("net", transport=True), True),
])
def test_retry_decisions(exc, expected):
    assert retriable(exc, RetryPolicy()) is expected


def test_stream_body_counts_and_catches_short_sources():
    body = StreamBody(iter([b"abc", b"", b"def"]), 6)
    assert len(body) == 6 and b"".join(body) == b"abcdef" and body.sent == 6
    short = StreamBody(iter([b"abc"]), 6)
    with pytest.raises(SegmentMismatch, match="3 of 6"):
        b"".join(short)


def test_with_retries_redoes_a_segment_then_names_it(monkeypatch):
    monkeypatch.setattr(_transfer.time, "sleep", lambda s: None)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise SegmentMismatch("md5 differs")
        return "ok"

    step = SegmentStep(7, "disk.vhd-00007", 10)
    assert with_retries(step, flaky, RetryPolicy(retries=5), "copy segment 00007", None) == "ok"

    def always_bad():
        raise SegmentMismatch("md5")

    with pytest.raises(TransferError, match=r"Failed to copy segment 00007 \(attempt 3\): md5") as err:
        with_retries(step, always_bad, RetryPolicy(retries=2), "copy segment 00007", None)
    assert err.value.details["segment"] == "disk.vhd-00007"
    forbidden = []

    def refused():
        forbidden.append(1)
        raise HttpError("403 Forbidden", 403)

    with pytest.raises(TransferError, match="403"):
        with_retries(step, refused, RetryPolicy(retries=5), "copy", None)
    assert len(forbidden) == 1


def test_run_parallel_stops_and_names_the_failed_segments():
    done = []

    def worker(step):
        if step.number == 2:
            raise TransferError(f"failed {step.name}", segment=step.name)
        done.append(step.number)

    steps = [SegmentStep(n, f"s-{n:05d}", 1) for n in range(1, 50)]
    with pytest.raises(TransferError) as err:
        run_parallel(steps, worker, 1)
    assert err.value.details["failed_segments"] == ["s-00002"]
    assert done == [1]  # nothing after the failure was started with concurrency 1
    with pytest.raises(TransferError, match="concurrency"):
        run_parallel(steps, worker, 0)


def test_progress_file_reports_bytes_rate_and_segment_states(tmp_path):
    path = tmp_path / "progress.json"
    steps = [SegmentStep(1, "a", 100, action="keep"), SegmentStep(2, "b", 300)]
    progress = Progress(str(path), "copy", "src", "dst", steps, interval=0)
    progress.segment("b", "transferring")
    progress.add(150)
    doc = json.loads(path.read_text())
    assert doc["bytes_total"] == 400 and doc["bytes_done"] == 250 and doc["percent"] == 62.5
    assert doc["segments"] == {"a": {"state": "kept", "size": 100}, "b": {"state": "transferring", "size": 300}}
    assert doc["rate_bytes_per_second"] > 0 and doc["eta_seconds"] is not None
    progress.finish("done")
    assert json.loads(path.read_text())["state"] == "done"


def steps_of(parts: list) -> list:
    """SegmentSteps for a file made of these parts, one segment each."""
    steps, offset = [], 0
    for n, part in enumerate(parts, 1):
        steps.append(SegmentStep(n, f"s-{n:05d}", len(part), offset, md5(part)))
        offset += len(part)
    return steps


def test_resume_keeps_only_segments_the_partial_file_holds_correctly(tmp_path):
    parts = [b"a" * 8, b"b" * 8, b"c" * 3]
    steps = steps_of(parts)
    partial = tmp_path / "f.part"
    partial.write_bytes(b"a" * 8 + b"X" * 8 + b"c" * 2)  # 2 damaged, 3 short
    assert [s.name for s in local_matches(str(partial), steps)] == ["s-00001"]
    partial.write_bytes(b"".join(parts))
    assert len(local_matches(str(partial), steps)) == 3
    assert local_matches(str(tmp_path / "none"), steps) == []


def recorded_file(tmp_path, parts):
    path = tmp_path / "image.raw"
    path.write_bytes(b"".join(parts))
    steps = steps_of(parts)
    fd = os.open(path, os.O_RDONLY)
    try:
        if not record_segment_md5s(fd, steps):
            pytest.skip("this filesystem keeps no user extended attributes")
    finally:
        os.close(fd)
    return path, steps


def recall(path, segment_size):
    fd = os.open(path, os.O_RDONLY)
    try:
        return recorded_segment_md5s(fd, segment_size)
    finally:
        os.close(fd)


def test_recorded_md5s_serve_the_same_layout_only(tmp_path):
    path, steps = recorded_file(tmp_path, [b"a" * 8, b"b" * 8, b"c" * 3])
    assert recall(path, 8) == {s.offset: s.md5 for s in steps}
    assert recall(path, 4) == {}  # another segment size cuts other chunks
    assert recall(path, 19) == {}


def test_recorded_md5s_are_dropped_when_the_file_changes(tmp_path):
    path = recorded_file(tmp_path, [b"a" * 8, b"b" * 8])[0]
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert recall(path, 8) == {}
    path = recorded_file(tmp_path, [b"a" * 8, b"b" * 8])[0]
    with open(path, "ab") as f:
        f.write(b"more")
    assert recall(path, 8) == {}


def test_an_irregular_layout_or_a_damaged_record_is_not_used(tmp_path):
    path = tmp_path / "image.raw"
    path.write_bytes(b"a" * 4 + b"b" * 8)
    fd = os.open(path, os.O_RDWR)
    try:
        steps = [SegmentStep(1, "s-1", 4, 0, md5(b"a" * 4)), SegmentStep(2, "s-2", 8, 4, md5(b"b" * 8))]
        assert record_segment_md5s(fd, steps) is False
        if hasattr(os, "setxattr"):
            try:
                os.setxattr(fd, _transfer.MD5_RECORD_XATTR, b"not json\n" + b"x" * 16)
            except OSError:
                pytest.skip("this filesystem keeps no user extended attributes")
            assert recorded_segment_md5s(fd, 4) == {}
    finally:
        os.close(fd)


class PagedHttp:
    """Answers container listings page by page, like Swift at a listing limit of 2."""

    def __init__(self, names):
        self.names, self.requests = names, []

    def request(self, method, url, what, params=None, ok=(), **kwargs):
        self.requests.append(dict(params or {}))
        marker = (params or {}).get("marker", "")
        page = [n for n in self.names if n > marker][:2]
        resp = type("R", (), {})()
        resp.status_code = 200 if page else 204
        resp.json = lambda: [{"name": n, "bytes": 1, "hash": "0" * 32} for n in page]
        return resp


def test_listing_follows_markers_to_the_end():
    swift = Swift.__new__(Swift)
    swift.http, swift.url, swift.region = PagedHttp([f"o-{i:05d}" for i in range(1, 6)]), "http://s/v1/AUTH_x", "R1"
    listed = swift.list_objects("c", "o-")
    assert [o["name"] for o in listed] == [f"o-{i:05d}" for i in range(1, 6)]
    assert [r.get("marker") for r in swift.http.requests] == [None, "o-00002", "o-00004", "o-00005"]


class FakeClock:
    def __init__(self):
        self.now, self.slept = 0.0, 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        self.slept += seconds


def test_rate_limit_holds_the_cap_after_one_burst(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(_transfer.time, "monotonic", clock.monotonic)
    monkeypatch.setattr(_transfer.time, "sleep", clock.sleep)
    limit = _transfer.RateLimit(8 * 1048576)  # 8 MiB/s: a burst of 2 MiB
    for chunk in [1048576] * 64:  # 64 MiB in 1 MiB chunks
        limit.take(chunk)
    assert clock.now == pytest.approx((64 - 2) / 8, rel=0.01)  # all but the burst at the cap


def test_no_cap_never_sleeps(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(_transfer.time, "sleep", clock.sleep)
    limit = _transfer.RateLimit(0)
    for chunk in [1048576] * 100:
        limit.take(chunk)
    assert clock.slept == 0


@pytest.mark.parametrize("given,rate", [("0", 0), (1048576, 1048576), ("50MiB", 50 * 1048576), ("50MiB/s", 50 * 1048576),
                                        (" 1G/s ", 1024 ** 3), ("512k", 512 * 1024)])
def test_rates_as_users_write_them(given, rate):
    assert parse_rate(given) == rate


@pytest.mark.parametrize("given", ["fast", "-5", "1.5MiB", "10MB/h"])
def test_bad_rates_say_what_is_wanted(given):
    with pytest.raises(TransferError, match="max_rate must be bytes per second"):
        parse_rate(given)
