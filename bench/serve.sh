#!/usr/bin/env bash
# The service under load: a store of N images (default 10,000, synthesised from the corpus
# inventories as in lifecycle.sh, then matched so they carry findings), `customs serve` on
# loopback with no workers, and wrk (Debian's) on the read endpoints for DURATION seconds
# (default 20): first paced at about RATE requests per second (default 200; each of C
# connections waits C/PACE seconds after each answer before its next request, with PACE 10 %
# above RATE by default because the answer's own time adds to that wait; the line printed
# gives the rate reached), then flat out. Requests cycle
# through a page of images, one image, its findings, its history and a page of jobs, with
# digests drawn from the store. Prints p50, p90, p99, the throughput and the non-2xx count,
# on SQLite and on the local PostgreSQL. Target (issue 17): p99 under 100 ms at 200 req/s,
# no errors.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N="${N:-10000}"; RATE="${RATE:-200}"; DURATION="${DURATION:-20}"; C="${C:-20}"
PACE="${PACE:-$((RATE * 11 / 10))}"
command -v wrk > /dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }
build_customs
(cd "$ROOT" && cargo build --release -q -p customs-store --example synth)
SYNTH="$ROOT/target/release/examples/synth"
A="$SHARED/data/advisories"
corpus_inventories
"$CUSTOMS" db build --out "$work/vuln.db" "$A/osv-pypa-yaml" \
  "debian-dsa:$A/debian-tracker/data/DSA/list" "debian-dla:$A/debian-tracker/data/DLA/list" \
  "$A/alpine-secdb-yaml/v3.10" "$A/rustsec" > /dev/null

cat > "$work/load.lua" <<'LUA'
local paths = {}
local n = 0
local errors = 0
function init(args)
  local token, rate, conns = args[1], tonumber(args[2]), tonumber(args[3])
  wrk.headers["Authorization"] = "Bearer " .. token
  pause = 0
  if rate > 0 then pause = 1000 * conns / rate end
  for line in io.lines(args[4]) do
    table.insert(paths, "/api/v1/images/" .. line)
    table.insert(paths, "/api/v1/images/" .. line .. "/findings")
    table.insert(paths, "/api/v1/images/" .. line .. "/history")
  end
  table.insert(paths, "/api/v1/images?limit=50&offset=" .. math.random(0, 9000))
  table.insert(paths, "/api/v1/jobs?limit=20")
end
function delay() return pause end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n * 7919) % #paths + 1])
end
function response(status, headers, body)
  if status < 200 or status > 299 then errors = errors + 1 end
end
function done(summary, latency, requests)
  local rps = summary.requests / (summary.duration / 1e6)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
            + summary.errors.write + summary.errors.timeout
  io.write(string.format("%8.1f req/s  p50 %6.1f ms  p90 %6.1f ms  p99 %6.1f ms  max %7.1f ms  errors %d\n",
    rps, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, bad))
end
LUA

load() { # LABEL STORE_URL
  local label="$1" url="$2" port token pid
  "$SYNTH" "$url" "$N" "${inventories[@]}"
  "$CUSTOMS" rematch -q --store-url "$url" --db "$work/vuln.db" > /dev/null
  token=$("$CUSTOMS" token create --name "bench-$label" --scope read --store-url "$url" 2> /dev/null)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$CUSTOMS" serve --listen "127.0.0.1:$port" --workers 0 --store-url "$url" --db "$work/vuln.db" \
    --rate 1000000 --burst 1000000 --log-format json 2> "$work/serve-$label.log" &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/images?limit=1000" |
    python3 -c 'import json,sys; [print(i["digest"]) for i in json.load(sys.stdin)["items"]]' > "$work/digests"
  printf '%-9s %6d images, %s connections, paced for %s req/s: ' "$label" "$N" "$C" "$RATE" | tee -a "$RESULTS/serve-latest.txt"
  wrk -t 2 -c "$C" -d "${DURATION}s" --latency -s "$work/load.lua" "http://127.0.0.1:$port" \
    -- "$token" "$PACE" "$C" "$work/digests" | tail -1 | tee -a "$RESULTS/serve-latest.txt"
  printf '%-9s %6d images, %s connections, flat out:         ' "$label" "$N" "$C" | tee -a "$RESULTS/serve-latest.txt"
  wrk -t 2 -c "$C" -d "${DURATION}s" --latency -s "$work/load.lua" "http://127.0.0.1:$port" \
    -- "$token" 0 "$C" "$work/digests" | tail -1 | tee -a "$RESULTS/serve-latest.txt"
  kill -TERM "$pid"; wait "$pid" || true
}
: > "$RESULTS/serve-latest.txt"
load sqlite "sqlite:$work/store.db"
pg_schema
load postgres "$pg_url"
