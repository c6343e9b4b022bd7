# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""A job's options: a frozen dataclass filled once from the module's parameters, so that no
job reads Ansible option names deep inside module_utils."""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass


def from_params(cls, params: dict):
    """An instance of the options dataclass ``cls``: each field from the parameter of its name;
    a parameter that is absent or None leaves the field's default. A field whose default is
    another options dataclass (a group such as the waiting options) is filled from the same
    parameters, which the module declares beside its own."""
    values = {}
    for f in fields(cls):
        if f.default_factory is not MISSING and is_dataclass(f.default_factory):
            values[f.name] = from_params(f.default_factory, params)
        elif params.get(f.name) is not None:
            values[f.name] = params[f.name]
    return cls(**values)
