#!/bin/sh
# usage-test.sh - common mistakes that depend on the machine rather than on
# the command line, each answered with the fix. Exits 77 (skipped) where
# the machine cannot show the mistake.
#
#   usage-test.sh FLOWAUDIT SRCDIR default-rules   --site, no --rules, no
#                                                  installed rules
#   usage-test.sh FLOWAUDIT SRCDIR no-privileges   -i without root or
#                                                  capabilities
set -eu
[ $# -eq 3 ] || { echo "usage: $0 FLOWAUDIT SRCDIR CASE" >&2; exit 2; }
flowaudit=$1 src=$2 case=$3
err=$(mktemp)
trap 'rm -f "$err"' EXIT

# check WANT_EXIT WANT_TEXT: the last run's status and a line of its
# standard error.
check() {
    if [ "$status" != "$1" ] || ! grep -qF -- "$2" "$err"; then
        echo "$case: exit $status, stderr:" >&2
        cat "$err" >&2
        echo "$case: expected exit $1 and '$2'" >&2
        exit 1
    fi
    echo "$case: $(cat "$err")"
}

case $case in
default-rules)
    dir=$("$flowaudit" --help | sed -n 's/.*(default with --site: \(.*\))$/\1/p')
    [ -n "$dir" ] || { echo "no rules directory in --help" >&2; exit 1; }
    [ ! -e "$dir" ] || { echo "$dir is installed: skipped"; exit 77; }
    set +e
    "$flowaudit" -q -r "$src/pcaps/synthetic/state-SF.pcap" --site "$src/sites/hyworks.site" 2>"$err"
    status=$?
    set -e
    check 2 "--site without --rules reads the installed rules in $dir, which is missing: give --rules DIR"
    ;;
no-privileges)
    run=
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || { echo "root and no setpriv: skipped"; exit 77; }
        run="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all"
    fi
    set +e
    $run "$flowaudit" -q -i lo 2>"$err"
    status=$?
    set -e
    check 2 "setcap cap_net_raw,cap_net_admin+eip"
    ;;
*)
    echo "unknown case $case" >&2
    exit 2
    ;;
esac
