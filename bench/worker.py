"""One figure in a Django process: ``python -m bench.worker FIGURE --out FILE``.

Run by ``bench.environment.run_figure`` with the service's settings in the
environment; writes the figure's rows as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

import django

FIGURES = {
    "write": "bench.write_path",
    "relay": "bench.relay",
    "growth": "bench.growth",
    "rebuild": "bench.rebuild",
    "eventstore": "bench.event_store_library",
    "kinesis": "bench.kinesis_relay",
    "dynamodb": "bench.dynamodb_append",
    "profile": "bench.profiling",
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("figure", choices=sorted(FIGURES), help="which figure")
    parser.add_argument("--options", default="{}", help="the figure's options, JSON")
    parser.add_argument("--out", required=True, help="where to write the rows")
    args = parser.parse_args(argv)

    django.setup()
    module = importlib.import_module(FIGURES[args.figure])
    try:
        rows = module.run(**json.loads(args.options))
    except KeyboardInterrupt:
        # ``python -m bench`` stops a figure with SIGINT when it is itself
        # interrupted: the connections close as the stack unwinds, and the
        # traceback would only repeat what the run already reports.
        print(f"bench.worker: figure {args.figure} interrupted", file=sys.stderr)
        return 130
    with open(args.out, "w") as handle:
        json.dump(rows, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
