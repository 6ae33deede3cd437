#!/bin/sh
# SPDX-License-Identifier: MIT
# "cmake --install" into a DESTDIR: every file where Debian and systemd look
# for it, the pieces agreeing with one another, the sysusers.d and
# tmpfiles.d snippets doing their job, man pages that render without a
# warning, a bash completion that completes, and a configuration file that
# a second install leaves alone.
# usage: test_install.sh CMAKE SOURCE_DIR USR_BUILD_DIR MAIN_BUILD_DIR
# with MAIN_BINDIR, MAIN_SBINDIR, MAIN_CONFIG in the environment: where the
# main build installs.
. "$(dirname "$0")/lib.sh"
need systemd-analyze systemd-sysusers systemd-tmpfiles

cmake=$1 src=$2 usr=$3 main=$4
root=$tmp/root

DESTDIR=$root "$cmake" --install "$usr" --prefix /usr >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "cmake --install $usr"; }

# --- the tree
have -x "$root/usr/bin/promise"
have -x "$root/usr/sbin/promised"
have -x "$root/usr/libexec/promised/promise-mail-in"
have -x "$root/usr/libexec/promised/promise-http"
have "$root/etc/promised/promised.conf"
cmp -s "$src/conf/promised.conf" "$root/etc/promised/promised.conf" ||
    fail "installed promised.conf differs from conf/promised.conf"
unitdir=
for d in /lib/systemd/system /usr/lib/systemd/system; do
	[ -f "$root$d/promised.service" ] && unitdir=$d
done
[ -n "$unitdir" ] || fail "no promised.service in /lib or /usr/lib/systemd/system"
have "$root$unitdir/promised.socket"
have "$root/usr/lib/sysusers.d/promised.conf"
have "$root/usr/lib/tmpfiles.d/promised.conf"
have "$root/usr/share/bash-completion/completions/promise"
for page in man1/promise.1 man5/promised.conf.5 man8/promised.8; do
	have "$root/usr/share/man/$page.gz"
done
have "$root/usr/share/doc/promised/copyright"
have "$root/usr/share/doc/promised/changelog.gz"
have "$root/etc/logrotate.d/promised"
# nothing strays out of the system's own directories
stray=$(cd "$root" && find . -type f | grep -vE '^\./(usr|etc|lib)/' || true)
[ -z "$stray" ] || fail "installed outside /usr, /etc and /lib: $stray"
ok "tree ($unitdir)"

# --- the pieces agree: unit, binaries, configuration
grep -qxF 'ExecStart=/usr/sbin/promised -c /etc/promised/promised.conf' \
    "$root$unitdir/promised.service" || fail "ExecStart= does not match the tree"
"$root/usr/sbin/promised" --help | grep -qF /etc/promised/promised.conf ||
    fail "promised's default configuration is not /etc/promised/promised.conf"
"$root/usr/bin/promise" --help | grep -qF /run/promised/promised.sock ||
    fail "promise's default socket is not the one promised.socket listens on"
"$root/usr/sbin/promised" --check-config -c "$root/etc/promised/promised.conf" \
    >/dev/null || fail "the shipped promised.conf does not pass --check-config"
ok "units, binaries and configuration agree"

verify_units "$root$unitdir/promised.service" "$root$unitdir/promised.socket" \
    "$root/usr/sbin/promised" "$root/usr/share/man"
check_exposure "$root$unitdir/promised.service"

# --- the user, group and directories, made inside the tree (chown needs
# root)
if [ "$(id -u)" -ne 0 ]; then
	echo "note: not root; sysusers.d and tmpfiles.d not applied"
else
	mkdir -p "$root/etc"
	systemd-sysusers --root="$root" promised.conf >/dev/null 2>&1 ||
	    fail "systemd-sysusers promised.conf"
	systemd-tmpfiles --root="$root" --create promised.conf ||
	    fail "systemd-tmpfiles --create promised.conf"
	uid=$(awk -F: '$1 == "promised" && $6 == "/var/lib/promised" { print $3 }' \
	    "$root/etc/passwd")
	gid=$(awk -F: '$1 == "promised" { print $3 }' "$root/etc/group")
	[ -n "$uid" ] && [ -n "$gid" ] || fail "no user and group promised"
	staff=$(awk -F: '$1 == "promise-users" { print $3 }' "$root/etc/group")
	[ -n "$staff" ] || fail "no group promise-users"
	[ "$staff" != "$gid" ] || fail "promise-users is group promised"
	# the staff's group gives the socket and nothing else: user promised
	# is not in it, and no one is in group promised
	awk -F: '$1 == "promise-users" || $1 == "promised" { print $4 }' \
	    "$root/etc/group" | grep -q . && fail "members in: $(grep promise "$root/etc/group")"
	for d in /var/lib/promised /var/backups/promised; do
		st=$(stat -c '%a %u %g' "$root$d") || fail "no $d"
		[ "$st" = "750 $uid $gid" ] ||
		    fail "$d is '$st', want mode 750 owned by promised:promised"
	done
	st=$(stat -c '%a %u %g' "$root/run/promised") || fail "no /run/promised"
	[ "$st" = "2750 $uid $staff" ] ||
	    fail "/run/promised is '$st', want mode 2750 promised:promise-users"
	ok "sysusers.d and tmpfiles.d"
fi

# --- man pages, compressed as Debian ships them
linted=
for page in man1/promise.1 man5/promised.conf.5 man8/promised.8; do
	f=$tmp/$(basename "$page")
	gzip -t "$root/usr/share/man/$page.gz" || fail "$page.gz: not gzip"
	gzip -dc "$root/usr/share/man/$page.gz" >"$f"
	cmp -s "$f" "$src/$(case $page in man1/*) echo client ;; man5/*) echo conf ;;
	    *) echo daemon ;; esac)/$(basename "$page")" ||
	    fail "$page.gz is not its source"
	if command -v groff >/dev/null 2>&1; then
		out=$(groff -man -Tutf8 -ww -z "$f" 2>&1) || fail "groff $page: $out"
		[ -z "$out" ] || fail "groff $page: $out"
		[ "$(groff -man -Tutf8 "$f" 2>/dev/null | wc -l)" -gt 20 ] ||
		    fail "groff renders $page nearly empty"
		linted="groff"
	fi
	if command -v mandoc >/dev/null 2>&1; then
		out=$(mandoc -T lint -W warning "$f" 2>&1) ||
		    fail "mandoc -T lint $page: $out"
		linted="$linted mandoc"
	fi
done
if [ -n "$linted" ]; then
	ok "man pages ($linted)"
else
	echo "note: neither groff nor mandoc installed; man pages not linted"
fi

# --- logrotate: the snippet names the daemon's delivery log, and rotates
# a copy of it here (as root, which the user promised here is not)
snippet=$root/etc/logrotate.d/promised
grep -qxF '/var/lib/promised/deliveries.log {' "$snippet" ||
    fail "the logrotate snippet does not name /var/lib/promised/deliveries.log"
if command -v logrotate >/dev/null 2>&1; then
	log=$tmp/deliveries.log
	sed -e "s#^/var/lib/promised/deliveries.log #$log #" \
	    -e 's/promised promised$/root root/' "$snippet" >"$tmp/rotate.conf"
	echo '{"event":"promise.due"}' >"$log"
	out=$(logrotate -f -s "$tmp/rotate.state" "$tmp/rotate.conf" 2>&1) ||
	    fail "logrotate: $out"
	[ -f "$log.1" ] && [ -f "$log" ] && [ ! -s "$log" ] ||
	    fail "logrotate did not rotate: $(ls "$tmp")"
	ok "logrotate snippet rotates"
fi

# --- bash completion
if command -v bash >/dev/null 2>&1; then
	comp=$root/usr/share/bash-completion/completions/promise
	got=$(bash -c '
		. "$1" || exit 1
		c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMPREPLY=(); _promise; echo "${COMPREPLY[*]}"; }
		c promise ""
		c promise list --state ""
		c promise deliveries --state ""
		c promise add x --n
		c promise digest --t
		c promise --so
		c promise token ""
		c promise token create --' sh "$comp") || fail "bash completion: $got"
	want="add list show done snooze cancel ack deliveries retry status explain import export report sample digest backup metrics token help
open overdue kept cancelled all
pending sent failed all
--nudge --note
--team --token-file
--socket
create list revoke
--name --socket --server --token-file --json --help"
	[ "$got" = "$want" ] || fail "bash completion gave:
$got
want:
$want"
	ok "bash completion"
fi

# --- a second install keeps an edited configuration
echo "# edited" >>"$root/etc/promised/promised.conf"
DESTDIR=$root "$cmake" --install "$usr" --prefix /usr >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "second cmake --install"; }
tail -n 1 "$root/etc/promised/promised.conf" | grep -qx '# edited' ||
    fail "a second install replaced the edited promised.conf"
cmp -s "$src/conf/promised.conf" "$root/etc/promised/promised.conf.dist" ||
    fail "a second install did not put the shipped file beside it"
ok "an edited promised.conf survives a reinstall"

# --- the main build installs where it was configured to
mroot=$tmp/main
DESTDIR=$mroot "$cmake" --install "$main" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "cmake --install $main"; }
have -x "$mroot$MAIN_BINDIR/promise"
have -x "$mroot$MAIN_SBINDIR/promised"
have "$mroot$MAIN_CONFIG"
svc=$(find "$mroot" -name promised.service -type f)
[ -n "$svc" ] || fail "the main build installs no promised.service"
grep -qxF "ExecStart=$MAIN_SBINDIR/promised -c $MAIN_CONFIG" "$svc" ||
    fail "$svc: ExecStart= does not match the main build's paths"
ok "main build installs into its own prefix"
