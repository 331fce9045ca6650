"""The ``opsconductor`` command: the same services as the GUI, from a terminal.

Operator errors print one line on stderr and exit non-zero; tracebacks go to the log only.

One module per area: ``common`` (exit codes, output), ``db`` (schema, demo), ``inventory``
(targets, groups, credentials), ``jobs``, ``alerts`` (alerts, silences), ``monitoring``
(monitors, rules, poll, agent), ``connectors``; ``parser`` builds the parser and runs
``main``. Heavy imports (the GUI, Qt, pysnmp) stay inside the functions that need them.
"""

from opsconductor_desktop.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
