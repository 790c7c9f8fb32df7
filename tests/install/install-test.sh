#!/bin/sh
# install-test.sh BUILD_DIR - installs into a scratch DESTDIR and checks it.
set -eu
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest cmake --install "$build" >/dev/null
root=$dest$(cmake -L -N "$build" 2>/dev/null | sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p')
fail=0
for f in bin/flowaudit share/man/man1/flowaudit.1 share/flowaudit/rules/hyworks.rules \
         share/flowaudit/rules/psw.rules share/doc/flowaudit/examples/flowaudit.service; do
    [ -e "$root/$f" ] || { echo "missing after install: $f" >&2; fail=1; }
done
[ $fail = 0 ] || exit 1
# The installed binary checks the rules it was installed with.
"$root/bin/flowaudit" --check-rules "$root/share/flowaudit/rules" | grep -q ': OK$'
echo "installed tree OK"
