"""Run one Swift server of one local region, reading that region's swift.conf.

Usage (with the Swift venv's python): swift_server.py SWIFT_DIR APP_SECTION CONF

Out of the box only the WSGI servers honour ``swift_dir``, and only for the hash
prefix/suffix: ``[swift-constraints]`` and the storage policies are read from
/etc/swift/swift.conf at import time. Two independent clusters on one machine
need each to read its own, so point Swift at the region's folder before the
server is imported.
"""
import sys

from swift.common import constraints, storage_policy, utils


def main():
    swift_dir, app_section, conf = sys.argv[1:4]
    utils.set_swift_dir(swift_dir)
    constraints.reload_constraints()
    storage_policy.reload_storage_policies()
    from swift.common.wsgi import run_wsgi  # only after the reloads above

    return run_wsgi(conf, app_section, verbose=True)


if __name__ == "__main__":
    sys.exit(main())
