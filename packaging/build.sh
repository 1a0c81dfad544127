#!/usr/bin/env bash
# Build a self-contained folder dist/restyle/ with `restyle` and `restyle-cli`.
# `packaging/build.sh --with-video` also bundles Qt Multimedia (PySide6-Addons), so video
# results play inside the window; it adds about 47 MiB (README, "Videos"). Without it they open
# in the system's player.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
case "${1:-}" in
    --with-video) extras="[video]" ;;
    "") ;;
    *) echo "usage: packaging/build.sh [--with-video]" >&2; exit 2 ;;
esac
python3 -m venv .venv-build
.venv-build/bin/pip install -q -e ".${extras}" pyinstaller
if [ -z "$extras" ]; then
    # A build venv reused after a --with-video build must not bundle it by accident.
    .venv-build/bin/pip uninstall -q -y PySide6-Addons 2>/dev/null || true
fi
.venv-build/bin/pyinstaller --noconfirm --clean packaging/restyle.spec
echo "Built dist/restyle/ (run dist/restyle/restyle-cli providers to check it)."
