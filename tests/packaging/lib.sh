# SPDX-License-Identifier: MIT
# lib.sh: helpers sourced by the packaging tests.  Each test works in one
# temporary directory, removed however it ends.

set -eu

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

ok()
{
	echo "ok: $*"
}

# skip (ctest's SKIP_RETURN_CODE) when a tool is missing
need()
{
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "SKIP: '$t' is not installed" >&2
			exit 77
		fi
	done
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/promised-pkg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# asserts a file exists (and with -x, is executable)
have()
{
	if [ "$1" = -x ]; then
		[ -f "$2" ] && [ -x "$2" ] || fail "missing or not executable: $2"
	else
		[ -f "$1" ] || fail "missing: $1"
	fi
}

# the exposure "systemd-analyze security" rates a unit file at; fails
# above 1.5
check_exposure()
{
	out=$(systemd-analyze security --offline=true --no-pager "$1" 2>&1) ||
	    fail "systemd-analyze security $1: $out"
	level=$(printf '%s\n' "$out" |
	    sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9.]*\).*/\1/p')
	[ -n "$level" ] || fail "no exposure level in: $out"
	if ! awk -v l="$level" 'BEGIN { exit !(l <= 1.5) }'; then
		printf '%s\n' "$out" | grep '✗' >&2 || true
		fail "$(basename "$1"): exposure $level, want 1.5 or lower"
	fi
	ok "$(basename "$1"): exposure $level"
}

# "systemd-analyze verify" on a service and socket unit pair, with
# ExecStart= pointed at binary (verify wants it to exist); Documentation=
# man pages are looked up in mandir when given and man(1) is there.
# Any message at all is a failure.
verify_units()
{
	service=$1 socket=$2 binary=$3 mandir=${4:-}
	d="$tmp/verify"
	rm -rf "$d"
	mkdir -p "$d"
	sed "s#^ExecStart=[^ ]*/promised #ExecStart=$binary #" "$service" \
	    >"$d/promised.service"
	cp "$socket" "$d/promised.socket"
	grep -q "^ExecStart=$binary " "$d/promised.service" ||
	    fail "no ExecStart= with .../promised in $service"
	if [ -n "$mandir" ] && command -v man >/dev/null 2>&1; then
		out=$(MANPATH="$mandir" systemd-analyze verify \
		    "$d/promised.service" "$d/promised.socket" 2>&1) ||
		    fail "systemd-analyze verify: $out"
	else
		out=$(systemd-analyze verify --man=no \
		    "$d/promised.service" "$d/promised.socket" 2>&1) ||
		    fail "systemd-analyze verify: $out"
	fi
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	ok "systemd-analyze verify $(dirname "$service")/promised.{service,socket}"
}
