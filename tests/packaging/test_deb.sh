#!/bin/sh
# SPDX-License-Identifier: MIT
# "cpack -G DEB": the control fields, the library dependencies, the
# conffile, the maintainer scripts and the files; then the package's own
# unit through "systemd-analyze security", and dpkg installing, removing
# and purging it in a scratch root (DPKG_ROOT).
# usage: test_deb.sh CPACK USR_BUILD_DIR VERSION
. "$(dirname "$0")/lib.sh"
need dpkg-deb dpkg-shlibdeps file systemd-analyze systemd-sysusers \
    systemd-tmpfiles lintian

cpack=$1 usr=$2 version=$3
out=$tmp/out

(cd "$usr" && "$cpack" -G DEB -B "$out") >"$tmp/cpack.log" 2>&1 ||
    { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
set -- "$out"/promised_*.deb
[ $# -eq 1 ] && [ -f "$1" ] || fail "cpack made no promised_*.deb: $(ls "$out")"
deb=$1
ok "cpack -G DEB: $(basename "$deb")"

# --- control
field()
{
	dpkg-deb -f "$deb" "$1"
}
[ "$(field Package)" = promised ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
[ "$(field Section)" = admin ] || fail "Section: $(field Section)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ "$(field Recommends)" = bash-completion ] || fail "Recommends: $(field Recommends)"
[ -n "$(field Description)" ] || fail "no Description"
depends=$(field Depends)
for lib in libev4 libsqlite3-0 libcurl4 libinih1 libjansson4 \
    systemd-sysusers systemd-tmpfiles; do
	printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//' |
	    grep -q "^$lib\( \|$\)" || fail "Depends lacks $lib: $depends"
done
ok "control: Depends: $depends"

ctl=$tmp/control
dpkg-deb -e "$deb" "$ctl"
[ "$(cat "$ctl/conffiles")" = "/etc/promised/promised.conf
/etc/logrotate.d/promised" ] || fail "conffiles: $(cat "$ctl/conffiles" 2>/dev/null)"
for s in postinst prerm postrm; do
	have -x "$ctl/$s"
	sh -n "$ctl/$s" || fail "$s: syntax"
done
ok "conffiles and maintainer scripts"

# --- files
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's#^\./#/#' >"$tmp/files"
for f in /usr/bin/promise /usr/sbin/promised /etc/promised/promised.conf \
    /usr/lib/sysusers.d/promised.conf /usr/lib/tmpfiles.d/promised.conf \
    /usr/share/bash-completion/completions/promise \
    /usr/share/man/man1/promise.1.gz /usr/share/man/man5/promised.conf.5.gz \
    /usr/share/man/man8/promised.8.gz /usr/share/doc/promised/copyright \
    /usr/share/doc/promised/changelog.gz /etc/logrotate.d/promised; do
	grep -qxF "$f" "$tmp/files" || fail "the package lacks $f"
done
grep -qE '^/(usr/)?lib/systemd/system/promised\.service$' "$tmp/files" ||
    fail "the package lacks promised.service"
grep -qE '^/(usr/)?lib/systemd/system/promised\.socket$' "$tmp/files" ||
    fail "the package lacks promised.socket"

# the man pages carry the package's version
for page in man1/promise.1 man5/promised.conf.5 man8/promised.8; do
	dpkg-deb --fsys-tarfile "$deb" |
	    tar -xOf - "./usr/share/man/$page.gz" | gzip -dc | head -n 1 |
	    grep -qF "\"promised $version\"" || fail "$page: not version $version"
done
# every path under /usr: a package of a tree for another prefix is refused
! grep -E '^/usr/local' "$tmp/files" || fail "files under /usr/local"
ok "files"

# --- lintian: no error and no warning; its informational notes listed
lintian --tag-display-limit 0 -I "$deb" >"$tmp/lintian" 2>"$tmp/lintian.err" ||
    { cat "$tmp/lintian" "$tmp/lintian.err"; fail "lintian failed"; }
if grep -E '^[EW]: ' "$tmp/lintian"; then
	fail "lintian reports errors or warnings (above)"
fi
# the hardening lintian notes only as information
! grep -E 'hardening-' "$tmp/lintian" || fail "binaries not hardened (above)"
sed 's/^/  lintian: /' "$tmp/lintian"
ok "lintian: no errors, no warnings"

# --- the packaged unit
root=$tmp/root
dpkg-deb -x "$deb" "$root"
check_exposure "$(find "$root" -name promised.service -type f)"

# --- install, remove and purge with dpkg itself, in a scratch root: with
# --force-script-chrootless the maintainer scripts run here with DPKG_ROOT
# set, and must touch nothing of this system and start nothing.  Like
# dpkg, they need root.
if [ "$(id -u)" -ne 0 ]; then
	echo "note: not root; not installed with dpkg"
	exit 0
fi
root=$tmp/sys
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
: >"$root/var/lib/dpkg/status"
# The scratch root has none of the dependencies, and no package owns /etc
# or /usr there to keep dpkg from trying to remove them.
dpkg_root()
{
	dpkg --root="$root" --force-script-chrootless --force-depends \
	    --log=/dev/null "$@" >"$tmp/dpkg.log" 2>&1 ||
	    { cat "$tmp/dpkg.log"; fail "dpkg $*"; }
	! grep -iE 'error|warning' "$tmp/dpkg.log" |
	    grep -vE 'dependency problems|directory .* not empty so not removed' ||
	    fail "dpkg $*: errors or warnings (above)"
}
# every unit link in the root points at a unit file in the root
check_links()
{
	find "$root/etc/systemd" -type l 2>/dev/null | while read -r l; do
		t=$(readlink "$l")
		case $t in
		/dev/null) ;;
		/*) [ -e "$root$t" ] || fail "$1: dangling ${l#$root} -> $t" ;;
		*) [ -e "$(dirname "$l")/$t" ] || fail "$1: dangling ${l#$root} -> $t" ;;
		esac
	done
}
dpkg_root -i "$deb"
grep -q '^promised:' "$root/etc/passwd" || fail "install made no user promised"
grep -q '^promise-users:' "$root/etc/group" || fail "install made no group promise-users"
for d in /var/lib/promised /run/promised /var/backups/promised; do
	[ -d "$root$d" ] || fail "install made no $d"
done
wants=$root/etc/systemd/system
[ -L "$wants/multi-user.target.wants/promised.service" ] &&
    [ -L "$wants/sockets.target.wants/promised.socket" ] ||
    fail "install did not enable promised.service and promised.socket"
check_links install
ok "dpkg -i: user, directories, units enabled"

# an upgrade from 0.1.0, whose socket belonged to group promised: the
# live socket goes to the staff's group
sock=$root/run/promised/promised.sock
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
    "$sock" || fail "cannot make a socket at $sock"
chgrp "$(awk -F: '$1 == "promised" { print $3 }' "$root/etc/group")" "$sock"
dpkg_root -i "$deb"
staff=$(awk -F: '$1 == "promise-users" { print $3 }' "$root/etc/group")
[ "$(stat -c %g "$sock")" = "$staff" ] ||
    fail "the upgrade left the socket to group $(stat -c %g "$sock")"
rm -f "$sock"
ok "an upgrade hands a live socket to promise-users"

echo data >"$root/var/lib/promised/promised.db"
dpkg_root -r promised
[ -f "$root/var/lib/promised/promised.db" ] || fail "remove deleted the database"
[ -f "$root/etc/promised/promised.conf" ] || fail "remove deleted the conffile"
# (the units stay enabled, and masked, until a purge, as Debian does)
ok "dpkg -r: database and configuration kept"

echo copy >"$root/var/backups/promised/kept.db"
dpkg_root -P promised
[ -f "$root/var/backups/promised/kept.db" ] || fail "purge deleted a backup"
rm "$root/var/backups/promised/kept.db"
dpkg_root -i "$deb"
dpkg_root -P promised
for d in /var/lib/promised /var/backups/promised /etc/promised; do
	[ ! -e "$root$d" ] || fail "purge left $d"
done
check_links purge
left=$(find "$root/etc/systemd" -name 'promised.*' 2>/dev/null || true)
[ -z "$left" ] || fail "purge left: $left"
ok "dpkg -P: no state, configuration or unit links left"
