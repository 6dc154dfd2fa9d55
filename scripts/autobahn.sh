#!/usr/bin/env bash
# Run the Autobahn|Testsuite fuzzingclient against `strictws echo`, then summarise
# reports/autobahn/index.json and gate it against autobahn/expected.json
# (scripts/autobahn-summary). See docs/conformance.md.
#
#   scripts/autobahn.sh [--cases "1.*,2.*"] [--no-build]
#   scripts/autobahn.sh --cases "1.*,2.*,@autobahn/compression-subset.txt"
#
# --cases takes patterns ("*" matches anything) and @files of them (comma- or
# line-separated, "#" comments). The echo server runs with --deflate.
#
# wstest comes from the Docker image crossbario/autobahn-testsuite when a Docker
# engine answers, else from a `wstest` on PATH. With neither, the script says so
# in one line and exits 0, or 1 when STRICTWS_REQUIRE_AUTOBAHN=1.
#
# Environment:
#   STRICTWS_REQUIRE_AUTOBAHN=1    fail instead of skipping when wstest is unavailable
#   STRICTWS_AUTOBAHN_RUNNER       force "docker" or "wstest" instead of choosing
#   STRICTWS_AUTOBAHN_IMAGE        the image (default crossbario/autobahn-testsuite)
#   STRICTWS_AUTOBAHN_EXPECTED     expected results (default autobahn/expected.json)
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
}

cases=""
build=1
while (($#)); do
  case "$1" in
    --cases) cases="${2:?--cases needs a value such as \"1.*,2.*\"}"; shift 2 ;;
    --cases=*) cases="${1#--cases=}"; shift ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "autobahn: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

# @file entries in --cases expand to the patterns listed in the file.
expanded=""
IFS=',' read -r -a entries <<<"$cases"
for entry in "${entries[@]}"; do
  if [[ "$entry" == @* ]]; then
    file="${entry#@}"
    [[ -f "$file" ]] || { echo "autobahn: --cases names $file, which does not exist" >&2; exit 2; }
    entry="$(sed 's/#.*//' "$file" | tr -s ' \t\n,' ',' | sed 's/^,//; s/,$//')"
  fi
  if [[ -n "$entry" ]]; then expanded="${expanded:+$expanded,}$entry"; fi
done
cases="$expanded"

spec=autobahn/fuzzingclient.json
outdir=reports/autobahn
image="${STRICTWS_AUTOBAHN_IMAGE:-crossbario/autobahn-testsuite}"

not_run() {
  echo "autobahn: NOT RUN: $1" >&2
  if [[ "${STRICTWS_REQUIRE_AUTOBAHN:-0}" == 1 ]]; then exit 1; fi
  exit 0
}

docker_answers() {
  command -v docker >/dev/null 2>&1 && timeout 30 docker info >/dev/null 2>&1
}

runner="${STRICTWS_AUTOBAHN_RUNNER:-}"
if [[ -z "$runner" ]]; then
  if docker_answers; then
    runner=docker
  elif command -v wstest >/dev/null 2>&1; then
    runner=wstest
  else
    not_run "no Docker engine answers (docker info) and no wstest on PATH; install either (docs/conformance.md)."
  fi
elif [[ "$runner" == docker ]]; then
  docker_answers || not_run "STRICTWS_AUTOBAHN_RUNNER=docker but no Docker engine answers (docker info)."
elif [[ "$runner" == wstest ]]; then
  command -v wstest >/dev/null 2>&1 || not_run "STRICTWS_AUTOBAHN_RUNNER=wstest but there is no wstest on PATH."
else
  echo "autobahn: STRICTWS_AUTOBAHN_RUNNER must be docker or wstest, got \"$runner\"" >&2
  exit 2
fi

if ((build)); then npm run --silent build; fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# strictws echo on a free port; its first stdout line says where it listens. With
# permessage-deflate on: sections 12 and 13 need it, and 1-10 must pass with it too.
node bin/strictws.js echo --port 0 --host 127.0.0.1 --deflate --log-level warn >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(grep -o 'ws://[^ ]*' "$work/server.out" 2>/dev/null | head -n 1 || true)"
  [[ -n "$url" ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$url" ]]; then
  echo "autobahn: strictws echo did not start:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "autobahn: strictws echo --deflate listening on $url (pid $server_pid), runner: $runner"

# The committed spec, with this run's URL and --cases subset, in a temp copy.
mkdir -p "$work/config"
node -e '
  const [specFile, out, url, cases] = process.argv.slice(1);
  const spec = JSON.parse(require("node:fs").readFileSync(specFile, "utf8"));
  spec.servers = spec.servers.map((s) => ({ ...s, url }));
  if (cases) spec.cases = cases.split(",").map((c) => c.trim()).filter(Boolean);
  require("node:fs").writeFileSync(out, JSON.stringify(spec, null, 2));
' "$spec" "$work/config/fuzzingclient.json" "$url" "$cases"

rm -rf "$outdir"
mkdir -p "$outdir"
started=$SECONDS
set +e
if [[ "$runner" == docker ]]; then
  # --network host: the container reaches the server on the host's 127.0.0.1.
  # The image's working directory is /, so the spec's "./reports/autobahn" is /reports/autobahn.
  docker run --rm --network host \
    --user "$(id -u):$(id -g)" --env HOME=/tmp \
    --volume "$work/config:/config:ro" \
    --volume "$PWD/reports:/reports" \
    "$image" wstest --mode fuzzingclient --spec /config/fuzzingclient.json >"$work/wstest.log" 2>&1
else
  wstest --mode fuzzingclient --spec "$work/config/fuzzingclient.json" >"$work/wstest.log" 2>&1
fi
wstest_status=$?
set -e
echo "autobahn: wstest finished in $((SECONDS - started)) s (exit $wstest_status; judged from index.json, not from this)"
cp "$work/wstest.log" "$outdir/wstest.log" 2>/dev/null || true

server_alive=1
kill -0 "$server_pid" 2>/dev/null || server_alive=0
cp "$work/server.log" "$outdir/server.log" 2>/dev/null || true

summary_args=()
[[ -n "$cases" ]] && summary_args+=(--cases "$cases")
status=0
scripts/autobahn-summary "${summary_args[@]}" || status=$?

if ((!server_alive)); then
  echo "autobahn: strictws echo died during the run; its log:" >&2
  tail -n 20 "$work/server.log" >&2
  status=1
fi
if [[ ! -f "$outdir/index.json" ]]; then
  echo "autobahn: wstest wrote no $outdir/index.json; its output:" >&2
  tail -n 20 "$work/wstest.log" >&2
  status=1
fi
exit "$status"
