"""What a step will do, before it does anything: printed by ``--dry-run``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlannedStage:
    name: str
    does: str
    done: bool = False


@dataclass
class Plan:
    """A step's stages (each marked done or to do) and the rows it will move."""

    step: str
    source: str
    target: str
    stages: list[PlannedStage] = field(default_factory=list)
    # "database.table" -> rows on the source side now.
    row_counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"Plan: {self.step} ({self.source} -> {self.target})", "Stages:"]
        for number, stage in enumerate(self.stages, start=1):
            mark = "done " if stage.done else "to do"
            lines.append(f"  {number}. [{mark}] {stage.name}: {stage.does}")
        lines.append("Rows to copy (counted on the source side now):")
        for table, count in self.row_counts.items():
            lines.append(f"  {table}: {count}")
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)
