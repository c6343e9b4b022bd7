# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""The one place ``qemu-img`` runs, always on files that ``_image_inspect`` passed first.

qemu-img follows what an image names (a backing file, a qcow2 data file, VMDK extents) and its
format probing can be fooled, so every call names each file's format (``-f``/``-F``/``-O``;
a call without one is a bug and raises), runs with no shell and no standard input, in a
process group of its own, under resource limits (address space; CPU seconds) and a wall-clock
timeout. When the timeout passes or the transfer is cancelled the whole group is killed, and
the caller's ``finally`` removes the scratch files.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

from ansible_collections.cloudimages.transfer.plugins.module_utils import _cancel
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

try:
    import resource
except ImportError:  # not on this platform's Python: the timeout still bounds qemu-img
    resource = None

# Glance's disk_format names -> qemu-img's driver names (Glance's "vhd" is qemu-img's "vpc";
# an ISO is read as the raw bytes it is)
QEMU_FORMATS = {"raw": "raw", "qcow2": "qcow2", "vhd": "vpc", "vhdx": "vhdx", "vmdk": "vmdk", "iso": "raw"}

# Glance caps qemu-img info at 1 GiB of address space and 30 CPU seconds; a conversion or a
# comparison streams through buffers of a few MiB and needs more address space only for its
# threads' stacks and the libraries mapped in.
INFO_LIMITS = {"address_space": 1 << 30, "cpu_seconds": 30, "timeout": 60}
ADDRESS_SPACE = 2 << 30


def glance_format(name: str) -> str:
    """A format as Glance names it (qemu-img's ``vpc`` accepted for ``vhd``)."""
    return "vhd" if name == "vpc" else name


def find(needed_by: str) -> str:
    found = shutil.which("qemu-img")
    if not found:
        raise TransferError(f"{needed_by} qemu-img, which this host lacks (Debian/Ubuntu: apt-get install "
                            "qemu-utils; RHEL: dnf install qemu-img)")
    return found


def _limit(address_space: int, cpu_seconds: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    return apply if resource is not None else None


def run(tool: str, args: list, *, timeout: float, cpu_seconds: int | None = None,
        address_space: int = ADDRESS_SPACE) -> tuple:
    """(rc, stdout, stderr) of ``qemu-img ARGS``; TransferError on timeout, Cancelled on cancel."""
    if not {"-f", "-F", "-O"} & set(args):
        raise ValueError(f"qemu-img {args[0]} without a format named: refusing to let it probe")
    cpu = int(cpu_seconds or timeout)
    # not the module's run_command: it has no resource limits, no process group to kill on a
    # cancel, and cannot be stopped part-way
    proc = subprocess.Popen(  # pylint: disable=subprocess-popen-preexec-fn,ansible-bad-function
        [tool, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, preexec_fn=_limit(address_space, cpu), env={**os.environ, "LC_ALL": "C"})
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                out, err = proc.communicate(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if _cancel.CANCEL.is_set() or time.monotonic() > deadline:
                    _kill_group(proc)
                    _cancel.check()
                    raise TransferError(f"qemu-img {args[0]} did not finish within {timeout:.0f} s and was stopped "
                                        "(a larger timeout may be needed for a large image)") from None
    except BaseException:
        _kill_group(proc)
        raise
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL) and not err:
        err = f"stopped by its limit of {cpu} CPU seconds"
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.communicate()


def said(err: str, out: str = "") -> str:
    """qemu-img's own words, the last few hundred characters, without its name."""
    return (err or out).strip().replace("qemu-img: ", "")[-300:]
