#!/usr/bin/env bash
# firstframe-ab.sh OLD NEW: tap-to-first-frame of two commits, alternating
# (docs/BENCHMARKS.md "Tap to first video frame"). Builds each commit's
# cmd/shelflive test binary in a temporary worktree, then runs ROUNDS rounds
# of PER taps each (TestTapToFirstVideoFrame) and prints each build's taps.
#
#   scripts/firstframe-ab.sh 18d1111 6af64d7                  # 2 rounds × 3 taps
#   ROUNDS=3 scripts/quiet-run.sh ff scripts/firstframe-ab.sh 18d1111 HEAD
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
PER=${PER:-3}
work=$(mktemp -d)
trap 'for c in "$@"; do git worktree remove --force "$work/$c" 2>/dev/null || true; done; rm -rf "$work"' EXIT
for c in "$@"; do
	git worktree add --detach "$work/$c" "$c" >/dev/null
	(cd "$work/$c" && go test -c -o "$work/$c.test" ./cmd/shelflive)
done
export SHELFLIVE_ARTIFACTS=${SHELFLIVE_ARTIFACTS:-$work/artifacts} SHELFLIVE_FIRSTFRAME_RUNS=$PER
for r in $(seq "$ROUNDS"); do
	for c in "$@"; do
		echo "== round $r, $c, load $(cut -d' ' -f1 /proc/loadavg)"
		(cd "$work/$c/cmd/shelflive" && "$work/$c.test" -test.run '^TestTapToFirstVideoFrame$' -test.v -test.count=1 | grep "tap to first video frame")
	done
done
