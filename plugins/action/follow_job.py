# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Follow a module running in the background: one loop (no recursion), one progress line per
poll, the heartbeat touched so that the module stops when the playbook no longer follows it."""

from __future__ import annotations

import json
import re
import shlex
import time

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

ARGS = {
    "job": {"type": "dict", "required": True},
    "label": {"type": "str", "default": "job"},
    "progress_file": {"type": "path"},
    "heartbeat_file": {"type": "path"},
    "interval": {"type": "float", "default": 10},
}


FIRST_DELAY = 0.25  # seconds before the second poll; doubled at each poll up to the interval


def shell_path(path: str) -> str:
    """A path quoted for the target's POSIX shell, a leading '~/' kept as "$HOME"/."""
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    return shlex.quote(path)


def duration(seconds) -> str:
    """6 min 30 s, 2 h 5 min, 12 s."""
    seconds = int(round(float(seconds or 0)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def mib(nbytes) -> str:
    return f"{(nbytes or 0) / 1048576:.1f}"


def progress_line(doc, elapsed: float) -> str:
    """One line from a module's progress document (doc_fragments/_background.py), or from the
    time alone when the module has written none yet."""
    if not isinstance(doc, dict) or not doc:
        return f"running, {duration(elapsed)} elapsed"
    if "bytes_total" in doc:
        eta = doc.get("eta_seconds")
        return (f"{doc.get('percent', 0):g} % - {mib(doc.get('bytes_done'))} of "
                f"{mib(doc.get('bytes_total'))} MiB, {(doc.get('rate_bytes_per_second') or 0) / 1e6:.1f} MB/s, "
                f"ETA {duration(eta) if eta is not None else '?'}, {duration(doc.get('elapsed_seconds', elapsed))} elapsed")
    line = f"{doc.get('operation', 'waiting')}: {doc.get('detail') or doc.get('state', '?')}, " \
           f"{duration(doc.get('elapsed_seconds', elapsed))} elapsed"
    pause = doc.get("poll_interval")
    if pause:
        line += f", polling every {f'{pause:.1f} s' if pause < 1 else duration(pause)}"
        if doc.get("poll_interval_max") and doc["poll_interval_max"] != pause:
            line += f" (more seldom as it lasts, up to {duration(doc['poll_interval_max'])})"
    return line


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGS)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self.validate_argument_spec(argument_spec=ARGS)[1]
        job = args["job"]
        if not job.get("ansible_job_id") or job.get("finished"):
            # the task ran in the foreground (async 0, as in check mode) or was skipped: its result stands
            return {**result, **job}
        if args["interval"] <= 0:
            raise AnsibleActionFail(f"interval must be positive, got {args['interval']:g}")
        jid = job["ansible_job_id"]
        host = task_vars.get("inventory_hostname", "")
        if self._task.delegate_to and self._task.delegate_to != host:
            host = f"{host} -> {self._task.delegate_to}"
        started = time.monotonic()
        try:
            status = self._follow(args, jid, host, started, task_vars)
        except JobGone as exc:
            return {**result, "failed": True, "job_gone": True, "msg": str(exc)}
        except AnsibleConnectionFailure as exc:
            # a failure, not 'unreachable': the playbook's rescue records it and the other images go on
            return {**result, "failed": True, "unreachable_while_following": True,
                    "msg": f"Lost the connection to the host running the {args['label']} ({exc}); the job there "
                           "stops by itself once its heartbeat is no longer renewed, and a rerun resumes it"}
        status["follow"] = {"seconds": round(time.monotonic() - started, 1), "polls": status.pop("_polls")}
        return {**result, **status}

    def _follow(self, args, jid, host, started, task_vars):
        polls = 0
        try:
            async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
            status_file = f"{async_dir.rstrip('/')}/{jid}"
            delay, said, gone = FIRST_DELAY, started, 0
            while True:
                # one plain command per poll (the heartbeat first: on a busy worker a poll can take
                # seconds) that also reads the job's status file; the async_status module only once
                # that file no longer says the job is running
                doc, running, vanished = self._poll(args["heartbeat_file"], args["progress_file"], status_file, jid)
                polls += 1
                gone = gone + 1 if vanished else 0
                if gone >= 2:  # twice in a row: not a result being written between the two looks
                    raise JobGone(f"The {args['label']} job {jid} ended without a result: no process of it is left "
                                  "while its status file still says running (killed, or its host restarted); "
                                  "a rerun resumes from what was verified")
                if not running:
                    # ended, or not known: async_status reads the result as Ansible decodes a module's
                    status = self._execute_module(module_name="ansible.legacy.async_status", task_vars=task_vars,
                                                  module_args={"jid": jid, "_async_dir": async_dir})
                    if status.get("finished") or not status.get("started"):
                        if status.get("finished"):  # what async_status's cleanup mode does, without a module
                            self._low_level_execute_command(f"rm -f -- {shlex.quote(status_file)}", sudoable=True)
                        break
                now = time.monotonic()
                if now - said >= args["interval"] - 0.05:
                    display.display(printable(f"[{host}] {args['label']}: {progress_line(doc, now - started)}"))
                    said = now
                # a short job is not kept waiting for a whole interval: the polls start fast and
                # slow down to one per interval, when a line is due
                time.sleep(max(0.05, min(delay, said + args["interval"] - time.monotonic())))
                delay *= 2
        finally:
            try:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            except AnsibleConnectionFailure:
                pass
        for key in ("started", "finished", "results_file", "ansible_job_id", "stdout", "stderr",
                    "stdout_lines", "stderr_lines", "erased"):
            status.pop(key, None)
        status["_polls"] = polls
        return status

    def _poll(self, heartbeat, progress, status_file, jid):
        """Touch the heartbeat, look for the job's processes, read the progress file and the job's
        status file in one plain command on the job's host. '~' is the job's HOME, as the modules
        expand it."""
        done = self._low_level_execute_command(poll_command(heartbeat, progress, status_file, jid), sudoable=True)
        return read_poll(done.get("stdout") or "")


class JobGone(AnsibleActionFail):
    """The job's processes are gone and it wrote no result."""


MARK = "--cloudimages-follow-job--"
GONE = "--cloudimages-job-gone--"
# a progress document is a few hundred bytes; a larger file is not ours, or not sane
PROGRESS_CAP = 65536
LINE_CAP = 400
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(line: str) -> str:
    """The line without control characters (a server's message could move the cursor or recolour
    the terminal), at most LINE_CAP characters."""
    line = CONTROL.sub("?", line)
    return line if len(line) <= LINE_CAP else line[:LINE_CAP - 3] + "..."


def poll_command(heartbeat, progress, status_file, jid: str = "") -> str:
    """The heartbeat touched; the progress document; MARK; GONE when no process on the host
    carries the job's id in its command line (async_wrapper's supervisor and the process that
    runs the module both do, until the result is written) - looked for before the status file is
    read, so that a job that just ended has its result there; then the status file."""
    parts = []
    if heartbeat:
        parts.append(f"(umask 077 && touch -- {shell_path(heartbeat)})")
    if progress:
        parts.append(f"head -c {PROGRESS_CAP} -- {shell_path(progress)} 2>/dev/null")
    parts.append(f"printf '\\n%s\\n' {MARK}")
    wrapper_id = jid.rsplit(".", 1)[0]  # async_wrapper's first argument; the pid after the dot is of a process long gone
    if len(wrapper_id) > 4:
        # the id reaches grep in two halves through a pipe: no command line of this poll holds it whole
        half = len(wrapper_id) // 2
        parts.append(f"if [ -r /proc/self/cmdline ] && ! printf '%s%s\\n' {shlex.quote(wrapper_id[:half])} "
                     f"{shlex.quote(wrapper_id[half:])} | grep -qsFf - /proc/[0-9]*/cmdline; then echo {GONE}; fi")
    parts.append(f"cat -- {shlex.quote(status_file)} 2>/dev/null || :")
    return "; ".join(parts)


def read_poll(stdout: str):
    """(progress document or None, whether the job's status file says it is still running,
    whether it says so while no process of the job is left).

    async_wrapper writes {"started": true, "finished": false, ...} while the job runs and the
    module's result once it ended, each whole (by a rename); anything but the first (a result,
    no file, a file that cannot be read) is left to async_status."""
    progress, _mark, status = stdout.rpartition(MARK)
    status = status.lstrip("\n")
    vanished = status.startswith(GONE)
    status = status[len(GONE):] if vanished else status
    try:
        doc = json.loads(progress)
    except ValueError:
        doc = None
    try:
        state = json.loads(status)
    except ValueError:
        return doc, False, False
    running = isinstance(state, dict) and state.get("started") == 1 and state.get("finished") == 0
    return doc, running, running and vanished
