#!/usr/bin/env bash
# Measure what each size step of packaging/restyle.spec saves: builds the bundle once per
# step, each adding one step to the ones before, and prints a Markdown table of `du` sizes.
# Run after packaging/build.sh (it reuses the build venv); about 3 minutes per build, eight
# builds. Leaves dist/restyle/ as build.sh makes it (every default step).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${RESTYLE_BUILD_VENV:-.venv-build}"
[ -x "$venv/bin/pyinstaller" ] || { echo "Run packaging/build.sh first." >&2; exit 2; }
build() {  # $1: the steps; prints the size in KiB
    RESTYLE_BUNDLE_STEPS="$1" "$venv/bin/pyinstaller" --noconfirm --clean --log-level ERROR \
        packaging/restyle.spec >/dev/null 2>&1
    du -s --block-size=1K dist/restyle | cut -f1
}
mib() { echo "$(( ($1 + 512) / 1024 ))"; }
stripped=$(build "bindings,translations,plugins,gtk,strip")
echo "| step | dist/restyle | saves |"
echo "|---|---:|---:|"
applied=""
previous=""
for step in none bindings translations plugins gtk debug; do
    [ "$step" = none ] || applied="${applied:+$applied,}$step"
    size=$(build "$applied")
    saves=""
    [ -n "$previous" ] && saves="$(mib $(( previous - size ))) MiB"
    printf '| %s | %s MiB | %s |\n' "${step/none/everything kept}" "$(mib "$size")" "$saves"
    previous=$size
    if [ "$step" = gtk ]; then gtk_size=$size; fi
done
printf '| gtk + full strip instead of debug (not applied: breaks OpenBLAS) | %s MiB | %s MiB |\n' \
    "$(mib "$stripped")" "$(mib $(( gtk_size - stripped )))"
