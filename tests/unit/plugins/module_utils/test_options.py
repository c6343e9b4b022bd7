"""Each job's options object: filled from the module's parameters by name, so every field must
be a parameter of its module (a misspelt field would silently keep its default)."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, fields

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import (
    _disk_convert,
    _dlo_copy,
    _dlo_download,
    _dlo_upload,
    _image_export,
    _image_import,
    _image_info,
    _image_member,
    _image_metadata,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params
from ansible_collections.cloudimages.transfer.plugins.module_utils._tasks import Waiting

JOBS = [("disk_image_convert", _disk_convert), ("swift_dlo_copy", _dlo_copy), ("swift_dlo_download", _dlo_download),
        ("swift_dlo_upload", _dlo_upload), ("image_export", _image_export), ("image_import", _image_import),
        ("image_info", _image_info), ("image_member", _image_member), ("image_metadata", _image_metadata)]


class Stop(Exception):
    pass


def argument_spec_of(module_name: str, monkeypatch) -> dict:
    """The argument spec the module's main() builds (its AnsibleModule is stopped at once)."""
    module = importlib.import_module(f"ansible_collections.cloudimages.transfer.plugins.modules.{module_name}")
    seen = {}

    def capture(argument_spec, **_kwargs):
        seen.update(argument_spec)
        raise Stop

    monkeypatch.setattr(module, "AnsibleModule", capture)
    with pytest.raises(Stop):
        module.main()
    return seen


@pytest.mark.parametrize("module_name,job", JOBS, ids=[job[0] for job in JOBS])
def test_every_field_of_a_jobs_options_is_a_parameter_of_its_module(module_name, job, monkeypatch):
    spec = argument_spec_of(module_name, monkeypatch)
    names = set(spec)
    if module_name == "swift_dlo_copy":  # the target's names come from its suboptions
        names |= {f"target_{key}" for key in spec["target"]["options"]}
    wanted = [f.name for f in fields(job.Options) if f.name != "waiting"]
    if "waiting" in {f.name for f in fields(job.Options)}:  # the waiting options, unpacked beside the job's own
        wanted += [f.name for f in fields(Waiting)]
    assert [name for name in wanted if name not in names] == []


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
