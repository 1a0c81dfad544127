"""`python -m desktop` starts the window."""

import sys

from desktop.app import main

sys.exit(main())
