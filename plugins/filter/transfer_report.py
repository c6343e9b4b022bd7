# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transfer report's arithmetic and its table (the transfer_image playbook's last play)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

PHASES = ("preflight", "export", "copy", "import", "verify", "finish")


def phase_seconds(marks, verify_seconds=0):
    """[[phase, moment it ended], ...] from the start mark on -> {phase: seconds}; the import
    phase's verification (image_import's verification_seconds) reported as its own phase."""
    try:
        moments = [(str(name), float(at)) for name, at in marks]
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"phase_seconds takes [[phase, seconds since the epoch], ...]: {exc}") from None
    seconds = {}
    for previous, (name, at) in zip(moments, moments[1:]):
        before = previous[1]
        seconds[name] = round(seconds.get(name, 0.0) + max(at - before, 0.0), 1)
    if "import" in seconds:  # the verification is part of the import module's run
        verify = min(float(verify_seconds or 0), seconds["import"])
        seconds["import"] = round(seconds["import"] - verify, 1)
        seconds["verify"] = round(verify, 1)
    return {name: seconds[name] for name in PHASES + tuple(sorted(set(seconds) - set(PHASES))) if name in seconds}


def transfer_report_rows(jobs, check_mode=False):
    """One report row per job host of the transfer_image playbook, from its variables: what the
    region_transfer role left (region_transfer_result, the source, the phase marks) and what the
    playbook's rescue recorded (_transfer_image_error)."""
    rows = []
    for job in jobs or []:
        result = job.get("region_transfer_result") or {}
        source = job.get("_region_transfer_source") or {}
        marks = job.get("_region_transfer_marks")
        error = job.get("_transfer_image_error") or ""
        if error:
            outcome = "failed"
        elif marks is None:
            outcome = "not started: an earlier image failed"
        elif not result:
            outcome = "check mode: would transfer" if check_mode else "failed: did not finish"
        else:
            outcome = "transferred" if result.get("moved_data") else "already there"
        rows.append({
            "image": job.get("region_transfer_image") or job.get("region_transfer_image_filters") or "",
            "worker": job.get("transfer_worker") or "this machine",
            "source_image_id": source.get("id", ""),
            "source_name": source.get("name", ""),
            "target_image_id": result.get("target_image_id") or job.get("_region_transfer_target_id") or "",
            "bytes": source.get("size"),
            "phases": result.get("phases") or (phase_seconds(marks) if marks else {}),
            "verification": result.get("verification") or {},
            "moved_data": bool(result.get("moved_data")),
            "conversion": result.get("conversion", "none"),
            "path": result.get("path") or (job.get("_region_transfer_path") or {}).get("why", ""),
            "result": outcome,
            "error": str(error).strip(),
        })
    return rows


def _mib(nbytes) -> str:
    try:
        return f"{int(nbytes) / 1048576:.1f}"
    except (TypeError, ValueError):
        return "-"


def transfer_report_table(rows):
    """One line per image: source, target, MiB, seconds per phase, what was verified, result."""
    header = ["source image", "name", "target image", "MiB"] + list(PHASES) + ["total s", "verified", "result"]
    lines = [header]
    for row in rows or []:
        phases = row.get("phases") or {}
        lines.append([
            row.get("source_image_id") or row.get("image") or "-",
            row.get("source_name") or "-",
            row.get("target_image_id") or "-",
            _mib(row.get("bytes")),
        ] + [f"{phases[p]:.1f}" if p in phases else "-" for p in PHASES] + [
            f"{sum(phases.values()):.1f}" if phases else "-",
            ", ".join(k for k, v in sorted((row.get("verification") or {}).items()) if v is True) or "-",
            row.get("result", "-") + (f": {row['error']}" if row.get("error") else ""),
        ])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header) - 1)]
    return ["  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)) + "  " + str(line[-1])
            for line in lines]


class FilterModule:
    def filters(self):
        return {"phase_seconds": phase_seconds, "transfer_report_rows": transfer_report_rows,
                "transfer_report_table": transfer_report_table}
