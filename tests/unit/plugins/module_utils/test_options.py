"""Options filled from a module's parameters: absent or null parameters keep the defaults, the
copy's target is unpacked into its own names, an option group is filled from the same
parameters. (That every field is a parameter of its module is tested with the modules' main().)"""
from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.cloudimages.transfer.plugins.module_utils import _dlo_copy, _image_import
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params
from ansible_collections.cloudimages.transfer.plugins.module_utils._tasks import Waiting


def test_absent_or_null_parameters_keep_the_defaults():
    @dataclass(frozen=True)
    class Wanted:
        container: str
        concurrency: int = 4
        tags: list | None = None

    assert from_params(Wanted, {"container": "c", "concurrency": None, "unrelated": 1}) == Wanted("c", 4, None)
    assert from_params(Wanted, {"container": "c", "concurrency": 8, "tags": []}) == Wanted("c", 8, [])


def test_the_copys_target_names_are_unpacked_from_its_target():
    opts = _dlo_copy.Options.from_params({"container": "a", "object": "o", "manifest": None,
                                          "target": {"container": "b", "segment_prefix": "o/", "region_name": "R2"}})
    assert (opts.target_container, opts.target_object, opts.target_segment_prefix, opts.manifest) == \
        ("b", None, "o/", "keep")


def test_the_waiting_options_are_unpacked_beside_the_jobs_own():
    opts = _image_import.Options.from_params({"name": "n", "method": "upload", "poll_interval": 2.0,
                                              "wait_timeout": 60, "max_size": 10, "progress_file": None})
    assert opts.waiting == Waiting(poll_interval=2.0, wait_timeout=60, max_size=10)
    assert (opts.waiting.poller().interval, opts.waiting.poller().deadline) == (2.0, 60)
