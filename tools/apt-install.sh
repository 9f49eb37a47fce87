#!/bin/sh
# apt-install.sh COMMAND PURPOSE PACKAGE...
# Installs Debian PACKAGEs with apt-get when COMMAND is missing and apt-get is usable
# (as root, or through sudo without a password), for the tests named by PURPOSE
# (pdflatex for the audit tests, chromium for the web UI's browser tests). It never
# fails the build: without COMMAND those tests skip locally and fail under CI.
command="$1"; purpose="$2"; shift 2
command -v "$command" >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "$command is missing and apt-get is not available: $purpose will skip (fail under CI)" >&2
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
else
    echo "$command is missing and apt-get needs root: $purpose will skip (fail under CI)" >&2
    exit 0
fi
echo "installing $command ($*) for $purpose" >&2
$sudo apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || echo "warning: installing $command failed; $purpose will skip (fail under CI)" >&2
exit 0
