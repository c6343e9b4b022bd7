# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""A local disk image converted to another format with ``qemu-img``, verified, then renamed.

Formats carry Glance's names (``vhd`` is qemu-img's ``vpc`` driver, the one thing a converting
Glance gets wrong). The input's format is always given (the role knows it from Glance; probing
is how a "raw" image that is really a qcow2 gets opened as one) and the input is an untrusted
image: its headers are read in Python first (``_image_inspect``: allow-listed formats, no file
it names, its bytes the format it is said to be, a virtual size within ``max_virtual_size``),
and only then does qemu-img open it, format named, under limits (``_qemu_img``). It is refused
before anything is written when qemu-img cannot read it or ``qemu-img check`` finds it damaged
(leaked clusters alone, common in crash-consistent snapshots, are accepted with a warning),
and when the folder of ``dest`` has no room for the output (a raw output as large as the
virtual size).

The output is written inside a private folder beside ``dest`` (mkdtemp, 0700; the file 0600)
and renamed over ``dest`` only when it passes the same inspection and ``qemu-img info`` reads it
back in the wanted format with the input's virtual size (VHD is written dynamic with
``force_size``, so its geometry does not round the size up). A record beside it
(``.<dest>.convert.json``, a regular file of this user, opened without following links) names
the input (path, size, mtime) and the output (size, mtime, and its MD5 unless ``checksum`` is
off: one more read of the output, which costs more than the conversion itself while the data is
in the page cache): a rerun with the same input and an untouched output changes nothing, and
an existing ``dest`` that no record explains is replaced only with ``force``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import threading
import time
from dataclasses import dataclass

from ansible_collections.cloudimages.transfer.plugins.module_utils import _cancel, _image_inspect, _qemu_img
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import SegmentStep
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._local_files import read_json, write_atomically
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params
from ansible_collections.cloudimages.transfer.plugins.module_utils._qemu_img import QEMU_FORMATS, glance_format
from ansible_collections.cloudimages.transfer.plugins.module_utils._sizes import human
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import Progress

WRITABLE = ("raw", "qcow2", "vhd", "vmdk")
READABLE = ("raw", "qcow2", "vhd", "vhdx", "vmdk")
CREATE_OPTIONS = {"vhd": ["-o", "subformat=dynamic,force_size=on"], "qcow2": ["-o", "compat=1.1"],
                  "vmdk": ["-o", "subformat=streamOptimized"]}
CHECKABLE = ("qcow2", "vmdk", "vhdx")
CHECK_LEAKS_ONLY = 3  # qemu-img check: leaked clusters, no corruption
CHECK_UNSUPPORTED = 63
CHUNK = 4 * 1024 * 1024
# a qcow2, VHD or VMDK output holds the input's data plus its own tables (a few MiB per TiB)
METADATA_ALLOWANCE = 64 * 1024 * 1024


def record_path(dest: str) -> str:
    return os.path.join(os.path.dirname(dest) or ".", f".{os.path.basename(dest)}.convert.json")


def identity(path: str) -> dict:
    st = os.stat(path)
    return {"path": os.path.realpath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def read_record(dest: str) -> dict | None:
    record = read_json(record_path(dest))
    return record if isinstance(record, dict) else None


def inspect(tool: str, path: str, fmt: str, opts: Options, warnings: list) -> dict:
    """The input's headers read in Python (refusing what is unsafe), then ``qemu-img info`` and,
    where the format has one, ``qemu-img check``, both with the format named and under limits."""
    found = _image_inspect.inspect(path, fmt, opts.max_virtual_size or None)  # 0: no limit
    rc, out, err = _qemu_img.run(tool, ["info", "--output=json", "-f", QEMU_FORMATS[fmt], path],
                                 **_qemu_img.INFO_LIMITS)
    if rc != 0:
        raise TransferError(f"{path} is not a readable {fmt} image: {_qemu_img.said(err)}")
    info = json.loads(out)
    if info.get("backing-filename") or info.get("full-backing-filename") or \
            ((info.get("format-specific") or {}).get("data") or {}).get("data-file"):
        raise TransferError(f"{path} refers to another file; refusing to convert it (the output would hold that "
                            "file's data)")
    # qemu-img may read a VHD smaller than its footer says (from its CHS geometry), never larger:
    # a larger size would be a disk the size bound above did not see
    if info.get("virtual-size", 0) > found.virtual_size:
        raise TransferError(f"{path}: qemu-img reads a virtual size of {info.get('virtual-size')}, its headers "
                            f"say {found.virtual_size}; refusing to convert it")
    if fmt in CHECKABLE:
        rc, out, err = _qemu_img.run(tool, ["check", "--output=json", "-f", QEMU_FORMATS[fmt], path],
                                     timeout=opts.timeout)
        if rc == CHECK_LEAKS_ONLY:
            leaks = (json.loads(out or "{}") or {}).get("leaks", "some")
            warnings.append(f"{path}: qemu-img check found {leaks} leaked clusters (space the image wastes, common "
                            "in crash-consistent snapshots) and no corruption; converting it")
        elif rc not in (0, CHECK_UNSUPPORTED):
            raise TransferError(f"{path} is a damaged {fmt} image (qemu-img check: {_qemu_img.said(err, out)})")
    info["glance_format"] = fmt
    return info


def output_room(fmt: str, source: dict) -> int:
    """Bytes the output may take: a raw disk is as large as the virtual size; the other formats
    hold the input's allocated data and their own tables, never more than the raw disk would."""
    if fmt == "raw":
        return source["virtual_size"]
    return min(source["allocated"], source["virtual_size"]) + METADATA_ALLOWANCE


def check_room(dest: str, fmt: str, source: dict) -> None:
    folder = os.path.dirname(os.path.abspath(dest))
    need, free = output_room(fmt, source), shutil.disk_usage(folder).free
    if need > free:
        raise TransferError(f"{folder} has {human(free)} free; the {fmt} output of a disk of virtual size "
                            f"{human(source['virtual_size'])} may need {human(need)}. Nothing was written")


def plan(opts: Options, tool: str, warnings: list) -> dict:
    """What must happen: {"action": "none"|"convert", "why", "source": info, ...}."""
    src, dest = opts.src, opts.dest
    want = glance_format(opts.dest_format)
    if not os.path.isfile(src):
        raise TransferError(f"Source {src} does not exist or is not a regular file")
    if os.path.isdir(dest):
        raise TransferError(f"dest {dest} is a directory; give the output file's path")
    if not os.path.isdir(os.path.dirname(os.path.abspath(dest))):
        raise TransferError(f"The directory of dest {dest} does not exist")
    if os.path.realpath(src) == os.path.realpath(dest):
        raise TransferError("src and dest are the same file")
    info = inspect(tool, src, glance_format(opts.src_format), opts, warnings)
    source = {**identity(src), "format": info["glance_format"], "virtual_size": info["virtual-size"]}
    found = {"source": source, "dest_format": want, "allocated": os.stat(src).st_blocks * 512}
    if not os.path.lexists(dest):
        return {**found, "action": "convert", "why": f"{dest} does not exist"}
    held = os.lstat(dest)
    if not stat.S_ISREG(held.st_mode) or held.st_uid != os.geteuid():
        raise TransferError(f"dest {dest} is not a regular file of this user; refusing to replace it")
    record = read_record(dest)
    if record and record.get("source") == source and record.get("dest", {}).get("format") == want:
        if (held.st_size, held.st_mtime_ns) == (record["dest"]["size"], record["dest"]["mtime_ns"]):
            return {**found, "action": "none", "record": record,
                    "why": f"{dest} holds the {want} conversion of this {source['format']} input (by its record)"}
    if not opts.force:
        raise TransferError(f"{dest} exists and no record shows it is the {want} conversion of {src}; "
                            "set force=true to replace it")
    return {**found, "action": "convert", "why": f"{dest} exists but is not the {want} conversion of this input"}


class ProgressWatch:
    """Writes the progress file while qemu-img runs: the bytes of the input that qemu-img has
    read (``rchar`` of its /proc/<pid>/io, Linux), of the input's size. Sparse inputs jump."""

    def __init__(self, progress, total: int):
        self.progress, self.total = progress, total
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.seen = 0

    def children(self) -> list:
        found = []
        for task in os.listdir(f"/proc/{os.getpid()}/task"):
            try:
                with open(f"/proc/{os.getpid()}/task/{task}/children", encoding="ascii") as f:
                    found += f.read().split()
            except OSError:
                continue
        return found

    def watch(self) -> None:
        while not self.stop.wait(0.5):
            for pid in self.children():
                try:
                    with open(f"/proc/{pid}/io", encoding="ascii") as f:
                        read = int(next(line for line in f if line.startswith("rchar:")).split()[1])
                except (OSError, StopIteration, ValueError):
                    continue
                read = min(read, self.total)
                if read > self.seen:
                    self.progress.add(read - self.seen)
                    self.seen = read

    def __enter__(self):
        if self.progress:
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.progress:
            self.thread.join()
            if exc[0] is None and self.total > self.seen:  # read through (sparse parts are never read)
                self.progress.add(self.total - self.seen)


def md5_of(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
            _cancel.check()
    return digest.hexdigest()


def convert(opts: Options, found: dict, tool: str, warnings: list, progress=None) -> dict:
    """Convert into a private folder beside dest, verify, rename; write the record."""
    src, dest, want = opts.src, opts.dest, found["dest_format"]
    source = found["source"]
    check_room(dest, want, {**source, "allocated": found["allocated"]})
    scratch = tempfile.mkdtemp(prefix=f".{os.path.basename(dest)}.convert-", dir=os.path.dirname(os.path.abspath(dest)))
    try:
        out = os.path.join(scratch, "disk")
        started = time.monotonic()
        with ProgressWatch(progress, source["size"]):
            rc, _out, err = _qemu_img.run(tool, ["convert", "-f", QEMU_FORMATS[source["format"]], "-O",
                                                 QEMU_FORMATS[want], *CREATE_OPTIONS.get(want, []), src, out],
                                          timeout=opts.timeout)
        seconds = time.monotonic() - started
        if rc != 0:
            raise TransferError(f"qemu-img could not convert {src} ({source['format']}) to {want}: "
                                f"{_qemu_img.said(err)}")
        os.chmod(out, 0o600)
        made = inspect(tool, out, want, opts, warnings)
        if made["virtual-size"] != source["virtual_size"]:
            raise TransferError(f"The {want} conversion of {src} has virtual size {made['virtual-size']}, the input "
                                f"{source['virtual_size']}; nothing was written to {dest}")
        if opts.verify_content:
            rc, said, err = _qemu_img.run(tool, ["compare", "-f", QEMU_FORMATS[source["format"]],
                                                 "-F", QEMU_FORMATS[want], src, out], timeout=opts.timeout)
            if rc != 0:
                raise TransferError(f"The {want} conversion of {src} does not hold the same disk: "
                                    f"{(said or err).strip().replace(out, 'output')[-300:]}")
        digest = md5_of(out) if opts.checksum else None
        os.replace(out, dest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    record = {"source": source, "dest": {**identity(dest), "format": want, "md5": digest}}
    write_record(dest, record)
    return {"record": record, "seconds": round(seconds, 3)}


def write_record(dest: str, record: dict) -> None:
    write_atomically(record_path(dest), json.dumps(record, sort_keys=True))


@dataclass(frozen=True)
class Options:
    """What disk_image_convert was asked to do, unpacked once from the module's parameters."""

    src: str
    dest: str
    dest_format: str | None = None
    src_format: str | None = None
    max_virtual_size: int | None = None
    timeout: int = 3600
    force: bool = False
    verify_content: bool = False
    checksum: bool = True
    progress_file: str | None = None

    from_params = classmethod(from_params)


def run(opts: Options, check_mode: bool) -> dict:
    if not opts.dest_format:
        raise TransferError("Give dest_format")
    if glance_format(opts.dest_format) not in WRITABLE:
        raise TransferError(f"dest_format must be one of {', '.join(WRITABLE)}, got {opts.dest_format!r}")
    if not opts.src_format or glance_format(opts.src_format) not in READABLE:
        raise TransferError(f"src_format must be one of {', '.join(READABLE)} (the format the image is said to be, "
                            f"as Glance's disk_format names it; it is never probed), got {opts.src_format!r}")
    if opts.timeout < 1:
        raise TransferError(f"timeout must be at least 1 second, got {opts.timeout}")
    _image_inspect.require()
    tool = _qemu_img.find("Converting a disk image needs")
    warnings: list = []
    found = plan(opts, tool, warnings)
    source = found["source"]
    result = {"changed": found["action"] == "convert", "src_format": source["format"],
              "dest_format": found["dest_format"], "virtual_size": source["virtual_size"], "dest": opts.dest,
              "plan": {"action": found["action"], "reason": found["why"]}, "warnings": warnings,
              "diff": {"before": {"dest": found.get("record", {}).get("dest") if found["action"] == "none" else None},
                       "after": {"dest_format": found["dest_format"], "virtual_size": source["virtual_size"]}}}
    if found["action"] == "none":
        made = found["record"]["dest"]
        result.update(size=made["size"], md5=made["md5"],
                      msg=f"{found['why']}; nothing to do")
        return result
    if check_mode:
        check_room(opts.dest, found["dest_format"], {**source, "allocated": found["allocated"]})
        result["msg"] = f"would convert {opts.src} ({source['format']}) to {found['dest_format']}: {found['why']}"
        return result
    progress = None
    if opts.progress_file:
        progress = Progress(opts.progress_file, "convert", opts.src, opts.dest,
                            [SegmentStep(1, "convert", source["size"])])
    done = convert(opts, found, tool, warnings, progress)
    if progress:
        progress.finish("done")
    made = done["record"]["dest"]
    rate = source["size"] / done["seconds"] / 1e6 if done["seconds"] > 0 else 0.0
    result.update(size=made["size"], md5=made["md5"], seconds=done["seconds"],
                  msg=f"converted {opts.src} ({source['format']}, {source['size']} bytes) to {opts.dest} "
                      f"({found['dest_format']}, {made['size']} bytes) in {done['seconds']:.1f} s ({rate:.0f} MB/s); "
                      f"virtual size {source['virtual_size']} kept")
    return result
