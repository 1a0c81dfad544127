#!/usr/bin/env bash
# Build a self-contained folder dist/restyle/ with `restyle` and `restyle-cli`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-build
.venv-build/bin/pip install -q -e . pyinstaller
.venv-build/bin/pyinstaller --noconfirm --clean packaging/restyle.spec
echo "Built dist/restyle/ (run dist/restyle/restyle-cli providers to check it)."
