#!/usr/bin/env bash
# quiet-run.sh NAME CMD...: runs a benchmark in a "quiet window" on a machine
# shared by several engineers. One window at a time (flock); while it is open
# a marker file tells the others' `quiet-run.sh --wait` to hold off starting
# tests; it waits up to 4 minutes for the 1-minute load average to fall below
# 2.5, then runs CMD and prints the load at its start and end (record both
# with the figures: a window is not always quiet).
#
#   scripts/quiet-run.sh coupons shelflive bench coupons --runs 3
#   scripts/quiet-run.sh --wait && go test ./internal/...   # respect others' windows
set -u
dir=${QUIET_DIR:-/tmp/shelflive-quiet}
mkdir -p "$dir"
if [ "${1:-}" = "--wait" ]; then
	while [ -e "$dir/QUIET" ]; do sleep 5; done
	exit 0
fi
name=$1
shift
exec 9>"$dir/QUIET.lock"
flock 9
echo "$name $(date -u +%H:%M:%S)" >"$dir/QUIET"
trap 'rm -f "$dir/QUIET"' EXIT
for _ in $(seq 48); do
	awk -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { exit !(l < 2.5) }' && break
	sleep 5
done
echo "quiet-run: load $(cut -d' ' -f1-3 /proc/loadavg) at start $(date -u +%H:%M:%S)" >&2
"$@"
rc=$?
echo "quiet-run: load $(cut -d' ' -f1-3 /proc/loadavg) at end $(date -u +%H:%M:%S)" >&2
exit $rc
