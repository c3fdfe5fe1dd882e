"""The path through the paper's approaches, one step at a time.

A platform moves 1 -> 2 -> 3/4 -> 5, never jumping: each step builds on the
data shape the previous one left, and each is verified on its own.
"""

from __future__ import annotations

from shared_events.approaches import Approach
from strangler.add_read_side import AddReadSide
from strangler.introduce_events import IntroduceEvents
from strangler.split_database import SplitDatabase
from strangler.step import Step, StepRefused

# The steps built so far, by (source, target).
STEPS: dict[tuple[Approach, Approach], Step] = {
    (step.source, step.target): step
    for step in [SplitDatabase(), IntroduceEvents(), AddReadSide()]
}


# Where each approach may go next: from 2 the path forks (3, the dual write
# the paper shows failing, or straight to 4), and both lead on to 5.
NEXT: dict[Approach, tuple[Approach, ...]] = {
    Approach.SHARED_DB: (Approach.DB_PER_SERVICE,),
    Approach.DB_PER_SERVICE: (Approach.DIRECT_PUBLISH, Approach.EVENT_SOURCING),
    Approach.DIRECT_PUBLISH: (Approach.EVENT_SOURCING,),
    Approach.EVENT_SOURCING: (Approach.CQRS_ES,),
    Approach.CQRS_ES: (),
}


def step_to(*, current: Approach, target: Approach) -> Step:
    """The step from ``current`` to ``target``, or StepRefused saying why not."""
    following = NEXT[current]
    if target == current:
        raise StepRefused(f"the platform is already on {current.value}")
    if target not in following:
        hint = (
            "next is " + " or ".join(approach.value for approach in following)
            if following
            else f"{current.value} is the last approach"
        )
        raise StepRefused(
            f"--to {target.value}: the platform is on {current.value}; migrate one "
            f"step at a time: {hint}"
        )
    step = STEPS.get((current, target))
    if step is None:
        raise StepRefused(
            f"the step {current.value} -> {target.value} is not built yet; built: "
            + ", ".join(f"{s.value} -> {t.value}" for s, t in STEPS)
        )
    return step


def step_finished_on(*, current: Approach, ctx) -> Step | None:
    """The step that brought the platform to ``current``, if it recorded so."""
    for (_, target), step in STEPS.items():
        if target == current and step.finished(ctx):
            return step
    return None
