# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""A local disk image converted to another format with ``qemu-img``, verified, then renamed.

Formats carry Glance's names (``vhd`` is qemu-img's ``vpc`` driver, the one thing a converting
Glance gets wrong). The input is read with its format named explicitly (``auto`` asks
``qemu-img info`` once and then names what it found), and refused before anything is written
when qemu-img cannot open it, ``qemu-img check`` finds it damaged, or it refers to another file
(a backing file or a VMDK extent: converting it would copy a file of this host into the image).

The output is written inside a private folder beside ``dest`` (mkdtemp, 0700; the file 0600)
and renamed over ``dest`` only when ``qemu-img info`` reads it back in the wanted format with
the input's virtual size (VHD is written dynamic with ``force_size``, so its geometry does
not round the size up). A record beside it (``.<dest>.convert.json``) names the input (path,
size, mtime) and the output (size, mtime, and its MD5 unless ``checksum`` is off: one more read
of the output, which costs more than the conversion itself while the data is in the page cache):
a rerun with the same input and an untouched output changes nothing, and an existing ``dest`` that no record explains is replaced only with
``force``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass

from ansible_collections.cloudimages.transfer.plugins.module_utils import _cancel
from ansible_collections.cloudimages.transfer.plugins.module_utils._disk_compare import QEMU_FORMATS, qemu_img
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import SegmentStep
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._local_files import write_atomically
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import Progress

WRITABLE = ("raw", "qcow2", "vhd", "vmdk")
GLANCE_NAMES = {qemu: glance for glance, qemu in QEMU_FORMATS.items() if glance != "iso"}
CREATE_OPTIONS = {"vhd": ["-o", "subformat=dynamic,force_size=on"], "qcow2": ["-o", "compat=1.1"],
                  "vmdk": ["-o", "subformat=streamOptimized"]}
CHECKABLE = ("qcow2", "vmdk", "vhdx", "vdi")
CHUNK = 4 * 1024 * 1024


def glance_format(name: str) -> str:
    """A format option as Glance names it (``vpc`` accepted for ``vhd``)."""
    return "vhd" if name == "vpc" else name


def record_path(dest: str) -> str:
    return os.path.join(os.path.dirname(dest) or ".", f".{os.path.basename(dest)}.convert.json")


def identity(path: str) -> dict:
    st = os.stat(path)
    return {"path": os.path.realpath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def read_record(dest: str) -> dict | None:
    try:
        with open(record_path(dest), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def inspect(tool: str, run_command, path: str, fmt: str) -> dict:
    """``qemu-img info`` of the input (format named, or probed when ``auto``), refusing a damaged
    image or one that refers to another file."""
    argv = [tool, "info", "--output=json"] + ([] if fmt == "auto" else ["-f", QEMU_FORMATS[fmt]]) + [path]
    rc, out, err = run_command(argv)
    if rc != 0:
        raise TransferError(f"{path} is not a readable {fmt if fmt != 'auto' else 'disk'} image: "
                            f"{err.strip().replace('qemu-img: ', '')[-300:]}")
    info = json.loads(out)
    found = GLANCE_NAMES.get(info.get("format"), info.get("format"))
    if fmt != "auto" and found != fmt:
        raise TransferError(f"{path} reads as {found}, not {fmt}")
    if info.get("backing-filename") or info.get("full-backing-filename"):
        raise TransferError(f"{path} refers to a backing file ({info.get('backing-filename')}); refusing to "
                            "convert it (the output would hold that file's data)")
    extents = ((info.get("format-specific") or {}).get("data") or {}).get("extents") or []
    if any(os.path.realpath(e.get("filename", path)) != os.path.realpath(path) for e in extents):
        raise TransferError(f"{path} is a VMDK with extents in other files; refusing to convert it")
    if found in CHECKABLE:
        rc, out, err = run_command([tool, "check", "--output=json", "-f", QEMU_FORMATS[found], path])
        if rc not in (0, 63):  # 63: the format has no check
            raise TransferError(f"{path} is a damaged {found} image (qemu-img check: "
                                f"{(err or out).strip().replace('qemu-img: ', '')[-300:]})")
    info["glance_format"] = found
    return info


def plan(opts: Options, tool: str, run_command) -> dict:
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
    # 'auto' cannot tell a qcow2 or VHD whose header is damaged from raw data: name the format
    # where it is known (the role names the source image's disk_format)
    info = inspect(tool, run_command, src, glance_format(opts.src_format))
    source = {**identity(src), "format": info["glance_format"], "virtual_size": info["virtual-size"]}
    found = {"source": source, "dest_format": want}
    if not os.path.lexists(dest):
        return {**found, "action": "convert", "why": f"{dest} does not exist"}
    if os.path.islink(dest) or not os.path.isfile(dest):
        raise TransferError(f"dest {dest} is not a regular file; refusing to replace it")
    record = read_record(dest)
    if record and record.get("source") == source and record.get("dest", {}).get("format") == want:
        held = identity(dest)
        if (held["size"], held["mtime_ns"]) == (record["dest"]["size"], record["dest"]["mtime_ns"]):
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


def convert(opts: Options, found: dict, tool: str, run_command, progress=None) -> dict:
    """Convert into a private folder beside dest, verify, rename; write the record."""
    src, dest, want = opts.src, opts.dest, found["dest_format"]
    source = found["source"]
    scratch = tempfile.mkdtemp(prefix=f".{os.path.basename(dest)}.convert-", dir=os.path.dirname(os.path.abspath(dest)))
    try:
        out = os.path.join(scratch, "disk")
        started = time.monotonic()
        argv = [tool, "convert", "-f", QEMU_FORMATS[source["format"]], "-O", QEMU_FORMATS[want],
                *CREATE_OPTIONS.get(want, []), src, out]
        with ProgressWatch(progress, source["size"]):
            rc, _out, err = run_command(argv)
        seconds = time.monotonic() - started
        if rc != 0:
            raise TransferError(f"qemu-img could not convert {src} ({source['format']}) to {want}: "
                                f"{err.strip().replace('qemu-img: ', '')[-300:]}")
        os.chmod(out, 0o600)
        made = inspect(tool, run_command, out, want)
        if made["virtual-size"] != source["virtual_size"]:
            raise TransferError(f"The {want} conversion of {src} has virtual size {made['virtual-size']}, the input "
                                f"{source['virtual_size']}; nothing was written to {dest}")
        if opts.verify_content:
            rc, said, err = run_command([tool, "compare", "-f", QEMU_FORMATS[source["format"]],
                                         "-F", QEMU_FORMATS[want], src, out])
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
    src_format: str = "auto"
    force: bool = False
    verify_content: bool = False
    checksum: bool = True
    progress_file: str | None = None

    from_params = classmethod(from_params)


def run(opts: Options, run_command, check_mode: bool) -> dict:
    """``run_command`` is the module's (argv list -> (rc, stdout, stderr)); no shell."""
    if not opts.dest_format:
        raise TransferError("Give dest_format")
    if glance_format(opts.dest_format) not in WRITABLE:
        raise TransferError(f"dest_format must be one of {', '.join(WRITABLE)}, got {opts.dest_format!r}")
    tool = qemu_img("Converting a disk image needs")
    found = plan(opts, tool, run_command)
    source = found["source"]
    result = {"changed": found["action"] == "convert", "src_format": source["format"],
              "dest_format": found["dest_format"], "virtual_size": source["virtual_size"], "dest": opts.dest,
              "plan": {"action": found["action"], "reason": found["why"]},
              "diff": {"before": {"dest": found.get("record", {}).get("dest") if found["action"] == "none" else None},
                       "after": {"dest_format": found["dest_format"], "virtual_size": source["virtual_size"]}}}
    if found["action"] == "none":
        made = found["record"]["dest"]
        result.update(size=made["size"], md5=made["md5"],
                      msg=f"{found['why']}; nothing to do")
        return result
    if check_mode:
        result["msg"] = f"would convert {opts.src} ({source['format']}) to {found['dest_format']}: {found['why']}"
        return result
    progress = None
    if opts.progress_file:
        progress = Progress(opts.progress_file, "convert", opts.src, opts.dest,
                            [SegmentStep(1, "convert", source["size"])])
    done = convert(opts, found, tool, run_command, progress)
    if progress:
        progress.finish("done")
    made = done["record"]["dest"]
    rate = source["size"] / done["seconds"] / 1e6 if done["seconds"] > 0 else 0.0
    result.update(size=made["size"], md5=made["md5"], seconds=done["seconds"],
                  msg=f"converted {opts.src} ({source['format']}, {source['size']} bytes) to {opts.dest} "
                      f"({found['dest_format']}, {made['size']} bytes) in {done['seconds']:.1f} s ({rate:.0f} MB/s); "
                      f"virtual size {source['virtual_size']} kept")
    return result
