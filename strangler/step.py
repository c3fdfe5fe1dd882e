"""A step along the paper's path: what every step has, whatever it moves."""

from __future__ import annotations

from abc import ABC, abstractmethod

from shared_events.approaches import Approach
from strangler.context import MigrationContext, Progress
from strangler.plan import Plan
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
