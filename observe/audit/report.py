"""The audit's report: what was checked, what differs, and how it reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from observe.audit.compare import RowDifference
from observe.consistency import OrphanOrder
from shared_events.approaches import approach_info


@dataclass
class OutboxBacklog:
    service: str
    unpublished: int
    oldest_age_seconds: float | None


@dataclass
class AuditReport:
    approach: str
    checks: list[str] = field(default_factory=list)
    rows_checked: dict[str, int] = field(default_factory=dict)
    differences: list[RowDifference] = field(default_factory=list)
    open_orders: int = 0
    orphan_orders: list[OrphanOrder] = field(default_factory=list)
    lost_events: int = 0
    outbox: list[OutboxBacklog] = field(default_factory=list)
    events_folded: int | None = None
    # Where the folded events were: "postgres" (event_store) or "dynamodb".
    event_store: str = "postgres"
    waited_seconds: float = 0.0
    repairs: list[str] = field(default_factory=list)
    before_repair: AuditReport | None = None

    @property
    def consistent(self) -> bool:
        return not self.differences and not self.orphan_orders

    def to_dict(self) -> dict[str, Any]:
        data = {
            "approach": self.approach,
            "consistent": self.consistent,
            "checks": self.checks,
            "rows_checked": self.rows_checked,
            "differences": [difference.to_dict() for difference in self.differences],
            "open_orders": self.open_orders,
            "orphan_orders": [
                {"order_id": o.order_id, "customer_id": o.customer_id}
                for o in self.orphan_orders
            ],
            "lost_events": self.lost_events,
            "outbox_backlog": [
                {
                    "service": backlog.service,
                    "unpublished": backlog.unpublished,
                    "oldest_age_seconds": backlog.oldest_age_seconds,
                }
                for backlog in self.outbox
            ],
            "events_folded": self.events_folded,
            "event_store": self.event_store,
            "waited_seconds": round(self.waited_seconds, 3),
        }
        if self.before_repair is not None:
            data["repairs"] = self.repairs
            data["before_repair"] = self.before_repair.to_dict()
        return data


def render_audit(report: AuditReport, *, as_json: bool = False) -> str:
    if as_json:
        return json.dumps(report.to_dict(), indent=2)
    lines = []
    if report.before_repair is not None:
        lines += [render_audit(report.before_repair), "", "Repairs:"]
        lines += [f"  {action}" for action in report.repairs] or ["  none needed"]
        lines += ["", "After repair:"]
    verdict = "CONSISTENT" if report.consistent else "DIFFERENCES FOUND"
    lines.append(f"Approach: {approach_info(report.approach).label}")
    lines.append(f"Verdict: {verdict}")
    lines.append("Checks: " + "; ".join(report.checks))
    if report.events_folded is not None:
        where = (
            "DynamoDB event tables"
            if report.event_store == "dynamodb"
            else ("event stores")
        )
        lines.append(f"Events folded from the {where}: {report.events_folded}")
    if report.waited_seconds >= 0.05:
        lines.append(f"Waited for lag to settle: {report.waited_seconds:.1f} s")
    for table, count in report.rows_checked.items():
        lines.append(f"  {table}: {count} rows expected")
    lines.append(f"Differences: {len(report.differences)}")
    lines += [f"  {difference.describe()}" for difference in report.differences]
    if report.lost_events:
        lines.append(
            f"Lost events (replica rows live for customers that are gone): "
            f"{report.lost_events}"
        )
    for backlog in report.outbox:
        age = (
            f", oldest {backlog.oldest_age_seconds:.1f} s"
            if backlog.oldest_age_seconds is not None
            else ""
        )
        lines.append(
            f"Outbox backlog ({backlog.service}): {backlog.unpublished} "
            f"unpublished{age}"
        )
    lines.append(
        f"Orphan orders: {len(report.orphan_orders)} of {report.open_orders} open"
    )
    for orphan in report.orphan_orders:
        lines.append(f"  order {orphan.order_id}  customer {orphan.customer_id} (gone)")
    return "\n".join(lines)
