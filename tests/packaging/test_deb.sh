#!/bin/sh
# "cpack -G DEB": the control fields, the library dependencies, the
# conffile, the maintainer scripts and the files; then the package's own
# unit through "systemd-analyze security", and its maintainer scripts run
# against a scratch root (DPKG_ROOT) from install to purge.
# usage: test_deb.sh CPACK USR_BUILD_DIR VERSION
. "$(dirname "$0")/lib.sh"
need dpkg-deb dpkg-shlibdeps file systemd-analyze systemd-sysusers \
    systemd-tmpfiles

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
[ "$(cat "$ctl/conffiles")" = /etc/promised/promised.conf ] ||
    fail "conffiles: $(cat "$ctl/conffiles" 2>/dev/null)"
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
    /usr/share/man/man1/promise.1 /usr/share/man/man5/promised.conf.5 \
    /usr/share/man/man8/promised.8; do
	grep -qxF "$f" "$tmp/files" || fail "the package lacks $f"
done
grep -qE '^/(usr/)?lib/systemd/system/promised\.service$' "$tmp/files" ||
    fail "the package lacks promised.service"
grep -qE '^/(usr/)?lib/systemd/system/promised\.socket$' "$tmp/files" ||
    fail "the package lacks promised.socket"
ok "files"

# --- the packaged unit
root=$tmp/root
dpkg-deb -x "$deb" "$root"
check_exposure "$(find "$root" -name promised.service -type f)"

# --- maintainer scripts, install to purge, on a scratch root; with
# DPKG_ROOT set they must touch nothing of this system and start nothing.
# Like dpkg, they need root.
if [ "$(id -u)" -ne 0 ]; then
	echo "note: not root; maintainer scripts not run"
	exit 0
fi
export DPKG_ROOT="$root" DPKG_MAINTSCRIPT_PACKAGE=promised
run()
{
	DPKG_MAINTSCRIPT_NAME=$1 sh "$ctl/$1" "$2" >"$tmp/script.log" 2>&1 ||
	    { cat "$tmp/script.log"; fail "$1 $2"; }
}
run postinst configure
grep -q '^promised:' "$root/etc/passwd" || fail "postinst made no user promised"
[ -d "$root/var/lib/promised" ] && [ -d "$root/run/promised" ] ||
    fail "postinst made no /var/lib/promised or /run/promised"
wants=$root/etc/systemd/system
if command -v deb-systemd-helper >/dev/null 2>&1; then
	[ -L "$wants/multi-user.target.wants/promised.service" ] &&
	    [ -L "$wants/sockets.target.wants/promised.socket" ] ||
	    fail "postinst did not enable promised.service and promised.socket"
fi
echo data >"$root/var/lib/promised/promised.db"
run prerm remove
run postrm remove
[ -f "$root/var/lib/promised/promised.db" ] || fail "remove deleted the database"
run postrm purge
[ ! -e "$root/var/lib/promised" ] || fail "purge left /var/lib/promised"
[ ! -e "$wants/multi-user.target.wants/promised.service" ] ||
    fail "purge left promised.service enabled"
ok "maintainer scripts: configure, remove, purge"
