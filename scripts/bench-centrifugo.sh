#!/usr/bin/env bash
# Room fan-out, ShelfLive vs Centrifugo v6.9.1: the same workload through
# both systems' front doors, alternating, RUNS times (see bench-room.sh, which
# does the work: a fresh ShelfLive node driven with `bench fanout --url`, and
# Centrifugo from the Go module proxy in the git-ignored tmp/bin driven with
# `bench fanout --peer centrifugo`).
#
#   scripts/bench-centrifugo.sh                      # 10,000 viewers, 200 comments/s, 1,000 likes/s, 5 pins/s, 20 s, 3 runs each
#   VIEWERS=2000 RUNS=1 scripts/bench-centrifugo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SYSTEMS="centrifugo shelflive" exec scripts/bench-room.sh
