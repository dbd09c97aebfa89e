#!/bin/sh
# deb: $1 = remove | upgrade | deconfigure.  rpm: $1 = 0 on removal, 1 on upgrade.
set -e
case "$1" in
    remove|0)
        if [ -d /run/systemd/system ]; then
            systemctl stop logferry.service 'logferry@*.service' >/dev/null 2>&1 || true
            systemctl disable logferry.service >/dev/null 2>&1 || true
        fi
        ;;
esac
exit 0
