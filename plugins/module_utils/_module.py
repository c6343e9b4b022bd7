# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""The Ansible face shared by every module: connections from params, one error mapping."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import (
    CONNECTION_KEYS,
    INSECURE,
    Connection,
    ConnectionOptions,
    connection_argument_spec,
    missing_libraries,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils import _cancel
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError, scrub
from ansible_collections.cloudimages.transfer.plugins.module_utils._glance import Glance
from ansible_collections.cloudimages.transfer.plugins.module_utils._sizes import parse_rate
from ansible_collections.cloudimages.transfer.plugins.module_utils._swift import Swift
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import RATE

RESERVED = {"changed", "failed", "msg", "skipped", "invocation"}


def swift_for(params: dict, fallback: dict | None = None) -> Swift:
    return Swift(Connection(ConnectionOptions.from_params(params, fallback)))


def connect(params: dict, need_swift: bool = True) -> tuple:
    """(Glance, Swift) of one region, sharing one connection (one login)."""
    connection = Connection(ConnectionOptions.from_params(params))
    return Glance(connection), Swift(connection) if need_swift else None


def background_argument_spec() -> dict:
    """Options of the modules that can run long, in the background (doc_fragments/_background.py)."""
    return dict(
        progress_file=dict(type="path"),
        heartbeat_file=dict(type="path"),
        heartbeat_timeout=dict(type="int", default=60),
    )


def public_container_argument_spec() -> dict:
    """Whether a disk image may be written into a publicly readable container
    (doc_fragments/_large_object.py PUBLIC_CONTAINER)."""
    return dict(allow_public_container=dict(type="bool", default=False))


def max_rate_argument_spec() -> dict:
    """The bandwidth cap of the modules that move data (doc_fragments/_large_object.py MAX_RATE)."""
    return dict(max_rate=dict(type="str", default="0"))


def waiting_argument_spec() -> dict:
    """Options of the modules that wait on asynchronous work (doc_fragments/_waiting.py and _background.py)."""
    return dict(
        poll_interval=dict(type="float", default=30),
        wait_timeout=dict(type="int", default=21600),
        task_retries=dict(type="int", default=2),
        max_size=dict(type="int"),
        **background_argument_spec(),
    )


def glance_for(params: dict, fallback: dict | None = None) -> Glance:
    return Glance(Connection(ConnectionOptions.from_params(params, fallback)))


OWN_TLS_KEYS = ("ca_cert", "validate_certs", "client_cert", "client_key")


def inherited_connection(params: dict, other: dict) -> dict:
    """The module's connection settings as defaults for another side (``target``, ``copy_from``).

    When the other side names its own cloud, the module's credentials are not lent to it, nor
    its TLS settings (that cloud's clouds.yaml entry has its own: a CA bundle or an insecure
    ``validate_certs: false`` meant for one cloud must not decide how another is trusted).
    """
    inherited = {key: params[key] for key in CONNECTION_KEYS}
    if other.get("cloud"):
        for key in OWN_TLS_KEYS:
            inherited.pop(key, None)
        if not other.get("auth"):
            for key in ("auth", "auth_type"):
                inherited.pop(key)
    return inherited


def target_argument_spec(extra: dict) -> dict:
    """A ``target`` option: connection settings (unset ones inherit the module's) plus ``extra``."""
    spec = connection_argument_spec()
    spec["timeout"].pop("default")
    spec["retries"].pop("default")
    spec.update(extra)
    return spec


def check_concurrency(params: dict) -> None:
    if params.get("concurrency") is not None and params["concurrency"] < 1:
        raise TransferError(f"concurrency must be at least 1, got {params['concurrency']}")


def run_module(module, job, cloud: bool = True) -> None:
    """Run job() -> result; map every failure to fail_json once, with a scrubbed message.
    ``cloud=False``: a local job, which needs none of the cloud libraries."""
    missing = missing_libraries() if cloud else []
    if missing:
        name, error = missing[0]
        module.fail_json(msg=missing_required_lib(name), exception=error)
    _cancel.watch(module.params.get("heartbeat_file"), module.params.get("heartbeat_timeout"))
    try:
        check_concurrency(module.params)
        if "max_rate" in module.params:
            RATE.set(parse_rate(module.params["max_rate"]))
        result = job()
    except TransferError as exc:
        details = {k: v for k, v in exc.details.items() if k not in RESERVED}
        warn_insecure(module)
        module.fail_json(msg=exc.msg, **details)
    except Exception as exc:  # a bug of ours: say so plainly, keep the traceback for -vvv, scrubbed
        module.fail_json(msg=scrub(f"Unexpected error ({exc.__class__.__name__}): {exc}"),
                         exception=scrub(traceback.format_exc()))
    if not module._diff:
        result.pop("diff", None)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    warn_insecure(module)
    module.exit_json(**result)


def warn_insecure(module) -> None:
    for warning in sorted(INSECURE):
        module.warn(warning)
