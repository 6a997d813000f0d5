#!/usr/bin/env bash
# Serves the demo school (policy 001 by default) on the embedded SQLite store in build/demo-data.
# On the first start it creates an administrator and prints a one-time password. The public pages,
# the cookie banner, the form snippet and the staff console come from web/dist (make web).
set -euo pipefail
build=${1:-build/release}
policy=${DOVIRA_DEMO_POLICY:-policies/001_vkluchi_zhizn.toml}
port=${DOVIRA_PORT:-8080}
data=${DOVIRA_DATA:-build/demo-data}
bin="$build/src/cli/dovira"

"$bin" policy check --quiet "$policy" >/dev/null
echo "Starting Dovira with the demo school ($policy); data in $data. Stop with Ctrl-C."
# Plain HTTP on the loopback address for the demo: the session cookie cannot carry Secure there.
exec "$bin" serve --data "$data" --policy "$policy" --port "$port" --insecure-cookies \
  --web-root web/dist --bootstrap-admin admin@demo.school
