#!/usr/bin/env bash
# Installs the system packages the tests drive for real: Debian's chromium (browser journeys), PostgreSQL and
# Dovecot's IMAP server (mail intake); and Pango, which WeasyPrint needs to make the transparency reports' PDFs.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
ldconfig -p 2>/dev/null | grep 'libpango-1\.0\.so\.0' >/dev/null || missing+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep 'libpangoft2-1\.0\.so\.0' >/dev/null || missing+=(libpangoft2-1.0-0)
if ! command -v pg_config >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} with sudo apt-get"
  sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "The tests need these system packages: ${missing[*]}. Install them (Debian: apt-get install ${missing[*]})." >&2
  exit 1
fi
