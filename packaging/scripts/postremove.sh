#!/bin/sh
# deb: $1 = remove | purge | upgrade | ...   rpm: $1 = 0 on removal, 1 on upgrade.
# Checkpoints and disk buffers in /var/lib/logferry go only on purge; the user stays
# (files elsewhere may still belong to it), as Debian policy advises.
set -e
if [ "$1" = purge ]; then
    rm -rf /var/lib/logferry
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
