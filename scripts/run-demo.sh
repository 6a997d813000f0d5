#!/usr/bin/env bash
# Runs the demo school: checks its policy, prints the due dates of its rights for today, and writes
# its privacy notice in three languages to build/demo/.
set -euo pipefail
build=${1:-build/release}
policy=${DOVIRA_DEMO_POLICY:-policies/001_vkluchi_zhizn.toml}
bin="$build/src/cli/dovira"
out=build/demo
mkdir -p "$out"

"$bin" policy check --quiet "$policy"
today=$(date +%F)
echo
echo "Due dates for a request received today ($today), in the school's calendar:"
for right in access information rectification erasure; do
  if due=$("$bin" deadline --policy "$policy" --from "$today" --right "$right" 2>/dev/null); then
    printf '  %-14s %s\n' "$right" "$due"
  fi
done
echo
for lang in uk ru en; do
  "$bin" policy render "$policy" --lang "$lang" --format html > "$out/notice.$lang.html"
done
echo "The privacy notice: $out/notice.uk.html, $out/notice.ru.html, $out/notice.en.html"
