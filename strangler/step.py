"""A step along the paper's path: what every step has, whatever it moves."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from shared_events.approaches import Approach
from shared_events.configuration import user_env_file, write_env_value
from strangler.context import MigrationContext, Progress
from strangler.plan import Plan
from strangler.state import StageRecord
from strangler.verification import Verification


class StepRefused(RuntimeError):
    """The step cannot go; the message says why and what to do instead."""


class Step(ABC):
    """One move from ``source`` to ``target``, made of idempotent stages.

    ``plan`` changes nothing; ``run`` does what is not done yet, stage by
    stage, and ends with the switch; ``verify`` compares both sides and is
    run by ``run`` before the switch; ``way_back`` says how to undo it.
    """

    name: str
    source: Approach
    target: Approach
    way_back: str

    @abstractmethod
    def plan(self, ctx: MigrationContext) -> Plan: ...

    @abstractmethod
    def run(self, ctx: MigrationContext, progress: Progress) -> None: ...

    @abstractmethod
    def verify(self, ctx: MigrationContext) -> Verification: ...

    @abstractmethod
    def finished(self, ctx: MigrationContext) -> bool:
        """The step ran to its end on this platform (a rerun has nothing to do)."""

    @abstractmethod
    def drop_old(self, ctx: MigrationContext, progress: Progress) -> None:
        """Drop the old side, refusing unless the step finished verified."""

    # -- what every step's run does the same way ---------------------------

    @staticmethod
    def announcer(
        stages: dict[str, str], done: dict, progress: Progress
    ) -> Callable[[int, str], bool]:
        """``stage(number, name)``: says the stage, and whether it still has
        to be done (a rerun skips what a killed run finished)."""

        def stage(number: int, name: str) -> bool:
            if name in done:
                progress(f"== {number}/{len(stages)} {name}: done before, skipped")
                return False
            progress(f"== {number}/{len(stages)} {name}: {stages[name]}")
            return True

        return stage

    def checked(self, ctx: MigrationContext, progress: Progress) -> Verification:
        """Both sides compared, and what was found said."""
        verification = self.verify(ctx)
        progress(verification.render())
        return verification

    @staticmethod
    def refuse_unless_equal(verification: Verification, refusal: str) -> None:
        """Nothing switches unless the new side is verified equal."""
        if not verification.equal:
            raise StepRefused(
                f"{refusal}. Problems: " + "; ".join(verification.problems)
            )

    def switch(self, record: StageRecord, progress: Progress) -> None:
        """The last stage: the learner's settings name the target approach."""
        write_env_value(user_env_file(), "ARCHITECTURE_APPROACH", self.target.value)
        record.mark_done("switch")
        progress(
            f"  ARCHITECTURE_APPROACH={self.target.value} written to {user_env_file()}"
        )

    @staticmethod
    def seconds_between(done: dict, first: str, last: str) -> float:
        """From the end of stage ``first`` to the end of ``last``."""
        return (done[last]["finished_at"] - done[first]["finished_at"]).total_seconds()
