#!/usr/bin/env bash
# Serves the demo school (policy 001 by default) on the embedded SQLite store in build/demo-data.
# On the first start it creates an administrator and prints a one-time password. The public pages,
# the cookie banner, the form snippet, the personal cabinet and the staff console come from
# web/dist (make web).
#
# E-mail goes nowhere: the server writes each message into $data/mail (dovira serve --mail-dir)
# and scripts/mail-follow.py shows it here as it arrives (To, Subject, the text), so the cabinet's
# sign-in code can be read off the terminal. Ctrl-C stops the server and the follower.
#
# Environment: DOVIRA_DEMO_POLICY (a policy file), DOVIRA_PORT (0: any free port), DOVIRA_DATA
# (the data directory). The browser walk-through test (web/tests/demo.mjs) starts this script.
set -euo pipefail
build=${1:-build/release}
policy=${DOVIRA_DEMO_POLICY:-policies/001_vkluchi_zhizn.toml}
port=${DOVIRA_PORT:-8080}
data=${DOVIRA_DATA:-build/demo-data}
admin=admin@demo.school
bin="$build/src/cli/dovira"
mail="$data/mail"

"$bin" policy check --quiet "$policy" >/dev/null
first_start=yes
[ -d "$data/store" ] && first_start=no
(umask 077 && mkdir -p "$mail")

cat <<EOF
Starting Dovira with the demo school ($policy); data in $data. Stop with Ctrl-C.
  Staff console: /console.html. The administrator is $admin; the server prints its one-time
  password below on the first start only. The first sign-in sets a new password and then
  needs a TOTP authenticator app (FreeOTP, Aegis, Google Authenticator, ...) to scan the key
  the console shows.
  E-mail to learners and staff is written into $mail and shown here as it arrives.
EOF
if [ "$first_start" = no ]; then
  echo "  (Not the first start: $admin signs in with the password chosen then."
  echo "   To start afresh, stop the demo and remove $data.)"
fi

python3 "$(dirname "$0")/mail-follow.py" "$mail" &
follower=$!
trap 'kill "$follower" 2>/dev/null && wait "$follower" 2>/dev/null; true' EXIT

# In the foreground, so Ctrl-C reaches the server (a background job of a script ignores SIGINT);
# the follower runs in the background and is stopped on the way out. Plain HTTP on the loopback
# address for the demo: the session cookie cannot carry Secure there. No access log (--quiet), so
# the e-mails stay readable.
"$bin" serve --data "$data" --policy "$policy" --port "$port" --insecure-cookies --quiet \
  --web-root web/dist --bootstrap-admin "$admin" --mail-dir "$mail"
