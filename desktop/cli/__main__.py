"""`python -m desktop.cli`: restyle-cli."""

import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
