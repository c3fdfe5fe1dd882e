"""The regression guard: each row's last accepted ratio, and the verdicts.

``bench/baseline.json`` holds, per row (figure and subject), the ratio and
spread of a run someone looked at and accepted (``python -m bench --accept``).
A later run flags a row **REGRESSED** when its ratio moved the wrong way by
more than the spread, the larger of the run's and the baseline's: a change
inside the noise both runs showed is not a change anyone can claim.

"The wrong way" is down for throughputs (a unit per second, or a ``ge``
target) and up for times (``ms``, a ``le`` or ``subject_le`` target). A row
of one run has no spread; it is shown, never flagged.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

BASELINE_PATH = Path(__file__).resolve().with_name("baseline.json")


def row_key(summary: dict) -> str:
    """What identifies a row across runs: its figure and what ran. The subject
    names its sizes, so a quick run's rows are compared with quick ones only."""
    return f"{summary['figure']} | {summary['subject']}"


def higher_is_better(summary: dict) -> bool:
    if summary.get("target"):
        return summary["target"][0] == "ge"
    return summary["unit"].endswith("/s")


def spread_width(entry: dict) -> float | None:
    """max - min of the per-run ratios; None for fewer than two runs."""
    spread = entry.get("ratio_spread")
    if not spread or entry.get("runs", 0) < 2:
        return None
    return spread[1] - spread[0]


def load_baseline(path: Path = BASELINE_PATH) -> dict[str, dict]:
    """The accepted rows by key; empty when there is no baseline yet."""
    try:
        return json.loads(path.read_text())["rows"]
    except FileNotFoundError:
        return {}


def compare(summary: dict, accepted: dict | None) -> dict:
    """The row's verdict against its accepted entry: ``status`` is one of
    "no baseline", "one run", "ok", "improved", "REGRESSED"; ``text`` says it."""
    ratio = summary["ratio_median"]
    if accepted is None or math.isnan(ratio):
        return {"status": "no baseline", "text": "no accepted ratio"}
    was = accepted["ratio_median"]
    widths = [spread_width(summary), spread_width(accepted)]
    if None in widths:
        return {
            "status": "one run",
            "accepted_ratio": was,
            "text": f"was {was:.2f}, one run: no spread to judge by",
        }
    spread = max(widths)
    change = ratio - was if higher_is_better(summary) else was - ratio
    if change < -spread:
        status = "REGRESSED"
    elif change > spread:
        status = "improved"
    else:
        status = "ok"
    better = "higher" if higher_is_better(summary) else "lower"
    return {
        "status": status,
        "accepted_ratio": was,
        "spread": spread,
        "text": f"{status}: {ratio:.2f} vs accepted {was:.2f} "
        f"(spread {spread:.2f}, {better} is better)",
    }


def with_regressions(summaries: list[dict], baseline: dict[str, dict]) -> list[dict]:
    """The summaries, each with its ``regression`` verdict."""
    return [
        {**s, "regression": compare(s, baseline.get(row_key(s)))} for s in summaries
    ]


def verdicts(summaries: list[dict]) -> str:
    """Per figure, its machine, then each row: target met or not, and the
    comparison with the baseline; the count of regressions last."""
    lines = []
    figures: dict[str, list[dict]] = {}
    for s in summaries:
        figures.setdefault(s["figure"], []).append(s)
    for figure, rows in figures.items():
        machine = (rows[0].get("machine") or {}).get("verdict", "not measured")
        lines.append(f"figure {figure} (machine: {machine})")
        for s in rows:
            parts = []
            if s.get("target"):
                op, value = s["target"]
                parts.append(
                    f"target {op} {value:g}: {'met' if s['target_met'] else 'NOT met'}"
                )
            parts.append((s.get("regression") or {}).get("text", "not compared"))
            lines.append(f"  {s['subject']}: " + "; ".join(parts))
    regressed = [
        s for s in summaries if (s.get("regression") or {}).get("status") == "REGRESSED"
    ]
    missed = [s for s in summaries if s.get("target") and not s["target_met"]]
    lines.append(
        f"{len(regressed)} regressed, {len(missed)} targets not met, "
        f"{sum(bool((s.get('machine') or {}).get('busy')) for s in summaries)} "
        f"rows taken on a busy machine"
    )
    return "\n".join(lines)


def accept(
    report: Path, *, path: Path = BASELINE_PATH, include_busy: bool = False
) -> tuple[list[str], list[str]]:
    """Merge the rows of a run's JSON into the baseline; rows of figures the
    run did not measure keep their accepted entries. A row taken on a busy
    machine is left out (its accepted entry, if any, kept): a baseline of
    noise would hide the next regression. ``include_busy`` takes it anyway.
    Returns (accepted keys, the busy keys left out, or taken with
    ``include_busy``)."""
    document = json.loads(report.read_text())
    try:
        current = json.loads(path.read_text())
    except FileNotFoundError:
        current = {"rows": {}}
    accepted, busy = [], []
    for s in document["figures"]:
        key = row_key(s)
        if (s.get("machine") or {}).get("busy"):
            busy.append(key)
            if not include_busy:
                continue
        current["rows"][key] = {
            "ratio_median": round(s["ratio_median"], 4),
            "ratio_spread": [round(r, 4) for r in s["ratio_spread"] or []] or None,
            "runs": s["runs"],
            "unit": s["unit"],
            "machine": (s.get("machine") or {}).get("verdict", "not measured"),
            "from": document["created_at"],
        }
        accepted.append(key)
    current["accepted_at"] = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    current["rows"] = dict(sorted(current["rows"].items()))
    path.write_text(json.dumps(current, indent=2) + "\n")
    return accepted, busy
