"""``manage.py approach migrate --to APPROACH``: move the platform with its data.

One step along the paper's path at a time (``strangler.path``); the step
itself lives in ``strangler``. This module parses, refuses with a reason,
asks before anything destructive, and prints.
"""

from __future__ import annotations

import argparse
import os
import sys

from platform_cli.errors import PlatformError
from shared_events.approaches import Approach, UnknownApproach, parse_approach
from stack import environment
from strangler import MigrationContext, StepRefused, step_to
from strangler.path import step_finished_on

DESCRIPTION = (
    "Move the running platform, with its data, one step along the paper's "
    "path (shared_db -> db_per_service -> direct_publish/event_sourcing -> "
    "cqrs_es). Each step builds the new side beside the old, copies the data "
    "while traffic continues, refuses writes for the last differences only, "
    "verifies both sides equal, and only then switches the approach. Killed "
    "half-way, run it again: it resumes. The old side is kept until "
    "--drop-old."
)


def add_arguments(migrate: argparse.ArgumentParser) -> None:
    migrate.add_argument(
        "--to",
        required=True,
        metavar="APPROACH",
        help="the approach to move to: the next one along the path, "
        "one of: " + ", ".join(a.value for a in Approach),
    )
    migrate.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (stages, what is done, rows to copy); change nothing",
    )
    migrate.add_argument(
        "--drop-old",
        action="store_true",
        help="after a finished, verified move: drop the old side's database "
        "(asks to confirm unless --yes)",
    )
    migrate.add_argument(
        "--yes",
        action="store_true",
        help="confirm --drop-old without asking",
    )


def progress(line: str) -> None:
    print(line, flush=True)


def approach_migrate(options: argparse.Namespace) -> int:
    try:
        target = parse_approach(options.to)
    except UnknownApproach as error:
        raise PlatformError(str(error)) from None
    # Read before ``prepare`` loads the settings file into the environment.
    shell_approach = os.environ.get("ARCHITECTURE_APPROACH")
    # The dry run makes nothing, not even an empty database.
    environment.prepare(create_databases=not options.dry_run, aws=False)
    ctx = MigrationContext()
    try:
        current = ctx.current
    except UnknownApproach as error:
        raise PlatformError(f"{error} (the platform's current approach)") from None
    try:
        if options.drop_old:
            return _drop_old(ctx, target, confirmed=options.yes)
        finished = step_finished_on(current=current, ctx=ctx)
        if finished is not None and current == target:
            print(
                f"The platform is already on {target.value} ({finished.name} "
                "finished and verified): nothing to do."
            )
            return 0
        step = step_to(current=current, target=target)
        if options.dry_run:
            print(step.plan(ctx).render())
            print("Dry run: nothing changed.")
            return 0
        print(f"Moving the platform: {step.name} ({step.source} -> {step.target})")
        step.run(ctx, progress)
    except StepRefused as error:
        raise PlatformError(f"refused: {error}") from None
    print(f"Done: the platform is on {target.value}.")
    if shell_approach not in (None, target.value):
        print(
            f"Warning: ARCHITECTURE_APPROACH is set in this shell to "
            f"{shell_approach!r} and overrides the setting."
        )
    print(f"The way back: {step.way_back}")
    return 0


def _drop_old(ctx: MigrationContext, target: Approach, *, confirmed: bool) -> int:
    step = step_finished_on(current=target, ctx=ctx)
    if step is None:
        raise StepRefused(
            f"no finished, verified move to {target.value} on this platform: "
            "nothing to drop"
        )
    if not confirmed:
        if not sys.stdin.isatty():
            raise StepRefused("--drop-old destroys the old side: add --yes to confirm")
        answer = input(
            f"Drop the old side of '{step.name}'? There is no way back but a "
            "backup. Type yes: "
        )
        if answer.strip() != "yes":
            print("Nothing dropped.")
            return 1
    step.drop_old(ctx, progress)
    return 0
