"""Benchmark: a DLO from RegionOne to RegionTwo, our modules beside the tools people use now.

    make benchmark            (or: <dev venv>/bin/python benchmarks/dlo_copy.py [--size-gib 2])

Starts its own local cloud (state in benchmarks/output/cloud, Swift's 5 GiB max_file_size so
the peers are not limited by the test cloud's lowered one), uploads a random file of the
given size as a DLO of 128 MiB segments in RegionOne, and then, one after the other, moves it
to RegionTwo with:

  swift_dlo_copy          our module, streamed segment by segment, no local disk
  ours via disk           swift_dlo_download (segments) + swift_dlo_upload
  swift CLI via disk      python-swiftclient: swift download + swift upload --use-dlo
  rclone copy             Debian's rclone, swift -> swift
  raw baseline            curl GET | curl PUT per segment, same concurrency, then the manifest

Each run starts from an empty target and is verified afterwards (the target's bytes hash to
the source's). After one untimed warm-up run, every tool runs --rounds times (default 3), the
order rotated each round so no tool always goes first or follows the same neighbour; the
table gives the median and every run. Printed: wall time, MB/s, peak RSS (VmHWM of the process; for the raw
baseline the largest single curl), the CPU seconds of the tool and of the cloud's servers
during the run, and the ratios the issue sets targets for. Then the RSS of
swift_dlo_copy at twice the size, and a copy killed at about 50 % and rerun. The modules run
as Ansible runs them (module file, JSON arguments), without ansible-playbook's own start-up.

    make benchmark-sizes      (or: benchmarks/dlo_copy.py --sizes 1,2,4,8)

runs only the size sweep instead: swift_dlo_copy and the raw baseline at each size (GiB), one
after the other, --rounds times, sizes in a rotated order; DLOs of 128 MiB segments made in
Swift from one random GiB (server-side copies, so the sweep needs no 8 GiB local file). A run
is verified by the target's segments having the source's ETags and sizes in order. Printed:
median wall times, growth from each size to the next for both, their ratio (ours within 10 %
of raw's growth is the target), and swift_dlo_copy's peak RSS at each size (flat is the target).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "output"
MiB = 1024 * 1024
SEGMENT = 128 * MiB
CONCURRENCY = 4
PY = sys.executable
BIN = Path(PY).parent


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class Cloud:
    def __init__(self, swift_workers: str = "0"):
        self.env = {**os.environ, "LOCALCLOUD_DIR": str(OUT / "cloud"),
                    "LOCALCLOUD_SWIFT_MAX_FILE_SIZE": str(5 * 1024 ** 3 + 2),
                    "LOCALCLOUD_SWIFT_WORKERS": swift_workers}
        # the servers run on the system python3, as the test command runs them (their venvs are cached per Python)
        self.launcher = [shutil.which("python3") or sys.executable, str(REPO / "tests" / "localcloud" / "localcloud.py")]

    def __enter__(self):
        subprocess.run(self.launcher + ["start"], env=self.env, check=True)
        self.doc = json.loads((OUT / "cloud" / "cloud.json").read_text())
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "producer", "domain": {"id": "default"}, "password": self.doc["passwords"]["producer"]}}},
            "scope": {"project": {"name": "producer", "domain": {"id": "default"}}}}}
        resp = requests.post(f"{self.doc['keystone']}/v3/auth/tokens", json=body, timeout=30)
        self.token = resp.headers["X-Subject-Token"]
        catalog = resp.json()["token"]["catalog"]
        store = next(s for s in catalog if s["type"] == "object-store")
        self.swift = {ep["region_id"]: ep["url"] for ep in store["endpoints"] if ep["interface"] == "public"}
        return self

    def __exit__(self, *exc):
        subprocess.run(self.launcher + ["stop"], env=self.env, check=False)

    def session(self) -> requests.Session:
        s = requests.Session()
        s.headers["X-Auth-Token"] = self.token
        return s

    def clear(self, region: str, container: str) -> None:
        done = subprocess.run([str(BIN / "swift"), "--os-auth-token", self.token, "--os-storage-url",
                               self.swift[region], "delete", container], capture_output=True, text=True)
        if done.returncode not in (0, 1):
            raise RuntimeError(done.stderr)

    def md5_of(self, region: str, container: str, name: str) -> str:
        digest = hashlib.md5()
        with self.session().get(f"{self.swift[region]}/{container}/{name}", stream=True, timeout=600) as resp:
            resp.raise_for_status()
            for chunk in resp.iter_content(4 * MiB):
                digest.update(chunk)
        return digest.hexdigest()


class PeakRss:
    """Samples VmHWM (the kernel's peak resident set) of a process every 20 ms while it runs.

    Not getrusage: a child's ru_maxrss counts the pages it shared with this (larger) process
    between fork and exec.
    """

    def __init__(self, pid: int):
        self.pid, self.peak, self.stop = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        while not self.stop.is_set():
            try:
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak = max(self.peak, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.02)

    def done(self) -> int:
        self.stop.set()
        self.thread.join()
        return self.peak


class CpuMeter:
    """CPU seconds spent between start and stop by this script's children (the tool under test:
    every process it ran and waited for) and by the local cloud's servers.

    On two cores the tools and the ten servers share the CPU, so wall time is roughly their
    sum over two; these figures show whose seconds a run spent.
    """

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self):
        self.client = self.children()
        self.servers = self.server_ticks()

    @staticmethod
    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    @staticmethod
    def server_ticks() -> dict:
        ticks, marker = {}, str(OUT / "cloud").encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "cmdline").read_bytes():
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    ticks[entry.name] = int(fields[11]) + int(fields[12])  # utime, stime
            except OSError:
                continue
        return ticks

    def stop(self) -> tuple[float, float]:
        now = self.server_ticks()
        servers = sum(now[pid] - self.servers.get(pid, 0) for pid in now)
        return self.children() - self.client, servers / self.TICK


def run_measured(argv: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in KiB, stdout."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        started = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        rss = PeakRss(proc.pid)
        while proc.poll() is None:  # poll, not wait: the sampler reads /proc until the exit
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        peak = rss.done()
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{argv[0]} failed ({proc.returncode}): {err.read().decode(errors='replace')[-2000:]}")
        out.seek(0)
        return elapsed, peak, out.read().decode(errors="replace")


def module(name: str, args: dict, cloud: Cloud, workdir: Path) -> tuple[float, int, dict]:
    path = workdir / f"{name}-args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = {**os.environ, "PYTHONPATH": str(workdir / "collections"), "OS_CLIENT_CONFIG_FILE": cloud.doc["clouds_yaml"]}
    elapsed, rss, out = run_measured([PY, "-m", f"ansible_collections.cloudimages.transfer.plugins.modules.{name}",
                                      str(path)], env)
    result = json.loads(out)
    if result.get("failed"):
        raise RuntimeError(f"{name}: {result['msg']}")
    return elapsed, rss, result


def make_source(path: Path, size: int) -> str:
    digest = hashlib.md5()
    with open(path, "wb") as f:
        for _ in range(size // (64 * MiB)):
            block = os.urandom(64 * MiB)
            f.write(block)
            digest.update(block)
    return digest.hexdigest()


def raw_baseline(cloud: Cloud, segments: list, src_container: str, dst_container: str) -> tuple[float, int]:
    """curl GET | curl PUT per segment, CONCURRENCY at a time, then the manifest."""
    auth = f"X-Auth-Token: {cloud.token}"
    src, dst = cloud.swift["RegionOne"], cloud.swift["RegionTwo"]
    peak = 0

    def one(seg: str) -> int:
        get = subprocess.Popen(["curl", "-sfS", "-H", auth, f"{src}/{src_container}/{seg}"], stdout=subprocess.PIPE)
        put = subprocess.Popen(["curl", "-sfS", "-o", "/dev/null", "-X", "PUT", "-H", auth, "-T", "-",
                                f"{dst}/{dst_container}/{seg}"], stdin=get.stdout)
        get.stdout.close()
        samplers = [PeakRss(get.pid), PeakRss(put.pid)]
        while put.poll() is None or get.poll() is None:
            time.sleep(0.01)
        if put.returncode or get.returncode:
            raise RuntimeError(f"curl failed on {seg}")
        return max(s.done() for s in samplers)

    started = time.monotonic()
    subprocess.run(["curl", "-sfS", "-X", "PUT", "-H", auth, f"{dst}/{dst_container}"], check=True)
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        for rss in pool.map(one, segments):
            peak = max(peak, rss)
    subprocess.run(["curl", "-sfS", "-X", "PUT", "-H", auth, "-H", f"X-Object-Manifest: {dst_container}/big.img-",
                    "--data-binary", "", f"{dst}/{dst_container}/big.img"], check=True)
    return time.monotonic() - started, peak


TOOLS = ("swift_dlo_copy", "ours via disk (download + upload)", "swift CLI via disk (download + upload --use-dlo)",
         "rclone copyto swift -> swift", "raw baseline (curl | curl per segment)")


def median(values: list) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-gib", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3,
                        help="each tool runs this many times, in a rotated order; medians are reported")
    parser.add_argument("--swift-workers", default="0",
                        help="Swift's 'workers' for the cloud's Swift servers: 0 (one process each, as the test "
                             "cloud runs them), a number, or 'auto' (Swift's own default, one per core)")
    parser.add_argument("--sweep", default="1,2,8",
                        help="concurrencies to run swift_dlo_copy at once each, beside the rounds' 4 ('' for none)")
    parser.add_argument("--sizes", default="",
                        help="GiB sizes for the linearity sweep of swift_dlo_copy and the raw baseline (e.g. 1,2,4,8); "
                             "runs only the sweep")
    options = parser.parse_args()
    if options.sizes:
        return size_sweep([int(x) for x in options.sizes.split(",")], options.rounds, options.swift_workers)
    size = int(options.size_gib * 1024) * MiB
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=OUT))
    (work / "collections" / "ansible_collections" / "cloudimages").mkdir(parents=True)
    (work / "collections" / "ansible_collections" / "cloudimages" / "transfer").symlink_to(REPO)
    rclone = shutil.which("rclone")
    runs = {name: [] for name in TOOLS}  # name -> [(seconds, peak RSS KiB, (tool CPU s, servers' CPU s))]
    try:
        with Cloud(options.swift_workers) as cloud:
            source = work / "source.img"
            log(f"making a {size // MiB} MiB random file")
            digest = make_source(source, size)
            base = {"cloud": "localcloud-producer", "region_name": "RegionOne"}
            upload = module("swift_dlo_upload", {**base, "container": "bench", "object": "big.img",
                                                 "src": str(source), "segment_size": "128MiB",
                                                 "concurrency": CONCURRENCY}, cloud, work)
            log(f"source uploaded in {upload[0]:.1f} s")
            segments = [o["name"] for o in cloud.session().get(
                f"{cloud.swift['RegionOne']}/bench", params={"format": "json", "prefix": "big.img-"}).json()]

            def verify(container: str, name: str = "big.img") -> None:
                got = cloud.md5_of("RegionTwo", container, name)
                if got != digest:
                    raise RuntimeError(f"{container}/{name} in RegionTwo does not match the source")
                cloud.clear("RegionTwo", container)

            copy_args = {**base, "container": "bench", "object": "big.img", "concurrency": CONCURRENCY,
                         "target": {"region_name": "RegionTwo", "container": "copy"}}
            dest = work / "via-disk.img"

            def ours_copy():
                meter = CpuMeter()
                t, rss, _ = module("swift_dlo_copy", copy_args, cloud, work)
                cpu = meter.stop()
                verify("copy")
                return t, rss, cpu

            def ours_disk():
                meter = CpuMeter()
                t1, rss1, _ = module("swift_dlo_download", {**base, "container": "bench", "object": "big.img",
                                                            "dest": str(dest), "concurrency": CONCURRENCY}, cloud, work)
                t2, rss2, _ = module("swift_dlo_upload", {**base, "region_name": "RegionTwo", "container": "disk",
                                                          "object": "big.img", "src": str(dest), "segment_size": "128MiB",
                                                          "concurrency": CONCURRENCY}, cloud, work)
                cpu = meter.stop()
                dest.unlink()
                verify("disk")
                return t1 + t2, max(rss1, rss2), cpu

            def swift_cli():
                meter = CpuMeter()
                cli = [str(BIN / "swift"), "--os-auth-token", cloud.token]
                t1, rss1, _ = run_measured(cli + ["--os-storage-url", cloud.swift["RegionOne"], "download", "bench",
                                                  "big.img", "-o", str(dest)])
                t2, rss2, _ = run_measured(cli + ["--os-storage-url", cloud.swift["RegionTwo"], "upload", "--use-dlo",
                                                  "--segment-size", str(SEGMENT), "--object-name", "big.img", "cli",
                                                  str(dest)])
                cpu = meter.stop()
                dest.unlink()
                verify("cli")
                cloud.clear("RegionTwo", "cli_segments")
                return t1 + t2, max(rss1, rss2), cpu

            def rclone_copy():
                env = {**os.environ}
                for remote, region in (("SRC", "RegionOne"), ("DST", "RegionTwo")):
                    env[f"RCLONE_CONFIG_{remote}_TYPE"] = "swift"
                    env[f"RCLONE_CONFIG_{remote}_STORAGE_URL"] = cloud.swift[region]
                    env[f"RCLONE_CONFIG_{remote}_AUTH_TOKEN"] = cloud.token
                meter = CpuMeter()
                t, rss, _ = run_measured([rclone, "copyto", "SRC:bench/big.img", "DST:rclone/big.img",
                                          "--transfers", str(CONCURRENCY)], env)
                cpu = meter.stop()
                verify("rclone")
                return t, rss, cpu

            def raw():
                meter = CpuMeter()
                t, rss = raw_baseline(cloud, segments, "bench", "raw")
                cpu = meter.stop()
                verify("raw")
                return t, rss, cpu

            os.chdir(work)  # swift upload names its segments after the path it is given
            tools = dict(zip(TOOLS, (ours_copy, ours_disk, swift_cli, rclone_copy, raw)))
            if not rclone:
                log("rclone not found: left out")
                del tools["rclone copyto swift -> swift"], runs["rclone copyto swift -> swift"]
            # Untimed warm-up: on this VM the first run after a pause pays for the host handing
            # memory back (page-cache pages fault in slowly), whichever tool it is.
            raw()
            order = list(tools)
            for round_no in range(options.rounds):
                for name in order[round_no % len(order):] + order[:round_no % len(order)]:
                    t, rss, cpu = tools[name]()
                    runs[name].append((t, rss, cpu))
                    log(f"round {round_no + 1}: {name} {t:.1f} s, CPU {cpu[0]:.1f} s tool + {cpu[1]:.1f} s servers")

            # does concurrency pay here? (on two cores the servers are the limit well before 4)
            sweep = {}
            for level in [int(x) for x in options.sweep.split(",") if x.strip()]:
                t, _, _ = module("swift_dlo_copy", {**copy_args, "concurrency": level}, cloud, work)
                verify("copy")
                sweep[level] = t
                log(f"swift_dlo_copy at concurrency {level}: {t:.1f} s")

            # RSS at twice the size: a second DLO made of the same segments twice
            session = cloud.session()
            session.put(f"{cloud.swift['RegionOne']}/double")
            for n, seg in enumerate(segments * 2, 1):
                session.put(f"{cloud.swift['RegionOne']}/double/big.img-{n:05d}",
                            headers={"X-Copy-From": f"bench/{seg}", "Content-Length": "0"}).raise_for_status()
            session.put(f"{cloud.swift['RegionOne']}/double/big.img", data=b"",
                        headers={"X-Object-Manifest": "double/big.img-"}).raise_for_status()
            t, rss_double, _ = module("swift_dlo_copy", {**copy_args, "container": "double",
                                                         "target": {"region_name": "RegionTwo", "container": "dbl"}},
                                      cloud, work)
            cloud.clear("RegionTwo", "dbl")
            log(f"swift_dlo_copy at {2 * size // MiB} MiB: {t:.1f} s, {rss_double // 1024} MiB RSS")

            # killed at ~50 %, then rerun
            progress = work / "progress.json"
            kill_args = {**copy_args, "target": {"region_name": "RegionTwo", "container": "killed"},
                         "progress_file": str(progress)}
            args_path = work / "kill-args.json"
            args_path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": kill_args}))
            env = {**os.environ, "PYTHONPATH": str(work / "collections"),
                   "OS_CLIENT_CONFIG_FILE": cloud.doc["clouds_yaml"]}
            proc = subprocess.Popen([PY, "-m", "ansible_collections.cloudimages.transfer.plugins.modules.swift_dlo_copy",
                                     str(args_path)], env=env, stdout=subprocess.DEVNULL)
            done = 0
            while proc.poll() is None:
                try:
                    doc = json.loads(progress.read_text())
                    done = doc["bytes_done"]
                except (OSError, ValueError):
                    pass
                if done >= size // 2:
                    proc.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.01)
            proc.wait()
            _, _, rerun = module("swift_dlo_copy", kill_args, cloud, work)
            verify("killed")
            resent = rerun["bytes_copied"] - (size - done)
            log(f"killed at {done / size:.0%}; rerun copied {rerun['bytes_copied'] // MiB} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    wall = {name: median([t for t, _, _ in got]) for name, got in runs.items()}
    peak = {name: max(rss for _, rss, _ in got) for name, got in runs.items()}
    cpu = {name: (median([c[0] for _, _, c in got]), median([c[1] for _, _, c in got])) for name, got in runs.items()}
    print(f"\nDLO of {size // MiB} MiB in {size // SEGMENT} segments of 128 MiB, RegionOne -> RegionTwo, "
          f"concurrency {CONCURRENCY}, {os.cpu_count()} cores, Swift workers {options.swift_workers}; median of "
          f"{options.rounds} rounds in rotated order after an untimed warm-up\n")
    print(f"| {'tool':50} | {'wall s':>7} | {'MB/s':>7} | {'runs s':>18} | {'peak RSS MiB':>12} | "
          f"{'tool CPU s':>10} | {'servers CPU s':>13} |")
    print(f"|{'-' * 52}|{'-' * 9}|{'-' * 9}|{'-' * 20}|{'-' * 14}|{'-' * 12}|{'-' * 15}|")
    print(f"| {'swift_dlo_upload (file -> RegionOne), once':50} | {upload[0]:7.1f} | {size / upload[0] / 1e6:7.1f} | "
          f"{'':>18} | {upload[1] / 1024:12.1f} | {'':>10} | {'':>13} |")
    for name, got in runs.items():
        spread = " ".join(f"{t:.1f}" for t, _, _ in got)
        print(f"| {name:50} | {wall[name]:7.1f} | {size / wall[name] / 1e6:7.1f} | {spread:>18} | "
              f"{peak[name] / 1024:12.1f} | {cpu[name][0]:10.1f} | {cpu[name][1]:13.1f} |")
    if sweep:
        sweep[CONCURRENCY] = wall["swift_dlo_copy"]
        print("\nswift_dlo_copy by concurrency: " + ", ".join(f"{level}: {sweep[level]:.1f} s" for level in sorted(sweep)))
    copy_t, cli_t = wall["swift_dlo_copy"], wall["swift CLI via disk (download + upload --use-dlo)"]
    print("\nratios of the medians (targets in brackets):")
    print(f"  swift_dlo_copy / raw baseline         {copy_t / wall['raw baseline (curl | curl per segment)']:.2f}  [<= 1.10]")
    if rclone:
        print(f"  swift_dlo_copy / rclone               {copy_t / wall['rclone copyto swift -> swift']:.2f}  [<= 0.90]")
    print(f"  swift_dlo_copy / swift CLI            {copy_t / cli_t:.2f}  [<= 0.60]")
    print(f"  ours via disk / swift CLI via disk    {wall['ours via disk (download + upload)'] / cli_t:.2f}  [<= 0.80]")
    print(f"  swift_dlo_copy peak RSS {peak['swift_dlo_copy'] / 1024:.0f} MiB at {size // MiB} MiB, "
          f"{rss_double / 1024:.0f} MiB at {2 * size // MiB} MiB  [<= 100, flat]")
    print(f"  killed at {done / size:.0%}: the rerun re-sent {max(resent, 0) / MiB:.0f} MiB beyond what was missing "
          f"[<= concurrency x segment = {CONCURRENCY * SEGMENT // MiB} MiB]")
    return 0


def segments_of(cloud: Cloud, region: str, container: str, prefix: str) -> list:
    """(ETag, bytes) of every segment under the prefix, in Swift's order, every listing page."""
    found, marker = [], ""
    while True:
        page = cloud.session().get(f"{cloud.swift[region]}/{container}", timeout=60,
                                   params={"format": "json", "prefix": prefix, "marker": marker}).json()
        if not page:
            return found
        found.extend((o["hash"], o["bytes"]) for o in page)
        marker = page[-1]["name"]


def size_sweep(sizes: list, rounds: int, swift_workers: str) -> int:
    """swift_dlo_copy and the raw baseline at each size: is our cost linear in size, as raw's is?"""
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sweep-", dir=OUT))
    (work / "collections" / "ansible_collections" / "cloudimages").mkdir(parents=True)
    (work / "collections" / "ansible_collections" / "cloudimages" / "transfer").symlink_to(REPO)
    runs = {(tool, gib): [] for tool in ("ours", "raw") for gib in sizes}  # -> [(seconds, peak RSS KiB)]
    try:
        with Cloud(swift_workers) as cloud:
            one = work / "one-gib.img"
            make_source(one, 1024 * MiB)
            base = {"cloud": "localcloud-producer", "region_name": "RegionOne"}
            module("swift_dlo_upload", {**base, "container": "unit", "object": "one.img", "src": str(one),
                                        "segment_size": "128MiB", "concurrency": CONCURRENCY}, cloud, work)
            one.unlink()
            unit = [o["name"] for o in cloud.session().get(f"{cloud.swift['RegionOne']}/unit", timeout=60,
                                                           params={"format": "json", "prefix": "one.img-"}).json()]
            session, src = cloud.session(), cloud.swift["RegionOne"]
            names, expected = {}, {}
            for gib in sizes:  # N GiB = the one GiB's segments N times over, copied inside Swift
                container = f"sweep{gib}"
                session.put(f"{src}/{container}").raise_for_status()
                names[gib] = [f"big.img-{n:05d}" for n in range(1, gib * len(unit) + 1)]
                for name, seg in zip(names[gib], unit * gib):
                    session.put(f"{src}/{container}/{name}", timeout=600,
                                headers={"X-Copy-From": f"unit/{seg}", "Content-Length": "0"}).raise_for_status()
                session.put(f"{src}/{container}/big.img", data=b"",
                            headers={"X-Object-Manifest": f"{container}/big.img-"}).raise_for_status()
                expected[gib] = segments_of(cloud, "RegionOne", container, "big.img-")
                log(f"source of {gib} GiB made in Swift ({len(names[gib])} segments)")

            def verify(gib: int, container: str) -> None:
                if segments_of(cloud, "RegionTwo", container, "") != expected[gib]:
                    raise RuntimeError(f"{container} in RegionTwo does not have the {gib} GiB source's segments")
                cloud.clear("RegionTwo", container)

            def ours(gib: int) -> tuple[float, int]:
                t, rss, _ = module("swift_dlo_copy", {**base, "container": f"sweep{gib}", "object": "big.img",
                                                      "concurrency": CONCURRENCY,
                                                      "target": {"region_name": "RegionTwo", "container": "copy",
                                                                 "segment_container": "copy_segments"}},
                                   cloud, work)
                if segments_of(cloud, "RegionTwo", "copy_segments", "") != expected[gib]:
                    raise RuntimeError(f"the copy of {gib} GiB does not have the source's segments")
                cloud.clear("RegionTwo", "copy")
                cloud.clear("RegionTwo", "copy_segments")
                return t, rss

            def raw(gib: int) -> tuple[float, int]:
                t, rss = raw_baseline(cloud, names[gib], f"sweep{gib}", "raw")
                cloud.session().delete(f"{cloud.swift['RegionTwo']}/raw/big.img").raise_for_status()
                verify(gib, "raw")
                return t, rss

            raw(sizes[0])  # untimed warm-up
            for round_no in range(rounds):
                order = sizes[round_no % len(sizes):] + sizes[:round_no % len(sizes)]
                for gib in order:
                    for tool, run in (("ours", ours), ("raw", raw))[::1 if round_no % 2 == 0 else -1]:
                        t, rss = run(gib)
                        runs[(tool, gib)].append((t, rss))
                        log(f"round {round_no + 1}: {gib} GiB {tool} {t:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    wall = {key: median([t for t, _ in got]) for key, got in runs.items()}
    print(f"\nswift_dlo_copy and the raw baseline (curl | curl per segment) by size, RegionOne -> RegionTwo, 128 MiB "
          f"segments, concurrency {CONCURRENCY}, {os.cpu_count()} cores; median of {rounds} rounds\n")
    print("| GiB | ours s | raw s | ours / raw | ours growth | raw growth | growth ratio | ours peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for n, gib in enumerate(sizes):
        growth = ""
        if n:
            before = sizes[n - 1]
            ours_growth, raw_growth = wall[("ours", gib)] / wall[("ours", before)], wall[("raw", gib)] / wall[("raw", before)]
            growth = f"{ours_growth:.2f} x | {raw_growth:.2f} x | {ours_growth / raw_growth:.2f}"
        else:
            growth = " | | "
        peak = max(rss for _, rss in runs[("ours", gib)])
        print(f"| {gib} | {wall[('ours', gib)]:.1f} | {wall[('raw', gib)]:.1f} | "
              f"{wall[('ours', gib)] / wall[('raw', gib)]:.2f} | {growth} | {peak / 1024:.0f} |")
    print("\ntargets: growth ratio within 0.90-1.10 at every step; peak RSS flat")
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    sys.exit(main())
