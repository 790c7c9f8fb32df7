#!/bin/sh
# install-deps.sh - installs the Debian packages flowaudit needs to build
# and to run its whole test suite (compilers, libraries, and the real
# servers, proxies and firewall tools the integration tests start, and the
# headless browser that renders the HTML report; librdkafka for the Kafka
# sensors and auditors, kcat to read their topic in the kafka tests).
set -eu
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    build-essential cmake pkg-config clang libclang-rt-14-dev valgrind groff-base \
    libpcap-dev uthash-dev libcmocka-dev libjansson-dev libfixbuf-dev libfixbuf-tools pmacct \
    librdkafka-dev kcat \
    python3 python3-websockets python3-jsonschema jq tcpdump tshark tcpreplay iproute2 nftables nginx \
    procps psmisc ca-certificates \
    chromium-headless-shell fonts-dejavu-core >/dev/null
