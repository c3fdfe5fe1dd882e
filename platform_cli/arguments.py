"""What the platform commands' parsers share: on/off switches declared as data.

A command module lists its switches as ``SWITCHES = {"fail_on_orphans":
"help text"}``; ``main`` adds each as ``--fail-on-orphans`` (off unless
given), before the options of the module's own ``add_arguments``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping


def add_switches(parser: argparse.ArgumentParser, switches: Mapping[str, str]) -> None:
    """One ``store_true`` option per name, in order; ``_`` in a name becomes ``-``."""
    for name, help_text in switches.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}", action="store_true", help=help_text
        )
