#!/usr/bin/env bash
# Build the self-contained folder dist/restyle/ (`restyle` the window, `restyle-cli`) from a
# clean build venv holding only Restyle's runtime dependencies, pillow-heif and PyInstaller
# (no test extras), then check it with the frozen self-test.
#
#   bash packaging/build.sh               # the default bundle (packaging/README.md: sizes)
#   bash packaging/build.sh --with-video  # plus Qt Multimedia (PySide6-Addons): video results
#                                         # play inside the window; about 47 MiB more
#   bash packaging/build.sh --no-check    # skip the self-test at the end
#
# Environment: PYTHON (default python3), RESTYLE_BUILD_VENV (default .venv-build),
# RESTYLE_BUNDLE_STEPS (measuring only: which size steps of restyle.spec apply).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="heif"
video=0
check=1
for arg in "$@"; do
    case "$arg" in
        --with-video) extras="heif,video"; video=1 ;;
        --no-check) check=0 ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: packaging/build.sh [--with-video] [--no-check]" >&2; exit 2 ;;
    esac
done
python="${PYTHON:-python3}"
venv="${RESTYLE_BUILD_VENV:-.venv-build}"
started=$(date +%s)
# --clear: a clean venv every time, so nothing left from an earlier build (a --with-video
# build's PySide6-Addons, a test tool) ends up in the bundle.
"$python" -m venv --clear "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[${extras}]" "pyinstaller>=6.10"
RESTYLE_BUNDLE_VIDEO="$video" "$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    packaging/restyle.spec
echo "Built dist/restyle/ ($(du -sh dist/restyle | cut -f1)) in $(( $(date +%s) - started )) s."
if [ "$check" -eq 1 ]; then
    echo "Self-test of the frozen build:"
    dist/restyle/restyle --self-test
fi
