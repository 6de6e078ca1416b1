"""``python -m ganbook_utils``: the book's tools outside notebooks."""

from __future__ import annotations

import argparse

from ganbook_utils import profiles


def _cmd_profile(args: argparse.Namespace) -> int:
    profile = profiles.get_profile(args.name)
    print(profile if args.verbose else profile.name)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ganbook_utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    profile = commands.add_parser("profile", help="print the profile in force (or the named one)")
    profile.add_argument("name", nargs="?", default=None, help="smoke, cpu or gpu")
    profile.add_argument("-v", "--verbose", action="store_true", help="print every budget")
    profile.set_defaults(func=_cmd_profile)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
