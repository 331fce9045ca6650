"""PyInstaller entry point: the ``opsconductor`` command of the bundle (``cli.main``).

Without a sub-command the CLI opens the GUI, so the windowed executables built on Windows
and macOS use this same script.
"""

from __future__ import annotations

import multiprocessing
import sys

from opsconductor_desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen child process must not re-run the CLI
    sys.exit(main())
