"""PyInstaller entry point for restyle-cli."""

import sys

from desktop.cli import main

sys.exit(main())
