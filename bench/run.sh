#!/usr/bin/env bash
# logferry side by side with rsyslog and syslog-ng, in one run of ../shared/bench.
#   bash bench/run.sh --runs 3                         # peers + logferry
#   bash bench/run.sh --runs 3 --only 'logferry|rsyslog'
# Run ../shared/bench/setup.sh once per machine first. LOGFERRY defaults to .venv/bin/logferry.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$REPO/../shared/bench}
LOGFERRY=${LOGFERRY:-$REPO/.venv/bin/logferry}
suite=$(mktemp --suffix .tsv)
trap 'rm -f "$suite"' EXIT
sed "s|@REPO@|$REPO|g; s|@LOGFERRY@|$LOGFERRY|g" "$REPO/bench/logferry.tsv" > "$suite"
bash "$SHARED/run.sh" --suite "$suite" "$@"
