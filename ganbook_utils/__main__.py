"""Command line: ``python -m ganbook_utils <command>``."""

from ganbook_utils.cli import main

raise SystemExit(main())
