"""Figures as rows: medians, spreads, ratios against the baseline, the table.

A figure row holds the raw runs of the subject (the platform's code) and of its
baseline (the same work done raw), measured alternately in the same run. The
ratio of each run pair is subject / baseline; the row reports the median ratio
and its spread (min-max over the pairs), so a noisy machine shows as a wide
spread rather than as a wrong number.

Each row also carries ``machine``, how busy the machine was with other work
during its figure (``bench.noise``), and, against ``bench/baseline.json``
(the last accepted ratio and spread of each row), a ``regression`` verdict.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    """One figure of the report: its name, and the unit all its rows are in."""

    name: str
    unit: str

    def row(
        self,
        *,
        subject: tuple[str, list[float]],
        baseline: tuple[str, list[float]],
        target: tuple[str, float] | None = None,
        note: str = "",
    ) -> dict:
        """One row; ``subject`` and ``baseline`` are each (what ran, its runs).

        ``target`` is ("ge"|"le", value) against the median ratio, or
        ("subject_le", value) against the subject's median itself (an absolute
        bound, such as a latency).
        """
        subject_name, subject_runs = subject
        baseline_name, baseline_runs = baseline
        return {
            "figure": self.name,
            "subject": subject_name,
            "baseline": baseline_name,
            "unit": self.unit,
            "subject_runs": subject_runs,
            "baseline_runs": baseline_runs,
            "target": list(target) if target else None,
            "note": note,
        }


def summarise(row: dict) -> dict:
    subject, baseline = row["subject_runs"], row["baseline_runs"]
    ratios = [s / b for s, b in zip(subject, baseline, strict=False) if b]
    ratio = statistics.median(ratios) if ratios else float("nan")
    summary = {
        **row,
        "subject_median": statistics.median(subject),
        "subject_spread": [min(subject), max(subject)],
        "baseline_median": statistics.median(baseline),
        "baseline_spread": [min(baseline), max(baseline)],
        "ratio_median": ratio,
        "ratio_spread": [min(ratios), max(ratios)] if ratios else None,
        "runs": len(ratios),
    }
    if row["target"]:
        op, value = row["target"]
        if op == "subject_le":
            summary["target_met"] = summary["subject_median"] <= value
        else:
            summary["target_met"] = ratio >= value if op == "ge" else ratio <= value
    return summary


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(summaries: list[dict]) -> str:
    """A Markdown table, readable in a terminal too."""
    lines = [
        "| figure | subject | baseline | unit | subject median (min-max) "
        "| baseline median (min-max) | ratio median (min-max) | target | machine |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        target = ""
        if s["target"]:
            op, value = s["target"]
            verdict = "met" if s["target_met"] else "NOT met"
            bound = {"ge": ">=", "le": "<=", "subject_le": f"{s['unit']} <="}[op]
            target = f"{bound} {value:g}: {verdict}"
        spread = s["ratio_spread"] or [float("nan")] * 2
        lines.append(
            f"| {s['figure']} | {s['subject']} | {s['baseline']} | {s['unit']} "
            f"| {_number(s['subject_median'])} "
            f"({_number(s['subject_spread'][0])}-{_number(s['subject_spread'][1])}) "
            f"| {_number(s['baseline_median'])} "
            f"({_number(s['baseline_spread'][0])}-{_number(s['baseline_spread'][1])}) "
            f"| {s['ratio_median']:.2f} ({spread[0]:.2f}-{spread[1]:.2f}) "
            f"| {target} | {(s.get('machine') or {}).get('verdict', '')} |"
        )
    return "\n".join(lines)


def write_json(
    *, directory: Path, machine: dict, options: dict, summaries: list[dict]
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "created_at": stamp,
        "machine": machine,
        "options": options,
        "figures": summaries,
    }
    path = directory / f"bench-{stamp}.json"
    text = json.dumps(document, indent=2)
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    return path
