#!/usr/bin/env bash
# Makes sure the servers the tests talk to are installed: PostgreSQL's server
# binaries, Dovecot's IMAP and LMTP servers, Postfix, Chromium for the
# browser tests, Prometheus's promtool (TestContribMetrics checks the
# shipped alert rules with it), and the axe-core accessibility engine the
# browser tests inject (npm,
# pinned by web/testdata/axe/package-lock.json). As root on Debian, missing
# packages are installed with apt-get; otherwise a missing piece is reported
# with the command that installs it.
# The tests themselves start throwaway instances on loopback ports.
set -euo pipefail

missing=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi

if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
  missing+=(dovecot-imapd)
fi
if [ ! -x /usr/lib/dovecot/lmtp ]; then
  missing+=(dovecot-lmtpd)
fi
if ! command -v postfix >/dev/null 2>&1 && [ ! -x /usr/sbin/postfix ]; then
  missing+=(postfix)
fi
if ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if ! command -v promtool >/dev/null 2>&1; then
  missing+=(prometheus)
fi
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

# axe installs axe-core into web/testdata/axe/node_modules with npm ci (the
# exact version and checksum of the committed lock file), unless that version
# is already there.
axe() {
  local dir want have
  dir="$(cd "$(dirname "$0")/.." && pwd)/web/testdata/axe"
  want=$(sed -n 's/.*"axe-core": *"\([^"]*\)".*/\1/p' "$dir/package.json" | head -n1)
  have=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$dir/node_modules/axe-core/package.json" 2>/dev/null | head -n1 || true)
  if [ -n "$want" ] && [ "$want" = "$have" ] && [ -f "$dir/node_modules/axe-core/axe.min.js" ]; then
    return 0
  fi
  echo "test-deps: npm ci axe-core $want in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

if [ ${#missing[@]} -eq 0 ]; then
  axe
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  # Package scripts must not start system daemons on 0.0.0.0: keep (or add) a
  # policy-rc.d that forbids it while installing.
  added_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && added_policy=1
  fi
  echo "test-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [ -n "$added_policy" ] && rm -f /usr/sbin/policy-rc.d
  axe
  exit 0
fi

echo "test-deps: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
exit 1
