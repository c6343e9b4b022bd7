"""Benchmark: the whole transfer (the transfer_image playbook), phase by phase, against a floor.

    make benchmark-transfer   (or: <dev venv>/bin/python benchmarks/transfer.py [--size-mib 2048])

Starts the benchmark's local cloud (benchmarks/output/cloud, as benchmarks/dlo_copy.py does),
makes a random image of --size-mib in RegionOne, and transfers it to RegionTwo through each
path, --rounds times each (the target deleted between rounds, so each round moves every byte):

  stream         image_export stream -> swift_dlo_copy -> web-download (upstream Glance's path)
  disk           the same through a local staging directory (download + upload)
  glance-download  Glance copies from Glance (no object store, no bytes through us)
  direct         the source image streamed from Glance into Glance (PUT /stage + glance-direct)
  vendor         the vendors' tasks API (the emulator): export task -> copy -> import task (VHD);
                 the export in segments of 1048576000 bytes, as the vendor's document shows them

Per path: the median wall seconds of each phase (from the playbook's JSON report), the total,
the CPU seconds of our processes (ansible-playbook, its forks and modules, and the modules it
ran in the background) and of the cloud's servers, the peak RSS of any process of ours, and a
floor - for each pass of the image's bytes between services, its size at the raw pipeline's
throughput measured in the same run (curl GET of the image from Glance | curl PUT into Swift).
Overhead = total minus the data phases (export, copy, import). The peers, measured in the same
run: doing it by hand with the clouds' own APIs (what `openstack image save | openstack image
create` does) - a new target image, the source's GET /file piped by curl into its PUT /file; the
same into PUT /stage and the glance-direct import, polled every 0.2 s until active - and each
path's total is also given as a ratio to the by-hand figure of its kind. Then a rerun of a finished
transfer (seconds, bytes moved), N images at transfer_image_parallel 1, 2 and 4, and the
bandwidth cap (region_transfer_max_rate) against the copy's achieved rate.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dlo_copy as base  # noqa: E402  (the benchmark cloud, median, CPU of the servers)

REPO, OUT, MiB = base.REPO, base.OUT, base.MiB
PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
KEY = "com.cloudimages.image-of"
DATA_PHASES = ("export", "copy", "import")
# passes of the image's bytes between services, per path (the floor counts each at raw speed)
PASSES = {"stream": 3, "disk": 4, "glance-download": 1, "vendor": 3, "direct": 1}
# which by-hand peer each path is compared with: the same import method done with curl
PEER = {"stream": "stage", "disk": "stage", "glance-download": "stage", "vendor": "file", "direct": "stage"}
TICK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class OurProcesses:
    """CPU and peak RSS of every process carrying this run's marker in its environment, sampled
    every 0.1 s from /proc (the background modules are detached from ansible-playbook, so
    getrusage cannot see them), plus getrusage for the children ansible-playbook waited for."""

    def __init__(self, marker: str):
        self.marker = f"BENCH_RUN={marker}".encode()
        self.ticks, self.peak_kib, self.detached = {}, 0, set()
        self.stop_event = threading.Event()
        self.children_before = self.children()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    @staticmethod
    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def sample(self) -> None:
        while not self.stop_event.is_set():
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    if self.marker not in (entry / "environ").read_bytes().split(b"\0"):
                        continue
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    self.ticks[entry.name] = int(fields[11]) + int(fields[12])
                    if fields[1] == "1":  # reparented to init: an async job, not waited for by ansible-playbook
                        self.detached.add(entry.name)
                    for line in (entry / "status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                except (OSError, ValueError, IndexError):
                    continue
            time.sleep(0.1)

    def stop(self) -> tuple[float, int]:
        self.stop_event.set()
        self.thread.join()
        detached = sum(self.ticks[pid] for pid in self.detached) / TICK
        return self.children() - self.children_before + detached, self.peak_kib


class Bench:
    def __init__(self, cloud: base.Cloud, work: Path):
        self.cloud, self.work = cloud, work
        self.collections = work / "collections"
        (self.collections / "ansible_collections" / "cloudimages").mkdir(parents=True, exist_ok=True)
        link = self.collections / "ansible_collections" / "cloudimages" / "transfer"
        if not link.exists():
            link.symlink_to(REPO)
        self.glance = {}
        body = requests.get(f"{cloud.doc['keystone']}/v3/auth/catalog", headers={"X-Auth-Token": cloud.token},
                            timeout=30).json()
        for service in body["catalog"]:
            if service["type"] == "image":
                self.glance = {ep["region_id"]: ep["url"].rstrip("/") for ep in service["endpoints"]
                               if ep["interface"] == "public"}

    def create_image(self, path: Path, name: str, disk_format: str) -> dict:
        s = self.cloud.session()
        image = s.post(f"{self.glance['RegionOne']}/v2/images", json={
            "name": name, "disk_format": disk_format, "container_format": "bare"}, timeout=60).json()
        with open(path, "rb") as f:
            s.put(f"{self.glance['RegionOne']}/v2/images/{image['id']}/file", data=f,
                  headers={"Content-Type": "application/octet-stream"}, timeout=3600).raise_for_status()
        return s.get(f"{self.glance['RegionOne']}/v2/images/{image['id']}", timeout=60).json()

    def delete_targets(self, source_id: str) -> None:
        s = self.cloud.session()
        for image in s.get(f"{self.glance['RegionTwo']}/v2/images", params={KEY: source_id}, timeout=60).json()["images"]:
            s.delete(f"{self.glance['RegionTwo']}/v2/images/{image['id']}", timeout=60)

    def play(self, extra: dict) -> dict:
        """Run the playbook; wall seconds, our CPU seconds and peak RSS, the report."""
        marker = uuid.uuid4().hex
        report = self.work / f"report-{marker}.json"
        variables = {"region_transfer_source_cloud": "localcloud-producer", "region_transfer_source_region": "RegionOne",
                     "region_transfer_target_region": "RegionTwo", "region_transfer_poll_interval": 1,
                     "region_transfer_progress_interval": 1, "region_transfer_staging_dir": str(self.work),
                     "transfer_report": str(report), **extra}
        (self.work / "vars.json").write_text(json.dumps(variables))
        env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(self.collections), "BENCH_RUN": marker,
               "OS_CLIENT_CONFIG_FILE": self.cloud.doc["clouds_yaml"], "ANSIBLE_LOCALHOST_WARNING": "false"}
        meter, servers = OurProcesses(marker), base.CpuMeter()
        started = time.monotonic()
        done = subprocess.run([PLAYBOOK, "cloudimages.transfer.transfer_image", "-e", f"@{self.work / 'vars.json'}"],
                              env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        cpu, peak = meter.stop()
        _, server_cpu = servers.stop()
        if done.returncode != 0:
            raise RuntimeError(f"the playbook failed:\n{done.stdout[-4000:]}")
        rows = json.loads(report.read_text())["images"]
        report.unlink()
        return {"wall": wall, "cpu": cpu, "server_cpu": server_cpu, "rss_mib": peak / 1024, "rows": rows,
                "changed": sum(int(n) for n in re.findall(r"^transfer-\S+\s*: ok=\d+\s+changed=(\d+)", done.stdout,
                                                          re.MULTILINE))}


def raw_pass(bench: Bench, image_id: str, size: int) -> float:
    """Seconds for one raw pass of the image: curl GET from Glance | curl PUT into Swift."""
    auth = f"X-Auth-Token: {bench.cloud.token}"
    swift = bench.cloud.swift["RegionTwo"]
    subprocess.run(["curl", "-sfS", "-o", "/dev/null", "-X", "PUT", "-H", auth, f"{swift}/bench-raw"], check=True)
    started = time.monotonic()
    get = subprocess.Popen(["curl", "-sfS", "-H", auth, f"{bench.glance['RegionOne']}/v2/images/{image_id}/file"],
                           stdout=subprocess.PIPE)
    put = subprocess.run(["curl", "-sfS", "-o", "/dev/null", "-X", "PUT", "-H", auth, "-T", "-",
                          f"{swift}/bench-raw/raw"], stdin=get.stdout)
    get.stdout.close()
    if get.wait() or put.returncode:
        raise RuntimeError("the raw pass failed")
    seconds = time.monotonic() - started
    subprocess.run(["curl", "-sfS", "-o", "/dev/null", "-X", "DELETE", "-H", auth, f"{swift}/bench-raw/raw"], check=True)
    return seconds


def by_hand(bench: Bench, image_id: str, stage: bool) -> float:
    """Seconds for the transfer done by hand: POST a target image, curl GET the source's /file |
    curl PUT the target's /file (or /stage, then POST the glance-direct import and GET the image
    every 0.2 s until active). The image is deleted afterwards."""
    s, auth = bench.cloud.session(), f"X-Auth-Token: {bench.cloud.token}"
    target = bench.glance["RegionTwo"]
    started = time.monotonic()
    image = s.post(f"{target}/v2/images", json={"name": "by-hand", "disk_format": "raw", "container_format": "bare"},
                   timeout=60).json()
    get = subprocess.Popen(["curl", "-sfS", "-H", auth, f"{bench.glance['RegionOne']}/v2/images/{image_id}/file"],
                           stdout=subprocess.PIPE)
    put = subprocess.run(["curl", "-sfS", "-o", "/dev/null", "-X", "PUT", "-H", auth, "-H",
                          "Content-Type: application/octet-stream", "-T", "-",
                          f"{target}/v2/images/{image['id']}/{'stage' if stage else 'file'}"], stdin=get.stdout)
    get.stdout.close()
    if get.wait() or put.returncode:
        raise RuntimeError("the by-hand pass failed")
    if stage:
        s.post(f"{target}/v2/images/{image['id']}/import", json={"method": {"name": "glance-direct"}},
               timeout=60).raise_for_status()
    while s.get(f"{target}/v2/images/{image['id']}", timeout=60).json()["status"] != "active":
        time.sleep(0.2)
    seconds = time.monotonic() - started
    s.delete(f"{target}/v2/images/{image['id']}", timeout=60)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paths", default="stream,disk,glance-download,direct,vendor")
    parser.add_argument("--images", type=int, default=8, help="images for the parallel runs")
    parser.add_argument("--images-mib", type=int, default=256)
    parser.add_argument("--parallel", default="1,2,4")
    parser.add_argument("--max-rate-mib", type=int, default=50, help="the cap tried (MiB/s); 0 skips it")
    parser.add_argument("--export-segment-bytes", type=int, default=1048576000,
                        help="segment size of the emulated vendor export task (the vendor's document shows 1048576000)")
    args = parser.parse_args()
    size = args.size_mib * MiB
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="transfer-", dir=OUT))
    results = {"size_bytes": size, "rounds": args.rounds, "paths": {}}
    cloud = base.Cloud()
    # the vendor's export task writes segments of 1048576000 bytes, as its own document shows
    # (the emulator's default, 4 MiB, is for tests with small images)
    cloud.env["LOCALCLOUD_EXPORT_SEGMENT_SIZE"] = str(args.export_segment_bytes)
    with cloud:
        bench = Bench(cloud, work)
        raw_file = work / "source.raw"
        base.make_source(raw_file, size)
        source = bench.create_image(raw_file, f"bench-{uuid.uuid4().hex[:8]}", "raw")
        raw_seconds = base.median([raw_pass(bench, source["id"], size) for _ in range(3)])
        raw_rate = size / raw_seconds
        results["raw_pass_seconds"], results["raw_mb_per_s"] = raw_seconds, raw_rate / 1e6
        log(f"raw pass (curl GET Glance | curl PUT Swift): {raw_seconds:.1f} s, {raw_rate / 1e6:.0f} MB/s")
        results["by_hand"] = {kind: base.median([by_hand(bench, source["id"], kind == "stage") for _ in range(args.rounds)])
                              for kind in ("file", "stage")}
        log(f"by hand: PUT /file {results['by_hand']['file']:.1f} s, PUT /stage + glance-direct "
            f"{results['by_hand']['stage']:.1f} s")
        vhd = None
        for path in args.paths.split(","):
            # stream and disk name their import: in one cloud, auto would take glance-download
            extra = {"region_transfer_image": source["id"], "region_transfer_import_method": "web-download"}
            if path == "disk":
                extra["region_transfer_staging"] = "disk"
            elif path in ("glance-download", "direct"):
                extra["region_transfer_import_method"] = path
            elif path == "vendor":
                if vhd is None:
                    vhd_file = work / "source.vhd"
                    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on",
                                    str(raw_file), str(vhd_file)], check=True)
                    vhd = bench.create_image(vhd_file, f"bench-vhd-{uuid.uuid4().hex[:8]}", "vhd")
                    vhd_file.unlink()
                extra = {"region_transfer_image": vhd["id"], "region_transfer_source_cloud": "localcloud-producer-apikey",
                         "region_transfer_export_method": "task", "region_transfer_import_method": "task",
                         "region_transfer_poll_interval": 1}
            runs = []
            for n in range(args.rounds):
                bench.delete_targets(extra["region_transfer_image"])
                run = bench.play(extra)
                runs.append(run)
                log(f"{path} round {n + 1}: {run['wall']:.1f} s, phases {run['rows'][0]['phases']}")
            again = bench.play(extra)
            phases = {p: base.median([r["rows"][0]["phases"].get(p, 0.0) for r in runs])
                      for p in ("preflight", "export", "copy", "import", "verify", "finish")}
            total = base.median([r["wall"] for r in runs])
            data = sum(phases[p] for p in DATA_PHASES)
            floor = PASSES[path] * raw_seconds
            results["paths"][path] = {
                "phases": phases, "total": total, "walls": [r["wall"] for r in runs],
                "cpu": base.median([r["cpu"] for r in runs]), "server_cpu": base.median([r["server_cpu"] for r in runs]),
                "rss_mib": max(r["rss_mib"] for r in runs + [again]), "floor": floor, "passes": PASSES[path],
                "ratio_to_floor": total / floor, "overhead": total - data,
                "by_hand": PEER[path], "ratio_to_by_hand": total / results["by_hand"][PEER[path]],
                "rerun": {"wall": again["wall"], "changed": again["changed"],
                          "moved_data": again["rows"][0]["moved_data"]}}
            bench.delete_targets(extra["region_transfer_image"])
        # several images at once
        if args.images:
            raw_small = work / "small.raw"
            base.make_source(raw_small, args.images_mib * MiB)
            smalls = [bench.create_image(raw_small, f"bench-small-{n}-{uuid.uuid4().hex[:6]}", "raw")
                      for n in range(args.images)]
            results["parallel"] = {}
            for level in [int(x) for x in args.parallel.split(",")]:
                for image in smalls:
                    bench.delete_targets(image["id"])
                run = bench.play({"transfer_images": [i["id"] for i in smalls], "transfer_image_parallel": level})
                results["parallel"][level] = {"wall": run["wall"], "images_per_minute": args.images * 60 / run["wall"],
                                              "cpu": run["cpu"], "server_cpu": run["server_cpu"]}
                log(f"{args.images} x {args.images_mib} MiB at parallel {level}: {run['wall']:.1f} s")
            for image in smalls:
                bench.delete_targets(image["id"])
        # the bandwidth cap on the copy
        if args.max_rate_mib:
            bench.delete_targets(source["id"])
            run = bench.play({"region_transfer_image": source["id"], "region_transfer_max_rate": f"{args.max_rate_mib}MiB/s"})
            results["max_rate"] = {"cap": args.max_rate_mib * MiB, "phases": run["rows"][0]["phases"]}
            bench.delete_targets(source["id"])
    shutil.rmtree(work, ignore_errors=True)
    print_table(results, args)
    (OUT / "transfer.json").write_text(json.dumps(results, indent=2, default=str))
    return 0


def print_table(results: dict, args) -> None:
    size_mib = results["size_bytes"] / MiB
    print(f"\nThe whole transfer of a {size_mib:.0f} MiB image, median of {results['rounds']} "
          f"(raw pass {results['raw_pass_seconds']:.1f} s, {results['raw_mb_per_s']:.0f} MB/s; by hand: PUT /file "
          f"{results['by_hand']['file']:.1f} s, PUT /stage + glance-direct {results['by_hand']['stage']:.1f} s):\n")
    print("| path | preflight | export | copy | import | verify | finish | total s | x by hand | floor s (passes) | total/floor "
          "| overhead s | CPU s ours / servers | peak RSS MiB | rerun s (changed, moved) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for path, r in results["paths"].items():
        p = r["phases"]
        print(f"| {path} | {p['preflight']:.1f} | {p['export']:.1f} | {p['copy']:.1f} | {p['import']:.1f} | "
              f"{p['verify']:.1f} | {p['finish']:.1f} | {r['total']:.1f} | {r['ratio_to_by_hand']:.2f} ({r['by_hand']}) | "
              f"{r['floor']:.1f} ({r['passes']}) | "
              f"{r['ratio_to_floor']:.2f} | {r['overhead']:.1f} | {r['cpu']:.1f} / {r['server_cpu']:.1f} | "
              f"{r['rss_mib']:.0f} | {r['rerun']['wall']:.1f} ({r['rerun']['changed']}, {r['rerun']['moved_data']}) |")
    if results.get("parallel"):
        print(f"\n{args.images} images of {args.images_mib} MiB (stream path):\n")
        print("| transfer_image_parallel | wall s | images/min | CPU s ours / servers |")
        print("|---|---|---|---|")
        for level, r in results["parallel"].items():
            print(f"| {level} | {r['wall']:.1f} | {r['images_per_minute']:.1f} | {r['cpu']:.1f} / {r['server_cpu']:.1f} |")
    if results.get("max_rate"):
        r = results["max_rate"]
        print(f"\nregion_transfer_max_rate {r['cap'] / MiB:.0f} MiB/s (each phase's seconds include Ansible's polling):")
        for phase in ("export", "copy"):
            achieved = results["size_bytes"] / r["phases"][phase]
            print(f"  {phase}: {r['phases'][phase]:.1f} s, {achieved / MiB:.1f} MiB/s ({achieved / r['cap']:.2f} x the cap)")


if __name__ == "__main__":
    sys.exit(main())
