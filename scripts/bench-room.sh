#!/usr/bin/env bash
# The room through the front door (issue 15): `shelflive bench fanout --url`
# against a fresh ShelfLive node, and optionally the same workload against
# Centrifugo, alternating, RUNS times each; prints every JSON line and medians.
#
#   scripts/bench-room.sh                                   # ShelfLive, 3 runs, 10,000 viewers
#   SYSTEMS="shelflive centrifugo" scripts/bench-room.sh    # both, alternating
#   BUILDS="tmp/bin/a tmp/bin/b" scripts/bench-room.sh      # A/B two server builds, alternating
#   PROFILE=10 scripts/bench-room.sh                        # + a 10 s CPU profile of each ShelfLive run ($OUT/<run>.pprof),
#                                                           #   PROFILE_AT s after the node is ready (default 10: inside the load)
#   FANOUT_ARGS="--cpuprofile $PWD/tmp/lt.pprof" scripts/bench-room.sh   # more flags for the load tool
#
# The node runs in dev mode (the OTP API answers with the code, so the tool
# logs its viewer accounts in without SMS) with SHELFLIVE_RATE_LIMITS=false
# (400 logins from one address; the room's comment rules still hold and the
# tool stays within them), a fresh data dir, no RTMP and no MQTT.
# Centrifugo v6.9.1 is installed from the Go module proxy into the git-ignored
# tmp/bin (never in go.mod).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
VIEWERS=${VIEWERS:-10000}
COMMENTS=${COMMENTS:-200}
LIKES=${LIKES:-1000}
PINS=${PINS:-5}
DURATION=${DURATION:-20s}
DRAIN=${DRAIN:-15s}
SYSTEMS=${SYSTEMS:-shelflive}
PROFILE=${PROFILE:-} # seconds of CPU profile taken mid-run (SHELFLIVE_DEBUG_ADDR); empty: none
PROFILE_AT=${PROFILE_AT:-10} # when: the logins and the 10,000 connects take ~6 s here, the load 20 s
OUT=${OUT:-tmp/bench-room}
CENTRIFUGO_VERSION=v6.9.1
mkdir -p tmp/bin "$OUT"
go build -o tmp/bin/shelflive ./cmd/shelflive
BUILDS=${BUILDS:-tmp/bin/shelflive}
ulimit -n "$(ulimit -Hn)" # 10,000 viewers need 10,000 descriptors on each side
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

spid=
stop_server() {
	if [ -n "$spid" ]; then
		kill "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
		spid=
	fi
}
trap stop_server EXIT

run_shelflive() { # $1 = server binary, $2 = label
	local port dir token dport=
	port=$(free_port)
	dir=$(mktemp -d "$OUT/node.XXXXXX")
	token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	[ -n "$PROFILE" ] && dport=$(free_port)
	SHELFLIVE_DEBUG_ADDR=${dport:+127.0.0.1:$dport} SHELFLIVE_DEV=true SHELFLIVE_RATE_LIMITS=false "$1" serve -addr "127.0.0.1:$port" -data-dir "$dir" \
		-admin-token "$token" -rtmp-addr "" -mqtt-addr "" >"$dir/server.log" 2>&1 &
	spid=$!
	for _ in $(seq 300); do
		curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	if [ -n "$dport" ]; then
		# mid-run: after the logins and the viewers' connecting, inside the measured load
		(sleep "$PROFILE_AT" && curl -fsS -o "$OUT/$2.pprof" "http://127.0.0.1:$dport/debug/pprof/profile?seconds=$PROFILE") &
	fi
	tmp/bin/shelflive bench fanout --url "http://127.0.0.1:$port" --room demo --token "$token" \
		--server-pid "$spid" --viewers "$VIEWERS" --comments-per-s "$COMMENTS" --likes-per-s "$LIKES" \
		--events-per-s "$PINS" --duration "$DURATION" --drain "$DRAIN" ${FANOUT_ARGS:-} | tee "$OUT/$2.txt"
	stop_server
	rm -rf "$dir"
}

run_centrifugo() { # $1 = label
	if ! go version -m tmp/bin/centrifugo 2>/dev/null | grep -q "mod[[:space:]]*github.com/centrifugal/centrifugo/v6[[:space:]]*$CENTRIFUGO_VERSION"; then
		GOBIN=$PWD/tmp/bin go install "github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION"
	fi
	local port
	port=$(free_port)
	SHELFLIVE_BENCH_CENTRIFUGO_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	SHELFLIVE_BENCH_CENTRIFUGO_API_KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	export SHELFLIVE_BENCH_CENTRIFUGO_SECRET SHELFLIVE_BENCH_CENTRIFUGO_API_KEY
	# One plain broadcast channel: no history, no presence, no join/leave.
	cat >"$OUT/centrifugo.json" <<JSON
{
  "log": {"level": "warn"},
  "http_server": {"address": "127.0.0.1", "port": "$port"},
  "client": {"token": {"hmac_secret_key": "$SHELFLIVE_BENCH_CENTRIFUGO_SECRET"}, "allowed_origins": ["http://127.0.0.1"]},
  "http_api": {"key": "$SHELFLIVE_BENCH_CENTRIFUGO_API_KEY"},
  "health": {"enabled": true},
  "channel": {"without_namespace": {"allow_subscribe_for_client": true}}
}
JSON
	tmp/bin/centrifugo --config "$OUT/centrifugo.json" >"$OUT/centrifugo.log" 2>&1 &
	spid=$!
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
		sleep 0.1
	done
	tmp/bin/shelflive bench fanout --peer centrifugo --url "http://127.0.0.1:$port" --room room-demo \
		--server-pid "$spid" --viewers "$VIEWERS" --comments-per-s "$COMMENTS" --likes-per-s "$LIKES" \
		--events-per-s "$PINS" --duration "$DURATION" --drain "$DRAIN" ${FANOUT_ARGS:-} | tee "$OUT/$1.txt"
	stop_server
}

echo "machine: $(nproc) vCPU, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
labels=()
for r in $(seq "$RUNS"); do
	for sys in $SYSTEMS; do
		if [ "$sys" = centrifugo ]; then
			echo "== run $r: centrifugo $CENTRIFUGO_VERSION"
			run_centrifugo "centrifugo-$r"
			labels+=("centrifugo-$r")
			continue
		fi
		b=0
		for bin in $BUILDS; do
			b=$((b + 1))
			echo "== run $r: shelflive build $b ($bin)"
			run_shelflive "$bin" "shelflive$b-$r"
			labels+=("shelflive$b-$r")
		done
	done
	sleep 2
done

echo "== per run (JSON last lines)"
for l in "${labels[@]}"; do echo "$l $(tail -n1 "$OUT/$l.txt")"; done
echo "== medians"
for l in "${labels[@]}"; do echo "${l%-*} $(tail -n1 "$OUT/$l.txt")"; done | python3 -c '
import sys, json, statistics
runs = {}
for line in sys.stdin:
    k, j = line.split(" ", 1)
    runs.setdefault(k, []).append(json.loads(j))
keys = ["commerce_events_lost","pins_due","pins_sent","commerce_p50_ms","commerce_p99_ms","comment_p50_ms","comment_p99_ms",
        "comment_post_p50_ms","comment_post_p99_ms","pin_post_p50_ms","pin_post_p99_ms","comments_missing","comments_sampled_out",
        "comments_delivered_per_s","comments_timely_per_s","messages_per_s","server_cpu_us_per_write","server_cpu_pct",
        "server_kib_per_viewer","load_tool_cpu_pct","other_cpu_pct","loadavg_start"]
for k, rs in runs.items():
    print(k, "(%d runs)" % len(rs))
    for key in keys:
        vals = [r.get(key) for r in rs if r.get(key) is not None]
        if vals:
            print("  %-28s median %-10g runs %s" % (key, statistics.median(vals), vals))
'
