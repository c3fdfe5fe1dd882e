"""The last comparison as a matrix: a row per scenario, a column per approach.

``comparison_matrix(report)`` reads the lab's JSON report (``reports/latest/
lab.json``, ``lab.reports.read_latest_report``) into plain data: for each
scenario and approach (or backend) one cell saying whether the scenario's
flaw appeared, judged by ``lab.flaws`` from the measured number, or that the
scenario was skipped there and why. ``render_matrix(matrix)`` is the HTML
table: each cell coloured by its verdict and always carrying the number and a
text label too ("flaw: orphan orders 2", "skipped"), so colour is never the
only signal.

What a learner should notice: read down a column and an approach's flaws
appear and disappear scenario by scenario, in the paper's order: each
approach fixes the flaw the one before it shows, and brings its own.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from lab.flaws import flaw_sign, flaw_verdict

FLAW = "flaw"
NO_FLAW = "no flaw"
NOT_APPLICABLE = "n/a"
SKIPPED = "skipped"
NOT_RUN = "not run"
# Light fills under dark text; the state's word is in every cell as well.
FILLS = {
    FLAW: "#f6d3d0",
    NO_FLAW: "#d5ecd9",
    NOT_APPLICABLE: "#eeeeee",
    SKIPPED: "#e4e4f0",
    NOT_RUN: "#ffffff",
}


@dataclass(frozen=True)
class MatrixCell:
    state: str
    text: str
    number: float | int | None = None
    # Why a cell was skipped, and the lesson the run drew.
    detail: str = ""


@dataclass
class ComparisonMatrix:
    title: str
    generated_at: str
    scenarios: list[str] = field(default_factory=list)
    approaches: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], MatrixCell] = field(default_factory=dict)

    def cell(self, scenario: str, approach: str) -> MatrixCell:
        return self.cells.get(
            (scenario, approach), MatrixCell(state=NOT_RUN, text=NOT_RUN)
        )


def _cell(result: dict) -> MatrixCell:
    if result.get("skipped"):
        return MatrixCell(state=SKIPPED, text=SKIPPED, detail=result["skipped"])
    verdict = flaw_verdict(result["scenario"], result.get("measurements"))
    state = {True: FLAW, False: NO_FLAW, None: NOT_APPLICABLE}[verdict.appeared]
    return MatrixCell(
        state=state,
        text=verdict.text,
        number=verdict.number,
        detail=result.get("lesson") or "",
    )


def comparison_matrix(report: dict) -> ComparisonMatrix:
    """The report's results as a scenario x approach matrix, each in the order
    the lab ran them."""
    matrix = ComparisonMatrix(
        title=report.get("title", ""), generated_at=report.get("generated_at", "")
    )
    for result in report.get("results", []):
        scenario, approach = result["scenario"], result["backend"]
        if scenario not in matrix.scenarios:
            matrix.scenarios.append(scenario)
        if approach not in matrix.approaches:
            matrix.approaches.append(approach)
        matrix.cells[(scenario, approach)] = _cell(result)
    return matrix


def render_matrix(matrix: ComparisonMatrix) -> str:
    """The matrix as an HTML table fragment (see the module's docstring)."""
    if not matrix.cells:
        return '<p class="matrix-empty">No comparison has been run yet.</p>'
    head = '<th scope="col">scenario (the flaw appeared when ...)</th>' + "".join(
        f'<th scope="col">{html.escape(a)}</th>' for a in matrix.approaches
    )
    rows = []
    for scenario in matrix.scenarios:
        sign = flaw_sign(scenario)
        cells = []
        for approach in matrix.approaches:
            cell = matrix.cell(scenario, approach)
            title = f' title="{html.escape(cell.detail)}"' if cell.detail else ""
            cells.append(
                f'<td data-state="{cell.state}" style="background:{FILLS[cell.state]}"'
                f"{title}>{html.escape(cell.text)}</td>"
            )
        rows.append(
            f'<tr data-scenario="{html.escape(scenario)}"><th scope="row">'
            f"{html.escape(scenario)}<br><small>{html.escape(sign.flaw)}: "
            f"{html.escape(sign.rule)}</small></th>{''.join(cells)}</tr>"
        )
    caption = html.escape(f"{matrix.title} ({matrix.generated_at})".strip())
    return (
        f'<table class="matrix"><caption>{caption}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
