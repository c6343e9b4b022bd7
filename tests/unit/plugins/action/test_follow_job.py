"""The progress lines of cloudimages.transfer.follow_job, from each kind of progress document."""
from __future__ import annotations

import json
import os
import subprocess
import time

from ansible_collections.cloudimages.transfer.plugins.action.follow_job import (
    PROGRESS_CAP, duration, poll_command, printable, progress_line, read_poll, shell_path)


def test_duration():
    assert [duration(s) for s in (0, 12.4, 390, 7500)] == ["0 s", "12 s", "6 min 30 s", "2 h 5 min"]


def test_a_copy_says_percent_bytes_rate_eta():
    doc = {"operation": "copy", "state": "running", "bytes_done": 3 * 1048576, "bytes_total": 8 * 1048576,
           "percent": 37.5, "rate_bytes_per_second": 12_300_000, "eta_seconds": 4.2, "elapsed_seconds": 2.1}
    assert progress_line(doc, 9) == "37.5 % - 3.0 of 8.0 MiB, 12.3 MB/s, ETA 4 s, 2 s elapsed"


def test_a_copy_before_its_rate_is_known():
    doc = {"bytes_done": 0, "bytes_total": 1048576, "percent": 0.0, "rate_bytes_per_second": 0, "eta_seconds": None,
           "elapsed_seconds": 0.2}
    assert progress_line(doc, 1) == "0 % - 0.0 of 1.0 MiB, 0.0 MB/s, ETA ?, 0 s elapsed"


def test_a_wait_says_what_it_waits_for_and_how_often_it_polls():
    doc = {"operation": "waiting for export task 5c3 in region DFW", "state": "running", "detail": "processing",
           "elapsed_seconds": 390.2, "poll_interval": 30.0, "polls": 14}
    assert progress_line(doc, 400) == ("waiting for export task 5c3 in region DFW: processing, 6 min 30 s elapsed, "
                                       "polling every 30 s")


def test_an_adaptive_wait_says_its_pause_now_and_the_most_it_grows_to():
    doc = {"operation": "waiting for image 7 in region RegionTwo to become active", "detail": "importing",
           "elapsed_seconds": 1.0, "poll_interval": 0.2, "poll_interval_max": 30}
    assert progress_line(doc, 1) == ("waiting for image 7 in region RegionTwo to become active: importing, 1 s elapsed, "
                                     "polling every 0.2 s (more seldom as it lasts, up to 30 s)")


def test_no_document_yet():
    assert progress_line(None, 3.2) == "running, 3 s elapsed"
    assert progress_line({}, 61) == "running, 1 min 1 s elapsed"


def test_paths_for_the_shell_keep_home_and_quote_the_rest():
    assert shell_path("~/.ansible_async/cloudimages-a b.heartbeat") == "\"$HOME\"/'.ansible_async/cloudimages-a b.heartbeat'"
    assert shell_path("/var/tmp/.cloudimages-x.copy.progress.json") == "/var/tmp/.cloudimages-x.copy.progress.json"
    assert shell_path("/tmp/it's; rm -rf /") == "'/tmp/it'\"'\"'s; rm -rf /'"


def poll(tmp_path, progress, status, jid="123.456"):
    """The poll command run by a real POSIX shell, as on the job's host."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    if progress is not None:
        (tmp_path / "p r.json").write_text(progress)
    if status is not None:
        (tmp_path / "123.456").write_text(status)
    command = poll_command("~/hb 1", str(tmp_path / "p r.json"), str(tmp_path / "123.456"), jid)
    out = subprocess.run(["/bin/sh", "-c", command], env={**os.environ, "HOME": str(home)},
                         capture_output=True, text=True, check=True).stdout
    assert (home / "hb 1").exists()
    return read_poll(out)


def test_a_poll_touches_the_heartbeat_and_reads_progress_and_the_status_file(tmp_path):
    running = json.dumps({"started": True, "finished": False, "ansible_job_id": "123.456"})
    assert poll(tmp_path, '{"percent": 5}', running) == ({"percent": 5}, True, False)
    assert poll(tmp_path, '{"percent": 6}', '{"started": 1, "finished": 0, "ansible_job_id": "123.456"}') == (
        {"percent": 6}, True, False)


def test_a_job_whose_processes_are_gone_while_its_file_says_running_is_seen(tmp_path):
    """async_wrapper's processes carry the job id's first part as an argument; a job killed with
    them (SIGKILL, a host restart) leaves its status file saying running for ever."""
    running = json.dumps({"started": True, "finished": False, "ansible_job_id": "j4242424242.77"})
    marker = f"j{os.getpid()}{time.time_ns()}"  # no process has this in its command line
    assert poll(tmp_path, None, running, f"{marker}.77") == (None, True, True)
    alive = subprocess.Popen(["/bin/sh", "-c", "sleep 30", marker])  # a process that carries it, as async_wrapper's do
    try:
        assert poll(tmp_path, None, running, f"{marker}.77") == (None, True, False)
    finally:
        alive.kill()
        alive.wait()
    # a job that ended has its result read, whatever its processes
    assert poll(tmp_path, None, '{"changed": true}', f"{marker}.77") == (None, False, False)


def test_anything_but_a_running_status_is_left_to_async_status(tmp_path):
    assert poll(tmp_path, None, None) == (None, False, False)  # no file yet (or gone)
    assert poll(tmp_path, '{"percent": 100}', '{"changed": true, "image": "x"}') == ({"percent": 100}, False, False)
    assert poll(tmp_path, '{"perc', '{"started": tr') == (None, False, False)  # half-written


def test_a_huge_progress_file_is_read_only_to_its_cap(tmp_path):
    running = json.dumps({"started": True, "finished": False, "ansible_job_id": "123.456"})
    huge = '{"detail": "' + "x" * (PROGRESS_CAP * 4) + '"}'
    assert poll(tmp_path, huge, running) == (None, True, False)  # cut at the cap, so no document: the time alone is shown


def test_a_servers_words_reach_the_terminal_without_control_characters():
    doc = {"operation": "import", "detail": "Copied 5 MiB\x1b[2J\x1b]0;owned\x07\r\nfatal: fake", "elapsed_seconds": 3}
    line = printable(progress_line(doc, 3))
    assert line == "import: Copied 5 MiB?[2J?]0;owned???fatal: fake, 3 s elapsed"
    assert printable("y" * 1000) == "y" * 397 + "..."
