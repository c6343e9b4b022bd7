# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""swift_dlo_download: a DLO to a local file, verified end to end, renamed into place last.

Bytes go to a temporary file beside the destination (``.<name>.part``, with a small
``.<name>.part.json`` naming the DLO it belongs to). In ``segments`` mode each segment is
fetched on its own, MD5-checked against the listing and written at its offset; a rerun
re-hashes what the temporary file holds and fetches only bad or missing segments. In
``whole`` mode one GET streams the manifest and the segment boundaries from the listing
let every segment's MD5 be checked on the way. Either way the whole is checked (size and
ETag-of-ETags) before the rename; the destination never holds a partial file.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass

from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import SegmentStep, summarize, unquote_etag
from ansible_collections.cloudimages.transfer.plugins.module_utils._large_object import piece_steps, read_verified_source
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._local_files import open_own, read_json, write_json
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import (
    Progress,
    SegmentMismatch,
    drop_cached,
    md5_of_file_range,
    record_segment_md5s,
    response_chunks,
    run_parallel,
    with_retries,
)


def temp_paths(dest: str) -> tuple[str, str]:
    directory, base = os.path.split(os.path.abspath(dest))
    part = os.path.join(directory, f".{base}.part")
    return part, part + ".json"


def local_matches(path: str, steps: list) -> list:
    """The steps whose bytes the file at path already holds (by offset, size and MD5)."""
    if not os.path.isfile(path):
        return []
    try:
        fd = open_own(path, os.O_RDONLY)
    except TransferError:
        return []  # not ours (a link or another user's file): nothing in it counts, and writing it is refused
    try:
        length = os.fstat(fd).st_size
        return [s for s in steps if s.offset + s.size <= length and md5_of_file_range(fd, s.offset, s.size) == s.md5]
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Options:
    """What swift_dlo_download was asked to do, unpacked once from the module's parameters."""

    container: str
    object: str
    dest: str
    mode: str = "segments"
    layout: str = "any"
    force: bool = False
    concurrency: int = 4
    progress_file: str | None = None

    from_params = classmethod(from_params)


def run(opts: Options, swift, check_mode: bool) -> dict:
    """Find the source, plan what the local files lack, fetch it, and report."""
    check_destination(opts.dest)
    dlo, warnings = read_verified_source(swift, opts.container, opts.object, opts.layout)
    pairs = piece_steps(dlo)
    steps, pieces = [pair[0] for pair in pairs], {step.number: piece for step, piece in pairs}
    result = {"object": f"{opts.container}/{opts.object}", "region": swift.region, "dest": opts.dest, "size": dlo.size,
              "etag": dlo.etag, "kind": dlo.kind, "download_mode": opts.mode}
    if warnings:
        result["warnings"] = warnings
    if destination_identical(opts, dlo, steps):
        return {**result, "changed": False, "bytes_fetched": 0, "segments": [s.as_dict() for s in steps],
                "msg": f"{opts.dest} already holds {opts.container}/{opts.object} ({len(steps)} segments verified by "
                       "MD5); nothing to do"}
    identity = {"region": swift.region, "object": f"{opts.container}/{opts.object}", "etag": dlo.etag, "size": dlo.size}
    todo = plan_fetch(opts, identity, steps)
    result.update(changed=True, plan=summarize(steps), segments=[s.as_dict() for s in steps],
                  diff={"before": {"path": opts.dest, "exists": os.path.exists(opts.dest)},
                        "after": {"path": opts.dest, "size": dlo.size, "etag": dlo.etag}})
    if check_mode:
        result["bytes_fetched"] = 0
        result["msg"] = f"would fetch {len(todo)} of {len(steps)} segments of {opts.container}/{opts.object} into {opts.dest}"
        return result
    result["md5s_recorded"] = fetch_into_place(opts, swift, dlo, identity, steps, todo, pieces)
    result["bytes_fetched"] = sum(s.size for s in todo)
    for step in todo:
        step.action = "fetched"
    result["segments"] = [s.as_dict() for s in steps]
    result["msg"] = (f"fetched {len(todo)} of {len(steps)} segments of {opts.container}/{opts.object} ({dlo.size} "
                     f"bytes) into {opts.dest}; every segment and the whole verified")
    return result


def check_destination(dest: str) -> None:
    """A file path in a writable directory that exists."""
    directory = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(directory):
        raise TransferError(f"The destination directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise TransferError(f"The destination directory {directory} is not writable")
    if os.path.isdir(dest):
        raise TransferError(f"The destination {dest} is a directory; give a file path")


def destination_identical(opts: Options, dlo, steps: list) -> bool:
    """True when dest already holds the object (every segment by MD5); a different dest is
    replaced only with force."""
    if not os.path.exists(opts.dest):
        return False
    if os.path.getsize(opts.dest) == dlo.size and len(local_matches(opts.dest, steps)) == len(steps):
        for step in steps:
            step.action, step.reason = "keep", "destination already identical"
        return True
    if not opts.force:
        raise TransferError(f"{opts.dest} exists and differs from {opts.container}/{opts.object}; "
                            "set force=true to replace it")
    return False


def plan_fetch(opts: Options, identity: dict, steps: list) -> list:
    """Mark each segment kept (the temporary file of an earlier run of the same object holds
    it, verified by MD5) or to fetch; the segments to fetch."""
    part, meta = temp_paths(opts.dest)
    resumable = opts.mode == "segments" and os.path.exists(meta) and read_json(meta) == identity
    held = {s.name for s in local_matches(part, steps)} if resumable else set()
    for step in steps:
        step.action, step.reason = ("keep", "already fetched and verified") if step.name in held else ("transfer", "missing")
    return [s for s in steps if s.action != "keep"]


def fetch_into_place(opts: Options, swift, dlo, identity: dict, steps: list, todo: list, pieces: dict) -> bool:
    """Fetch into the temporary file, then rename it onto dest; whether the segments' MD5s were
    recorded on the file (for a later upload of it)."""
    part, meta = temp_paths(opts.dest)
    write_json(meta, identity)
    fd = open_own(part, os.O_RDWR | os.O_CREAT)
    try:
        os.ftruncate(fd, dlo.size)
        progress = Progress(opts.progress_file, "download", f"{swift.region}:{opts.container}/{opts.object}", opts.dest,
                            steps)
        with BackgroundSync(fd) as syncer:
            if opts.mode == "whole":
                fetch_whole(swift, dlo, fd, steps, progress)
            else:
                run_parallel(todo, lambda step: fetch_segment(swift, pieces[step.number], fd, step, progress,
                                                              syncer.poke), opts.concurrency)
        os.fsync(fd)
        # for a later swift_dlo_upload of this file: the ETags it sends need no second MD5 pass
        recorded = record_segment_md5s(fd, steps)
    finally:
        os.close(fd)
    # Every byte range is verified by now: kept segments were hashed from the file when planning,
    # fetched ones as they arrived (a mismatch raised), and the listing's ETag-of-ETags matched
    # the manifest's ETag when it was read. Hashing the file a second time would re-read the
    # page cache, not the disk, and cost a whole MD5 pass.
    if os.path.getsize(part) != dlo.size:
        raise TransferError(f"The temporary file {part} is {os.path.getsize(part)} bytes, not the "
                            f"{dlo.size} of {opts.container}/{opts.object}; it is kept for the next run")
    os.chmod(part, 0o644 & ~current_umask())
    os.replace(part, opts.dest)
    os.unlink(meta)
    progress.finish("done")
    return recorded


class BackgroundSync:
    """Flushes the temporary file to disk while the download goes on.

    The rename must follow an fsync (or a crash could leave the destination name on
    unwritten blocks), and one fsync of gigabytes at the end is seconds spent doing nothing
    else. poke() after each verified segment lets a thread flush what is written so far, so
    the final fsync has only the tail left, and then drop the flushed pages from the cache.
    """

    def __init__(self, fd: int):
        self.fd, self.wanted, self.done = fd, threading.Event(), False
        self.finished, self.lock = [], threading.Lock()
        self.thread = threading.Thread(target=self.loop, name="dlo-download-sync", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done = True
        self.wanted.set()
        self.thread.join()

    def poke(self, offset: int, size: int) -> None:
        """A segment is written and verified: flush it, then let its pages go."""
        with self.lock:
            self.finished.append((offset, size))
        self.wanted.set()

    def loop(self) -> None:
        while True:
            self.wanted.wait()
            self.wanted.clear()
            if self.done:
                return
            with self.lock:
                ranges, self.finished = self.finished, []
            try:
                os.fdatasync(self.fd)
            except OSError:
                return  # the final fsync, on the main thread, reports a failing disk
            for offset, size in ranges:
                drop_cached(self.fd, offset, size)


def fetch_segment(swift, piece, fd: int, step, progress, finished=lambda offset, size: None) -> None:
    """Fetch one piece into its place in the file, checked by MD5 (or, for a byte range of a
    segment, by length and the segment's unchanged ETag)."""
    def attempt():
        progress.segment(step.name, "transferring")
        if piece.data is not None:  # an SLO's inline data: nothing to fetch
            os.pwrite(fd, piece.data, step.offset)
            progress.add(len(piece.data))
            progress.segment(step.name, "verified")
            finished(step.offset, step.size)
            return
        resp = swift.get_object(piece.container, piece.name, headers=piece.range_header)
        digest, position = hashlib.md5(usedforsecurity=False), step.offset
        try:
            for chunk in response_chunks(resp):
                if position + len(chunk) > step.offset + step.size:
                    raise SegmentMismatch(f"segment {step.name} is longer than its listing's {step.size} bytes")
                os.pwrite(fd, chunk, position)
                digest.update(chunk)
                position += len(chunk)
                progress.add(len(chunk))
        except BaseException:
            progress.add(step.offset - position)
            raise
        finally:
            resp.close()
        got = position - step.offset
        held = unquote_etag(resp.headers.get("Etag"))
        if got != step.size or (step.md5 and digest.hexdigest() != step.md5) or (not step.md5 and held != piece.etag):
            progress.add(-got)
            raise SegmentMismatch(f"segment {step.name} arrived as {got} bytes with MD5 {digest.hexdigest()} "
                                  f"(object ETag {held}); its manifest says {step.size} bytes with MD5 "
                                  f"{step.md5 or piece.etag}")
        progress.segment(step.name, "verified")
        finished(step.offset, step.size)

    with_retries(step, attempt, swift.http.policy, f"download segment {step.name} of {swift.where(piece.container)}",
                 progress)


def fetch_whole(swift, dlo, fd: int, steps: list, progress) -> None:
    """One GET of the manifest; the listing's sizes split the stream so each segment is checked."""
    def attempt():
        added = 0
        resp = swift.get_object(dlo.container, dlo.name)
        try:
            # Swift gives no length for a DLO whose listing takes more than one page
            length = resp.headers.get("Content-Length")
            if length is not None and int(length) != dlo.size:
                raise SegmentMismatch(f"the manifest GET announces {length} bytes; the listing adds up to {dlo.size}")
            position, index, digest = 0, 0, hashlib.md5(usedforsecurity=False)
            for chunk in response_chunks(resp):
                if position + len(chunk) > dlo.size:
                    raise SegmentMismatch(f"the manifest GET gives more than the listing's {dlo.size} bytes")
                os.pwrite(fd, chunk, position)
                progress.add(len(chunk))
                added += len(chunk)
                while chunk:
                    step = steps[index]
                    take = min(len(chunk), step.offset + step.size - position)
                    digest.update(chunk[:take])
                    chunk, position = chunk[take:], position + take
                    if position == step.offset + step.size:
                        if step.md5 and digest.hexdigest() != step.md5:
                            raise SegmentMismatch(f"segment {step.name} arrived with MD5 {digest.hexdigest()}; "
                                                  f"its listing says {step.md5}")
                        index, digest = index + 1, hashlib.md5(usedforsecurity=False)
            if position != dlo.size:
                raise SegmentMismatch(f"the manifest GET ended after {position} of {dlo.size} bytes")
        except BaseException:
            progress.add(-added)
            raise
        finally:
            resp.close()

    whole = SegmentStep(0, dlo.name, dlo.size)
    with_retries(whole, attempt, swift.http.policy, f"download {swift.where(dlo.container, dlo.name)}", None)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
