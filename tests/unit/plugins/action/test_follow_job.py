"""The progress lines of cloudimages.transfer.follow_job, from each kind of progress document."""
from __future__ import annotations

from ansible_collections.cloudimages.transfer.plugins.action.follow_job import duration, progress_line, shell_path


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


def test_no_document_yet():
    assert progress_line(None, 3.2) == "running, 3 s elapsed"
    assert progress_line({}, 61) == "running, 1 min 1 s elapsed"


def test_paths_for_the_shell_keep_home_and_quote_the_rest():
    assert shell_path("~/.ansible_async/cloudimages-a b.heartbeat") == "\"$HOME\"/'.ansible_async/cloudimages-a b.heartbeat'"
    assert shell_path("/var/tmp/.cloudimages-x.copy.progress.json") == "/var/tmp/.cloudimages-x.copy.progress.json"
    assert shell_path("/tmp/it's; rm -rf /") == "'/tmp/it'\"'\"'s; rm -rf /'"
