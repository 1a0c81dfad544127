"""PyInstaller entry point for the window."""

import sys

from desktop.app import main

sys.exit(main())
