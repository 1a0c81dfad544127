#!/usr/bin/env bash
# Start the window under Xvfb on a fresh temporary RESTYLE_HOME, screenshot the whole screen
# once the window is mapped, print its X11 WM_CLASS (the .desktop's StartupWMClass must match)
# and close it with Ctrl+C's signal (a clean close: session saved, workers stopped).
#
#   bash packaging/screenshot_xvfb.sh [OUT.png [EXECUTABLE]]
#   default: docs/screenshots/bundle/restyle-first-start-1366x768.png, dist/restyle/restyle
# Needs xvfb (xvfb-run), x11-utils (xprop) and imagemagick (import).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshots/bundle/restyle-first-start-1366x768.png}"
exe="${2:-dist/restyle/restyle}"
mkdir -p "$(dirname "$out")"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export RESTYLE_HOME="$home" OUT="$out" EXE="$exe"
unset QT_QPA_PLATFORM
xvfb-run -a -s "-screen 0 1366x768x24" bash -c '
    "$EXE" & pid=$!
    for _ in $(seq 1 120); do
        xprop -name Restyle WM_CLASS >/dev/null 2>&1 && break
        sleep 0.5
    done
    sleep 4  # the first paint, the history loaded, the worker processes warmed up
    xprop -name Restyle WM_CLASS
    import -window root "$OUT"
    kill -INT "$pid"
    wait "$pid"; echo "window exit code: $?"
'
echo "Saved $out"
