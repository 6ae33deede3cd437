#!/bin/sh
# SPDX-License-Identifier: MIT
# Fixture: a build configured as a package or a system install is, with
# the prefix /usr and /etc, /var and /run beside it, since the binaries and
# units carry the paths chosen at configure time.  Only the programs
# are built; no sanitizer, as no package ships one.
# usage: usr_build.sh CMAKE SOURCE_DIR BUILD_DIR GENERATOR C_COMPILER WERROR
set -eu
cmake=$1 src=$2 build=$3 gen=$4 cc=$5 werror=$6

rm -rf "$build"
"$cmake" -S "$src" -B "$build" -G "$gen" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROMISED_WERROR="$werror" \
    -DPROMISED_SANITIZE=OFF -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_INSTALL_SYSCONFDIR=/etc -DCMAKE_INSTALL_LOCALSTATEDIR=/var \
    -DCMAKE_INSTALL_RUNSTATEDIR=/run >"$build.log" 2>&1 ||
    { cat "$build.log"; exit 1; }
"$cmake" --build "$build" --parallel 2 --target promise promised promise-mail-in promise-http promised_gz \
    >>"$build.log" 2>&1 || { cat "$build.log"; exit 1; }
rm -f "$build.log"
echo "ok: built $build"
