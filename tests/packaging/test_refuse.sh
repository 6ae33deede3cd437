#!/bin/sh
# SPDX-License-Identifier: MIT
# cpack refuses to make a .deb of a tree configured for any prefix but
# /usr (the default /usr/local among them), saying how to make one.
# usage: test_refuse.sh CPACK BUILD_DIR PREFIX
. "$(dirname "$0")/lib.sh"

cpack=$1 build=$2 prefix=$3
[ "$prefix" != /usr ] || { echo "SKIP: this tree is configured for /usr" >&2; exit 77; }

for args in "-G DEB" ""; do
	rm -rf "$tmp/out"
	# shellcheck disable=SC2086 # no arguments: cpack's default generator
	if (cd "$build" && "$cpack" $args -B "$tmp/out") >"$tmp/log" 2>&1; then
		cat "$tmp/log"
		fail "cpack $args made a package of a tree for $prefix"
	fi
	# one line: cmake wraps the message
	msg=$(tr -s ' \n' '  ' <"$tmp/log")
	case $msg in
	*"configured for the prefix $prefix "*"must be laid out for /usr."*"-DCMAKE_INSTALL_PREFIX=/usr"*) ;;
	*) false ;;
	esac ||
	    { cat "$tmp/log"; fail "cpack $args: no clear refusal"; }
	! find "$tmp/out" -name '*.deb' 2>/dev/null | grep -q . ||
	    fail "cpack $args left a .deb"
	ok "cpack ${args:-(default)} refuses a tree for $prefix"
done
