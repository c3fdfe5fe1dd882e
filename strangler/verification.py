"""Verify before switch: both sides compared, table by table.

A copy that "finished without errors" proves nothing; equal row counts and
an equal checksum of every row do. The switch waits for this, and so does
dropping the old side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from strangler.copying import TableCopy, table_digest


@dataclass
class Verification:
    """Both sides compared: per table (rows, digest) on each, and what differs."""

    tables: dict[str, tuple[tuple[int, str], tuple[int, str]]] = field(
        default_factory=dict
    )
    problems: list[str] = field(default_factory=list)
    # What the auditor found on each side, where it applies.
    audit: str = ""

    @property
    def equal(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = []
        for table, ((old_rows, old), (new_rows, new)) in self.tables.items():
            same = "equal" if (old_rows, old) == (new_rows, new) else "DIFFERENT"
            lines.append(
                f"  {table}: {old_rows} rows -> {new_rows} rows, checksum {same}"
            )
        if self.audit:
            lines.append(f"  {self.audit}")
        lines += [f"  problem: {problem}" for problem in self.problems]
        return "\n".join(lines)


def compare_tables(copies: list[TableCopy]) -> Verification:
    """Rows and checksum of each table on the old side and on the new."""
    verification = Verification()
    for copy in copies:
        old = table_digest(copy, copy.source_url)
        new = table_digest(copy, copy.target_url)
        label = f"{copy.table} (into {copy.target_url.rsplit('/', 1)[-1]})"
        verification.tables[label] = (old, new)
        if old != new:
            verification.problems.append(
                f"{label}: {old[0]} rows on the old side, {new[0]} on the new, "
                + ("checksums differ" if old[0] == new[0] else "counts differ")
            )
    return verification
