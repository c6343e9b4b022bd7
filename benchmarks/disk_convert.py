"""Benchmark: disk_image_convert beside qemu-img convert run by hand, in one run.

    <dev venv>/bin/python benchmarks/disk_convert.py [--size-gib 1] [--rounds 3]

Makes a disk of random data (so nothing is sparse or compressible; the size given, in GiB),
converts it to VHD once, and then times, alternating the order each round:

  qemu-img by hand   qemu-img convert -f vpc -O qcow2 (and -f qcow2 -O vpc, dynamic, force_size)
  disk_image_convert the module, as Ansible runs it (module file, JSON arguments), which adds
                     qemu-img info and check of the input, info of the output and an MD5 pass
  ... checksum=false the module without the MD5 pass (as the region_transfer role runs it)

for vhd -> qcow2 and qcow2 -> vhd. Prints the median wall time, MB/s of the input and the
ratio module / by hand. Needs qemu-img; writes in a temporary folder under --dir (default
/var/tmp), removed afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024


def timed(argv: list, env: dict | None = None) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed: {done.stderr[-1000:]}{done.stdout[-1000:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-gib", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default="/var/tmp")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="convert-bench-", dir=opts.dir))
    collections = work / "collections" / "ansible_collections" / "cloudimages"
    collections.mkdir(parents=True)
    (collections / "transfer").symlink_to(REPO)
    env = {**os.environ, "PYTHONPATH": str(work / "collections")}
    try:
        size = int(opts.size_gib * 1024) * MiB
        with open(work / "disk.raw", "wb") as f:
            for _ in range(size // (64 * MiB)):
                f.write(os.urandom(64 * MiB))
        timed(["qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on",
               str(work / "disk.raw"), str(work / "in.vhd")])
        timed(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(work / "disk.raw"), str(work / "in.qcow2")])
        cases = {"vhd -> qcow2": ("in.vhd", "vpc", "qcow2", "qcow2"), "qcow2 -> vhd": ("in.qcow2", "qcow2", "vpc", "vhd")}
        times: dict = {}
        for rnd in range(opts.rounds):
            for case, (src, src_qemu, dest_qemu, dest_glance) in cases.items():
                tools = ["by hand", "module", "no md5"] if rnd % 2 == 0 else ["no md5", "module", "by hand"]
                for tool in tools:
                    out = work / f"out.{dest_glance}"
                    for stale in (out, work / f".out.{dest_glance}.convert.json"):
                        stale.unlink(missing_ok=True)
                    if tool == "by hand":
                        extra = ["-o", "subformat=dynamic,force_size=on"] if dest_qemu == "vpc" else []
                        elapsed, _ = timed(["qemu-img", "convert", "-f", src_qemu, "-O", dest_qemu, *extra,
                                            str(work / src), str(out)])
                    else:
                        args = work / "args.json"
                        args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
                            "src": str(work / src), "dest": str(out), "dest_format": dest_glance,
                            "src_format": "vhd" if src_qemu == "vpc" else src_qemu, "checksum": tool == "module"}}))
                        elapsed, said = timed([sys.executable, "-m",
                                               "ansible_collections.cloudimages.transfer.plugins.modules."
                                               "disk_image_convert", str(args)], env)
                        if json.loads(said).get("failed"):
                            raise RuntimeError(said)
                    times.setdefault(case, {}).setdefault(tool, []).append(elapsed)
        print(f"\n{size // MiB} MiB of random data, {opts.rounds} rounds, median wall seconds (every run)\n")
        print("| conversion | qemu-img by hand | disk_image_convert | ratio | checksum=false | ratio |")
        print("|---|---|---|---|---|---|")
        for case, by_tool in times.items():
            cells = []
            for tool in ("by hand", "module", "no md5"):
                median = statistics.median(by_tool[tool])
                cells.append(f"{median:.2f} s ({size / median / 1e6:.0f} MB/s) {[round(t, 2) for t in by_tool[tool]]}")
                if tool != "by hand":
                    cells.append(f"{median / statistics.median(by_tool['by hand']):.2f}")
            print(f"| {case} | " + " | ".join(cells) + " |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
