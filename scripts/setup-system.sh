#!/usr/bin/env bash
# Install the Debian packages whose real servers and tools the tests and benchmarks use.
# Idempotent: installs only what is missing. Needs root (CI and the dev machines run as root).
set -euo pipefail

# Servers whose real logs the end-to-end tests read (haproxy: in front of nginx), and the anchor
# tools of `make bench`;
# chromium + its driver load the HTML report in a real browser (XSS test, screenshot);
# locales-all lets PostgreSQL log in Japanese/German (lc_messages e2e), fonts-noto-cjk renders CJK.
# Java 17 runs Apache Spark for `--engine spark` and its equivalence tests.
want=(nginx apache2 haproxy goaccess postgresql mariadb-server percona-toolkit pgbadger chromium chromium-driver openjdk-17-jre-headless locales-all fonts-noto-cjk)
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "setup-system: missing ${missing[*]} and cannot install them (need root and apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "setup-system: installing ${missing[*]}"
apt-get update -qq
# Do not start services at install time: the tests start their own, on 127.0.0.1.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
rm -f /usr/sbin/policy-rc.d
