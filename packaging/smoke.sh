#!/usr/bin/env bash
# Build the PyInstaller bundle and check that it works on its own, away from the checkout:
# --version, schema upgrade (the migrations are found *inside* the bundle), a target added
# and listed, the demo estate (when the CLI has `demo`), and the GUI's screenshot mode on
# the offscreen Qt platform.
#
# Usage: packaging/smoke.sh [--no-build]      (--no-build: check an existing dist/)
#        SMOKE_SKIP_GUI=1 packaging/smoke.sh  (skip the GUI screenshot check)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="$ROOT/dist/opsconductor"
BIN="$BUNDLE/opsconductor"

if [[ "${1:-}" != "--no-build" ]]; then
    make -C "$ROOT" package
fi
[[ -x "$BIN" ]] || { echo "smoke: no bundle at $BIN (run make package)" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"  # nothing may be found through the current directory
unset OPSCONDUCTOR_HOME OPSCONDUCTOR_DB_URL PYTHONPATH
export QT_QPA_PLATFORM=offscreen
HOME_DIR="$WORK/home"
run() { "$BIN" --home "$HOME_DIR" "$@"; }
pass() { echo "smoke: ok   $*"; }
fail() { echo "smoke: FAIL $*" >&2; exit 1; }

version="$("$BIN" --version)"
[[ "$version" == opsconductor\ * ]] || fail "--version printed '$version'"
pass "--version: $version"

for folder in migrations ui resources; do
    found="$(find "$BUNDLE" -maxdepth 2 -type d -name "$folder" -not -path '*/PySide6/*' | head -1)"
    [[ -n "$found" ]] || fail "$folder/ is not in the bundle"
done
pass "migrations/ ui/ resources/ are in the bundle"

run db upgrade | grep -q "upgraded" || fail "db upgrade"
run db current | grep -q "up to date" || fail "db current"
pass "db upgrade / db current (migrations from the bundle)"

run targets add smoke-rtr-01 192.0.2.1 --kind router --vendor Cisco >/dev/null || fail "targets add"
run targets list --format json | grep -q '"smoke-rtr-01"' || fail "targets list"
pass "targets add / targets list"

manifests="$(run connectors manifests | grep -cE '^(alertmanager|prtg|zabbix|generic-json|webhook|snmp-trap|syslog)\b' || true)"
[[ "$manifests" -ge 7 ]] || fail "connectors manifests listed $manifests of the 7 bundled manifests"
run connectors add snmp-trap --name smoke-traps --set port=11162 >/dev/null || fail "connectors add"
pass "connectors manifests / add (resources/connectors from the bundle)"

if "$BIN" --help | grep -qw demo; then
    demo_home="$WORK/demo-home"
    "$BIN" --home "$demo_home" demo --targets 240 | grep -q "240 targets" || fail "demo"
    count="$("$BIN" --home "$demo_home" targets list --format json | grep -c '"name":')"
    [[ "$count" -ge 240 ]] || fail "demo listed $count targets"
    pass "demo estate (240 targets, catalogue from resources/ in the bundle)"
else
    echo "smoke: skip demo (this CLI has no 'demo' command yet)"
fi

if [[ "${SMOKE_SKIP_GUI:-}" == "1" ]]; then
    echo "smoke: skip GUI screenshot (SMOKE_SKIP_GUI=1)"
else
    status=0
    run gui --screenshot "$WORK/shots" >"$WORK/gui.log" 2>&1 || status=$?
    shots="$(find "$WORK/shots" -name '*.png' 2>/dev/null | wc -l)"
    if [[ "$status" -ne 0 ]]; then
        tail -20 "$WORK/gui.log" >&2
        fail "gui --screenshot exited with $status after writing $shots PNGs"
    fi
    [[ "$shots" -ge 1 ]] || fail "gui --screenshot wrote no PNG"
    pass "gui --screenshot ($shots PNGs, offscreen)"
fi

echo "smoke: bundle $(du -sh "$BUNDLE" | cut -f1) at $BUNDLE — all checks passed"
