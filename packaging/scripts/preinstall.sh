#!/bin/sh
# Create the logferry system user before files are unpacked (the config is group-owned by it).
# Same effect as /usr/lib/sysusers.d/logferry.conf, done with shadow-utils so it also works
# where systemd-sysusers is missing (containers, chroots). Idempotent: safe on upgrades.
set -e
if ! getent group logferry >/dev/null; then
    groupadd --system logferry
fi
if ! getent passwd logferry >/dev/null; then
    useradd --system --gid logferry --home-dir /var/lib/logferry --no-create-home \
        --shell /usr/sbin/nologin --comment "logferry log shipping agent" logferry
fi
# Read access to /var/log (adm on Debian/Ubuntu) and to the whole journal.
for group in adm systemd-journal; do
    if getent group "$group" >/dev/null; then
        usermod --append --groups "$group" logferry
    fi
done
exit 0
