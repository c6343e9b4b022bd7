"""Each module's main(): its parameters become the job's options and clients, check mode reaches
the job, the job's result is the module's result (its diff only with --diff), and a failure is
one clean message. The job and the service clients are stand-ins that record what they were
given; what the jobs do with a cloud is tested in the system tests."""
from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import fields

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
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import ConnectionOptions
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._tasks import Waiting

# module, its job, the smallest valid arguments, what the job's options must then hold
CASES = [
    ("disk_image_convert", _disk_convert, {"src": "/nonexistent/a.vhd", "src_format": "vhd", "dest": "/nonexistent/a.raw",
                                           "dest_format": "raw"},
     {"src": "/nonexistent/a.vhd", "dest_format": "raw", "src_format": "vhd", "max_virtual_size": 1024 ** 4,
      "timeout": 3600}),
    ("image_export", _image_export, {"image": "img-1", "container": "exports", "poll_interval": 2},
     {"image": "img-1", "container": "exports", "method": "auto"}),
    ("image_import", _image_import, {"name": "copy", "method": "upload", "container": "c", "object": "o"},
     {"name": "copy", "method": "upload", "object": "o"}),
    ("image_info", _image_info, {"image": "img-1"}, {"image": "img-1"}),
    ("image_member", _image_member, {"image": "img-1", "members": ["p2"]}, {"image": "img-1", "members": ["p2"]}),
    ("image_metadata", _image_metadata, {"image": "img-1", "properties": {"os_distro": "debian"}},
     {"image": "img-1", "properties": {"os_distro": "debian"}}),
    ("swift_dlo_copy", _dlo_copy, {"container": "a", "object": "o", "cloud": "prod", "region_name": "R1",
                                   "target": {"container": "b", "region_name": "R2"}},
     {"container": "a", "object": "o", "target_container": "b", "target_object": None}),
    ("swift_dlo_download", _dlo_download, {"container": "a", "name": "o", "dest": "/nonexistent/o"},
     {"container": "a", "object": "o", "dest": "/nonexistent/o"}),
    ("swift_dlo_upload", _dlo_upload, {"container": "a", "object": "o", "src": "/nonexistent/o"},
     {"container": "a", "object": "o", "src": "/nonexistent/o"}),
]
IDS = [case[0] for case in CASES]
RESULT = {"changed": True, "image": {"id": "img-2"}, "diff": {"before": {}, "after": {"id": "img-2"}}}


class Stop(Exception):
    pass


def argument_spec_of(name: str, monkeypatch) -> dict:
    """The argument spec the module's main() builds (its AnsibleModule is stopped at once)."""
    module = importlib.import_module(f"ansible_collections.cloudimages.transfer.plugins.modules.{name}")
    seen = {}

    def capture(argument_spec, **_kwargs):
        seen.update(argument_spec)
        raise Stop

    monkeypatch.setattr(module, "AnsibleModule", capture)
    with pytest.raises(Stop):
        module.main()
    return seen


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_field_of_a_jobs_options_is_a_parameter_of_its_module(case, monkeypatch):
    # options are filled by name: a misspelt field would silently keep its default
    name, job = case[:2]
    spec = argument_spec_of(name, monkeypatch)
    names = set(spec)
    if name == "swift_dlo_copy":  # the target's names come from its suboptions
        names |= {f"target_{key}" for key in spec["target"]["options"]}
    wanted = [f.name for f in fields(job.Options) if f.name != "waiting"]
    if "waiting" in {f.name for f in fields(job.Options)}:  # the waiting options, unpacked beside the job's own
        wanted += [f.name for f in fields(Waiting)]
    assert [field for field in wanted if field not in names] == []


def client(kind):
    """A stand-in for glance_for/swift_for: which service, and the cloud and region of its merged connection."""
    def make(params, fallback=None):
        opts = ConnectionOptions.from_params(params, fallback)
        return kind, opts.cloud, opts.region_name
    return make


def connect(params, need_swift=True):
    opts = ConnectionOptions.from_params(params)
    return ("glance", opts.cloud, opts.region_name), (("swift", opts.cloud, opts.region_name) if need_swift else None)


@pytest.fixture
def job_calls(monkeypatch):
    """Each case's module with stand-in clients and a recording job; returns (module, calls, outcome)."""
    def setup(name, job, outcome):
        module = importlib.import_module(f"ansible_collections.cloudimages.transfer.plugins.modules.{name}")
        for attr, fake in (("connect", connect), ("glance_for", client("glance")), ("swift_for", client("swift"))):
            if hasattr(module, attr):
                monkeypatch.setattr(module, attr, fake)
        calls = []
        signature = inspect.signature(job.run)

        def run(*args, **kwargs):
            calls.append(signature.bind(*args, **kwargs).arguments)
            if isinstance(outcome, Exception):
                raise outcome
            return json.loads(json.dumps(outcome))
        monkeypatch.setattr(job, "run", run)
        return module, calls
    return setup


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_success_passes_the_options_and_returns_the_jobs_result(case, job_calls, run_main):
    name, job, args, wanted = case
    module, calls = job_calls(name, job, RESULT)
    result = run_main(module, args)
    assert len(calls) == 1
    opts = calls[0]["opts"]
    assert {key: getattr(opts, key) for key in wanted} == wanted
    assert calls[0].get("check_mode", False) is False
    assert (result["changed"], result["image"], "diff" in result, "failed" in result) == (True, {"id": "img-2"}, False, False)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_mode_reaches_the_job_and_diff_is_kept_when_asked(case, job_calls, run_main):
    name, job, args = case[:3]
    module, calls = job_calls(name, job, RESULT)
    result = run_main(module, {**args, "_ansible_check_mode": True, "_ansible_diff": True})
    if "check_mode" in calls[0]:  # image_info only reads
        assert calls[0]["check_mode"] is True
    assert result["diff"] == {"before": {}, "after": {"id": "img-2"}}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_failure_is_one_clean_message_with_its_details(case, job_calls, run_main):
    name, job, args = case[:3]
    module, calls = job_calls(name, job, TransferError("Failed to do it: 409 Conflict", segment=3, msg="hidden"))
    result = run_main(module, args)
    assert (len(calls), result["failed"], result["msg"], result["segment"]) == (1, True, "Failed to do it: 409 Conflict", 3)
    assert "exception" not in result


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_bug_is_named_as_one_without_a_traceback_in_the_message(case, job_calls, run_main):
    # the traceback goes to fail_json's exception, which each ansible-core version shows its own way at -vvv
    name, job, args = case[:3]
    module, calls = job_calls(name, job, KeyError("size"))
    result = run_main(module, args)
    assert (len(calls), result["failed"], result["msg"]) == (1, True, "Unexpected error (KeyError): 'size'")


def test_the_copys_target_has_its_own_region_and_inherits_the_cloud(job_calls, run_main):
    name, job, args = CASES[IDS.index("swift_dlo_copy")][:3]
    module, calls = job_calls(name, job, RESULT)
    run_main(module, args)
    assert (calls[0]["source"], calls[0]["target"]) == (("swift", "prod", "R1"), ("swift", "prod", "R2"))


def test_an_import_from_an_object_connects_to_swift_and_one_by_glance_download_does_not(job_calls, run_main):
    module, calls = job_calls("image_import", _image_import, RESULT)
    run_main(module, {"name": "copy", "method": "upload", "container": "c", "object": "o", "region_name": "R2"})
    run_main(module, {"name": "copy", "method": "glance-download", "region_name": "R2",
                      "source_image_id": "img-1", "source_region": "R1"})
    assert [(call["glance"], call["swift"], call["source_glance"]) for call in calls] == [
        (("glance", None, "R2"), ("swift", None, "R2"), None),
        (("glance", None, "R2"), None, ("glance", None, "R1"))]
