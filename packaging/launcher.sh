#!/bin/sh
# /usr/bin/logferry: runs the agent from its private virtualenv under /opt/logferry.
# The venv is found relative to this script, so an unpacked package (dpkg -x) works too.
set -e
here=$(dirname "$(readlink -f "$0")")
venv="$here/../../opt/logferry"
if [ -z "${LOGFERRY_CONFIG:-}" ] && [ -r /etc/logferry/logferry.yaml ]; then
    LOGFERRY_CONFIG=/etc/logferry/logferry.yaml
    export LOGFERRY_CONFIG
fi
# -I: ignore PYTHONPATH, user site-packages and the current directory; only the venv's code runs.
exec "$venv/bin/python" -I -m logferry.agent "$@"
