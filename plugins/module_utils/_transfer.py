# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""The transfer engine: bounded parallelism, per-segment retries, streaming bodies, progress.

Bodies stream in 1 MiB chunks (each byte read once), so memory is about concurrency x a
few chunks whatever the object's size. Every segment PUT carries its MD5 as ETag and the
server refuses a mismatch; downloads hash inline as the bytes arrive. A segment that fails in a
retriable way (transport error, 5xx/408/429, an MD5 that does not match, a short read) is
redone from its start, a bounded number of times, then reported by name.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import http.client
import json
import os
import threading
import time

from ansible_collections.cloudimages.transfer.plugins.module_utils import _cancel
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import chunk_layout
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError, scrub
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import COPY_CHUNK, HttpError, RetryPolicy
from ansible_collections.cloudimages.transfer.plugins.module_utils._local_files import local_error, write_atomically

try:
    import requests
    import urllib3
    TRANSPORT_ERRORS = (OSError, http.client.HTTPException, requests.RequestException, urllib3.exceptions.HTTPError)
except ImportError:  # reported by the connection layer
    TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


class SegmentMismatch(TransferError):
    """Bytes that do not match what the listing promised: corruption or truncation on the way."""


def retriable(exc: BaseException, policy: RetryPolicy) -> bool:
    if local_error(exc):  # permissions, space, a planted link: the user's to fix
        return False
    if isinstance(exc, HttpError):
        # 422: the server computed another MD5 than the ETag we sent: the body was damaged in transit
        return policy.retriable_status(exc.status) or exc.status == 422
    if isinstance(exc, SegmentMismatch):
        return True
    if isinstance(exc, TransferError):
        return bool(exc.details.get("transport"))
    return isinstance(exc, TRANSPORT_ERRORS)


class RateLimit:
    """A cap on the bytes per second that enter the process, shared by all of its threads: each
    chunk is paid for when read, and a reader whose chunk puts the account in debt sleeps until
    the debt is paid (in steps of at most a second, so that a cancel is seen). At most a quarter
    of a second's worth, and at least one chunk, may pass in a burst."""

    def __init__(self, rate: int = 0):
        self.lock = threading.Lock()
        self.set(rate)

    def set(self, rate: int) -> None:
        with self.lock:
            self.rate = max(int(rate or 0), 0)
            self.burst = max(self.rate / 4.0, float(COPY_CHUNK))
            self.tokens, self.last = self.burst, time.monotonic()

    def take(self, nbytes: int) -> None:
        if not self.rate:
            return
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate) - nbytes
            self.last = now
            wait = -self.tokens / self.rate if self.tokens < 0 else 0.0
        while wait > 0:
            _cancel.check()
            time.sleep(min(wait, 1.0))
            wait -= 1.0


RATE = RateLimit()  # set once per module run from max_rate (swift_dlo_*, image_export)


class StreamBody:
    """A request body of known length that counts its chunks (for progress) as they are sent.

    It has __len__ and __iter__ but no read(): requests then sends Content-Length and the
    transport writes each 1 MiB chunk as it comes, instead of 8 KiB reads. It does not hash:
    every PUT carries its ETag, and the server hashes what it stores and refuses a mismatch.
    """

    def __init__(self, chunks, length: int, progress=None):
        self.chunks, self.length, self.progress = chunks, length, progress
        self.sent = 0

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        for chunk in self.chunks:
            _cancel.check()  # a cancelled transfer abandons the request in flight
            if not chunk:
                continue
            self.sent += len(chunk)
            if self.progress:
                self.progress.add(len(chunk))
            yield chunk
        if self.sent != self.length:
            raise SegmentMismatch(f"source gave {self.sent} of {self.length} bytes")


def response_chunks(resp):
    """A streamed response's body in 1 MiB chunks (ending at the first chunk after a cancel)."""
    for chunk in resp.raw.stream(COPY_CHUNK, decode_content=False):
        _cancel.check()
        RATE.take(len(chunk))
        yield chunk


def file_chunks(fd: int, offset: int, size: int):
    """``size`` bytes of an open file from ``offset``, in 1 MiB chunks (pread: threads share the fd)."""
    end = offset + size
    while offset < end:
        _cancel.check()
        chunk = os.pread(fd, min(COPY_CHUNK, end - offset), offset)
        if not chunk:
            raise SegmentMismatch(f"the local file ended at byte {offset}, before {end}")
        RATE.take(len(chunk))
        offset += len(chunk)
        yield chunk


def drop_cached(fd: int, offset: int, size: int) -> None:
    """Let the kernel drop a file range this transfer has finished with from the page cache.

    Images are gigabytes read or written once: kept cached they push out what the machine
    uses, and the freed pages are what the next segment reuses. Only clean pages go (the
    caller flushes a range it wrote first); a platform without posix_fadvise keeps them.
    """
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, offset, size, os.POSIX_FADV_DONTNEED)
        except OSError:
            pass


def md5_of_file_range(fd: int, offset: int, size: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in file_chunks(fd, offset, size):
        digest.update(chunk)
    return digest.hexdigest()


# What swift_dlo_download verified, kept on the file it wrote: a JSON line naming the file's
# size, mtime and segment size, then each segment's MD5 as 16 raw bytes. ext4 keeps about 4 KiB
# of extended attributes per file, so about 240 segments; a longer list is not kept.
MD5_RECORD_XATTR = "user.cloudimages.transfer.segment_md5s"


def record_segment_md5s(fd: int, steps: list) -> bool:
    """Note on the file the MD5 of each segment just written and verified; best effort.

    Only a regular layout (equal segments, the last one shorter or equal) is noted, since
    that is the only layout swift_dlo_upload cuts. False when nothing was kept (no
    extended attributes on this filesystem, too many segments, an irregular layout).
    """
    if not steps or not hasattr(os, "setxattr") or any(s.md5 is None for s in steps):
        return False
    st = os.fstat(fd)
    if [(s.offset, s.size) for s in steps] != chunk_layout(st.st_size, steps[0].size):
        return False
    head = json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "segment_size": steps[0].size})
    try:
        os.setxattr(fd, MD5_RECORD_XATTR, head.encode() + b"\n" + b"".join(bytes.fromhex(s.md5) for s in steps))
    except (OSError, ValueError):
        return False
    return True


def recorded_segment_md5s(fd: int, segment_size: int) -> dict:
    """{offset: md5} from a record on the file, if it still describes the file and this layout.

    The file's size and mtime must be those recorded, and cutting the file by segment_size
    must give the recorded segments. The values are claims, not proofs: an upload sends each
    as its segment's ETag and the server refuses bytes that do not match it.
    """
    try:
        raw = os.getxattr(fd, MD5_RECORD_XATTR)
        head, digests = raw.split(b"\n", 1)
        doc = json.loads(head)
        st = os.fstat(fd)
        if doc["size"] != st.st_size or doc["mtime_ns"] != st.st_mtime_ns:
            return {}
        layout = chunk_layout(st.st_size, segment_size)
        if layout != chunk_layout(st.st_size, doc["segment_size"]) or len(digests) != 16 * len(layout):
            return {}
    except (AttributeError, OSError, ValueError, KeyError, TypeError, TransferError):
        return {}
    return {offset: digests[16 * i:16 * i + 16].hex() for i, (offset, _size) in enumerate(layout)}


class Progress:
    """A machine-readable progress file, rewritten atomically: at most once a second as bytes
    move, and within a tenth of a second when a segment changes state (at once when one fails).

    {"operation", "source", "target", "state", "bytes_done", "bytes_total", "percent",
     "rate_bytes_per_second", "eta_seconds", "segments": {name: {"state", "size"}}, ...}
    """

    def __init__(self, path: str | None, operation: str, source: str, target: str, steps: list,
                 interval: float = 1.0):
        self.path, self.interval = path, interval
        self.lock = threading.Lock()
        self.started = time.time()
        self.last_write = 0.0
        self.moved = 0  # bytes moved by this run (kept segments count as done, not as moved)
        self.doc = {
            "operation": operation, "source": source, "target": target, "state": "running",
            "bytes_total": sum(s.size for s in steps),
            "bytes_done": sum(s.size for s in steps if s.action == "keep"),
            "segments": {s.name: {"state": "kept" if s.action == "keep" else "pending", "size": s.size}
                         for s in steps},
            "started_at": self.started,
        }
        self.write(force=True)

    def add(self, nbytes: int) -> None:
        with self.lock:
            self.moved += nbytes
            self.doc["bytes_done"] += nbytes
        self.write()

    def segment(self, name: str, state: str) -> None:
        """A segment changed state: written at once if it failed, within a tenth of a second otherwise."""
        with self.lock:
            self.doc["segments"].setdefault(name, {})["state"] = state
        self.write(force=state in ("failed",), interval=0.1)

    def finish(self, state: str) -> None:
        with self.lock:
            self.doc["state"] = state
        self.write(force=True)

    def write(self, force: bool = False, interval: float | None = None) -> None:
        if not self.path:
            return
        now = time.time()
        with self.lock:
            if not force and now - self.last_write < (self.interval if interval is None else interval):
                return
            self.last_write = now
            elapsed = max(now - self.started, 1e-6)
            rate = self.moved / elapsed
            remaining = self.doc["bytes_total"] - self.doc["bytes_done"]
            self.doc.update(
                updated_at=now, elapsed_seconds=round(elapsed, 3), rate_bytes_per_second=round(rate),
                percent=round(100.0 * self.doc["bytes_done"] / self.doc["bytes_total"], 1) if self.doc["bytes_total"] else 100.0,
                eta_seconds=round(remaining / rate, 1) if rate > 0 else None)
            text = json.dumps(self.doc, sort_keys=True)
        write_atomically(self.path, text)


def with_retries(step, attempt_fn, policy: RetryPolicy, what: str, progress: Progress | None):
    """Run attempt_fn() until it succeeds; retriable failures are retried, then reported by name."""
    attempt = 0
    while True:
        try:
            return attempt_fn()
        except Exception as exc:  # classified below; anything unexpected is re-raised as it is
            if isinstance(exc, _cancel.Cancelled) or _cancel.CANCEL.is_set():
                _cancel.check()
                raise
            if not isinstance(exc, TransferError) and not isinstance(exc, TRANSPORT_ERRORS):
                raise
            if retriable(exc, policy) and attempt < policy.retries:
                time.sleep(policy.delay(attempt))
                attempt += 1
                continue
            if progress:
                progress.segment(step.name, "failed")
            text = str(exc) if isinstance(exc, TransferError) else scrub(f"{exc.__class__.__name__}: {exc}")
            raise TransferError(f"Failed to {what} (attempt {attempt + 1}): {text}", segment=step.name) from None


def run_parallel(steps: list, worker, concurrency: int) -> list:
    """worker(step) for every step, ``concurrency`` at a time; stop at the first failure.

    Work not started when a step fails is cancelled; what is in flight is let finish. The
    first failure is raised, with every failed segment named in its details.
    """
    if concurrency < 1:
        raise TransferError(f"concurrency must be at least 1, got {concurrency}")
    results, failures = [], []
    stop = threading.Event()

    def guarded(step):
        if stop.is_set():
            return None
        _cancel.check()  # queued segments are dropped once the transfer is cancelled
        try:
            return worker(step)
        except BaseException:
            stop.set()
            raise

    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = {pool.submit(guarded, step): step for step in steps}
        for future in concurrent.futures.as_completed(futures):
            try:
                results.append(future.result())
            except concurrent.futures.CancelledError:
                continue
            except TransferError as exc:
                failures.append(exc)
                for other in futures:
                    other.cancel()
    if failures:
        first = failures[0]
        first.details["failed_segments"] = sorted(f.details.get("segment", "?") for f in failures)
        raise first
    return results
