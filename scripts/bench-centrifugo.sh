#!/usr/bin/env bash
# Room fan-out, ShelfLive vs Centrifugo (issue 4): the same workload against both
# systems, one after the other, in one run on the same machine.
#
#   scripts/bench-centrifugo.sh                      # 10,000 viewers, 200 comments/s, 1,000 likes/s, 20 s
#   SIZES="10000 2000" scripts/bench-centrifugo.sh   # also at 2,000 viewers
#
# Centrifugo is installed from the Go module proxy into the git-ignored tmp/bin
# (never in the product's go.mod), configured with an HMAC connection-token secret,
# an HTTP API key and a channel namespace viewers may subscribe to, started on a
# free loopback port, measured with `shelflive bench fanout --peer centrifugo`, and
# stopped before ShelfLive (in-process hub behind its WebSocket adapter) runs.
# Prints both JSON lines per size and the ratios ShelfLive / Centrifugo.
set -euo pipefail
cd "$(dirname "$0")/.."

CENTRIFUGO_VERSION=v6.9.1
SIZES=${SIZES:-10000}
COMMENTS=${COMMENTS:-200}
LIKES=${LIKES:-1000}
DURATION=${DURATION:-20s}
DRAIN=${DRAIN:-30s}
OUT=tmp/bench-centrifugo
mkdir -p tmp/bin "$OUT"

# (go install does not stamp `centrifugo version`; the module version is in the build info)
if ! go version -m tmp/bin/centrifugo 2>/dev/null | grep -q "mod[[:space:]]*github.com/centrifugal/centrifugo/v6[[:space:]]*$CENTRIFUGO_VERSION"; then
	echo "installing centrifugo $CENTRIFUGO_VERSION into tmp/bin" >&2
	GOBIN=$PWD/tmp/bin go install "github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION"
fi
go build -o tmp/bin/shelflive ./cmd/shelflive
ulimit -n "$(ulimit -Hn)" # 10,000 viewers need 10,000 descriptors on each side

SHELFLIVE_BENCH_CENTRIFUGO_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
SHELFLIVE_BENCH_CENTRIFUGO_API_KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
export SHELFLIVE_BENCH_CENTRIFUGO_SECRET SHELFLIVE_BENCH_CENTRIFUGO_API_KEY

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cpid=
stop_centrifugo() {
	if [ -n "$cpid" ]; then
		kill "$cpid" 2>/dev/null || true
		wait "$cpid" 2>/dev/null || true
		cpid=
	fi
}
trap stop_centrifugo EXIT

start_centrifugo() {
	port=$(free_port)
	# Channel "room-demo" has no namespace: any authenticated connection may
	# subscribe; no history, no presence, no join/leave (a plain broadcast channel).
	cat >"$OUT/config.json" <<JSON
{
  "log": {"level": "warn"},
  "http_server": {"address": "127.0.0.1", "port": "$port"},
  "client": {
    "token": {"hmac_secret_key": "$SHELFLIVE_BENCH_CENTRIFUGO_SECRET"},
    "allowed_origins": ["http://127.0.0.1"]
  },
  "http_api": {"key": "$SHELFLIVE_BENCH_CENTRIFUGO_API_KEY"},
  "health": {"enabled": true},
  "channel": {"without_namespace": {"allow_subscribe_for_client": true}}
}
JSON
	tmp/bin/centrifugo --config "$OUT/config.json" >"$OUT/centrifugo.log" 2>&1 &
	cpid=$!
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "centrifugo did not start:" >&2
	cat "$OUT/centrifugo.log" >&2
	return 1
}

echo "machine: $(nproc) vCPU, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), centrifugo $CENTRIFUGO_VERSION"
for n in $SIZES; do
	start_centrifugo
	echo "== centrifugo $CENTRIFUGO_VERSION, $n viewers (pid $cpid, port $port)"
	tmp/bin/shelflive bench fanout --peer centrifugo --url "http://127.0.0.1:$port" --room room-demo \
		--server-pid "$cpid" --viewers "$n" --comments-per-s "$COMMENTS" --likes-per-s "$LIKES" \
		--duration "$DURATION" --drain "$DRAIN" | tee "$OUT/centrifugo-$n.txt"
	stop_centrifugo
	sleep 2
	echo "== shelflive (in-process hub), $n viewers"
	tmp/bin/shelflive bench fanout --inproc --viewers "$n" --comments-per-s "$COMMENTS" --likes-per-s "$LIKES" \
		--duration "$DURATION" --drain "$DRAIN" | tee "$OUT/shelflive-$n.txt"
	echo "== JSON, $n viewers"
	c=$(tail -n1 "$OUT/centrifugo-$n.txt")
	s=$(tail -n1 "$OUT/shelflive-$n.txt")
	echo "$c"
	echo "$s"
	jq -rn --argjson s "$s" --argjson c "$c" '
		def r(a; b): if b > 0 then ((a / b * 100 | round) / 100 | tostring) + "x" else "n/a (peer delivered 0)" end;
		"ratios ShelfLive/Centrifugo at \($s.viewers) viewers:",
		"  useful messages delivered/s  \($s.messages_per_s) / \($c.messages_per_s) = \(r($s.messages_per_s; $c.messages_per_s))",
		"  messages per server CPU-s    \(($s.messages_per_s / ($s.server_cpu_pct / 100)) | round) / \(($c.messages_per_s / ($c.server_cpu_pct / 100)) | round) = \(r($s.messages_per_s / $s.server_cpu_pct; $c.messages_per_s / $c.server_cpu_pct))",
		"  frames/s                     \($s.frames_per_s) / \($c.frames_per_s) = \(r($s.frames_per_s; $c.frames_per_s))",
		"  comments delivered/s         \($s.comments_delivered_per_s) / \($c.comments_delivered_per_s) = \(r($s.comments_delivered_per_s; $c.comments_delivered_per_s))",
		"  centrifugo comments within 250 ms: \($c.comments_timely_per_s)/s (ShelfLive comment p99 \($s.comment_batch_p99_ms) ms)",
		"  commerce lost                \($s.commerce_events_lost) / \($c.commerce_events_lost)",
		"  commerce p99 ms              \($s.commerce_p99_ms) / \($c.commerce_p99_ms)",
		"  comment p99 ms               \($s.comment_batch_p99_ms) / \($c.comment_batch_p99_ms)",
		"  server RSS MiB under load    \($s.server_rss_mib) / \($c.server_rss_mib)",
		"  server KiB per viewer        \($s.server_kib_per_viewer) / \($c.server_kib_per_viewer)",
		"  server CPU % (100 = 1 core)  \($s.server_cpu_pct) / \($c.server_cpu_pct)",
		"  other processes CPU %        \($s.other_cpu_pct) / \($c.other_cpu_pct)",
		"  centrifugo publisher lag p99 \($c.publish_lag_p99_ms) ms; its load phase lasted \($c.load_s) s"'
done
