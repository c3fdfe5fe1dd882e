"""A kept scenario result (``cockpit.scenario_results``) as the page shows it:
a measurements table, the scenario's own figures (its phases, or the
migration's moves) and its charts (the lab's, ``cockpit.charts``).

What a learner should notice: every figure is the lab's own number, shown
as it was measured; one that does not apply to the approach is "n/a",
never 0, because "no events were lost" and "this approach has no events to
lose" are different lessons.
"""

from __future__ import annotations

#: (key in the lab's measurements, what the table calls it, unit)
MEASUREMENT_ROWS = [
    ("orphan_orders", "Orphan orders", ""),
    ("events_lost", "Events lost", ""),
    ("not_yet_applied", "Not yet applied", ""),
    ("duplicate_effects", "Duplicate effects", ""),
    ("lag_p50_ms", "Lag p50", "ms"),
    ("lag_p99_ms", "Lag p99", "ms"),
    ("events_stored", "Events stored", ""),
    ("commands_per_second", "Commands per second", "/s"),
    ("drain_seconds", "Seconds until quiet", "s"),
    ("audit", "Auditor's verdict", ""),
]


def shown(value, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = f"{value:.1f}"
    return f"{value} {unit}".strip()


def measurement_rows(record: dict) -> list[dict]:
    """The table's rows: key, label, value as shown."""
    measured = record.get("measurements") or {}
    rows = [
        {"key": key, "label": label, "value": shown(measured.get(key), unit)}
        for key, label, unit in MEASUREMENT_ROWS
        if key in measured
    ]
    failed = measured.get("failed_requests") or {}
    rows.append(
        {
            "key": "failed_requests",
            "label": "Failed requests",
            "value": str(sum(failed.values()))
            + (
                " (" + ", ".join(f"{k}: {v}" for k, v in sorted(failed.items())) + ")"
                if failed
                else ""
            ),
        }
    )
    return rows


def figure_rows(record: dict) -> list[dict]:
    """The scenario's own figures, a row each: group (a phase, a move),
    figure, value as shown."""
    figures = (record.get("measurements") or {}).get("figures") or {}
    return [
        {"group": group, "name": name, "value": shown(value)}
        for group, values in figures.items()
        for name, value in values.items()
    ]
