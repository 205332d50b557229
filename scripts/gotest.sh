#!/usr/bin/env bash
# Runs go test verbosely into a log and prints a summary: every package's
# result, every top-level test, and the dialect subtests of the store suite, so
# the output shows the suite ran on PostgreSQL and SQLite. On failure it also
# prints the log without the RUN/PASS chatter.
set -uo pipefail
log=$(mktemp -t mesa-test.XXXXXX)
go test -count=1 -v "$@" >"$log" 2>&1
status=$?
grep -E '^(ok|FAIL|--- (PASS|FAIL|SKIP)|panic:)|^    --- (PASS|FAIL): Test(SQLite|Postgres)/' "$log"
if [ $status -ne 0 ]; then
  echo
  echo "==== failures (full log: $log) ===="
  grep -v -E '^(=== (RUN|PAUSE|CONT|NAME)|\s*--- PASS)' "$log"
else
  rm -f "$log"
fi
exit $status
