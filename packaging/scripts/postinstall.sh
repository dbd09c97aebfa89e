#!/bin/sh
# deb: $1 = configure, $2 = previously installed version (empty on first install).
# rpm: $1 = number of installed versions after this one (1 install, 2+ upgrade).
set -e
upgrade=no
case "$1" in
    configure) [ -n "${2:-}" ] && upgrade=yes ;;
    [2-9]*) upgrade=yes ;;
esac
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
    if [ "$upgrade" = yes ]; then
        # Running agents pick up the new code; they drain before they stop, so nothing is lost.
        systemctl try-restart logferry.service 'logferry@*.service' >/dev/null 2>&1 || true
    fi
fi
if [ "$upgrade" = no ]; then
    echo "logferry installed. Edit /etc/logferry/logferry.yaml (secrets go in /etc/default/logferry), then:"
    echo "  logferry validate && systemctl enable --now logferry"
fi
exit 0
