"""``python -m opsconductor_desktop.cli`` runs the command, as ``cli.py`` did."""

from opsconductor_desktop.cli import main

raise SystemExit(main())
