"""`python -m studio` runs the command line (no subcommand opens the window)."""

from studio.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
