"""``python -m opsconductor_desktop`` runs the command-line entry point."""

from opsconductor_desktop.cli import main

raise SystemExit(main())
