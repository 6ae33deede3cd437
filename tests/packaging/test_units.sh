#!/bin/sh
# SPDX-License-Identifier: MIT
# The systemd units as generated in the build tree: the settings promised
# relies on, "systemd-analyze verify", and a sandbox that
# "systemd-analyze security" rates at 1.5 or lower.
# usage: test_units.sh UNIT_DIR PROMISED_BINARY
. "$(dirname "$0")/lib.sh"
need systemd-analyze

dir=$1 binary=$2
service=$dir/promised.service socket=$dir/promised.socket
have "$service"
have "$socket"
have -x "$binary"

! grep -n '@[A-Za-z_]*@' "$service" ||
    fail "unsubstituted variables in $service"

# what the daemon and its users rely on
for line in 'Type=notify' 'ExecReload=/bin/kill -HUP $MAINPID' \
    'User=promised' 'Group=promised' 'StateDirectory=promised' \
    'ReadWritePaths=/run/promised' \
    'ConfigurationDirectory=promised' 'Sockets=promised.socket' \
    'ReadWritePaths=-/var/backups/promised' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    'ProtectSystem=strict' 'CapabilityBoundingSet=' 'UMask=0077'; do
	grep -qxF "$line" "$service" || fail "$service lacks '$line'"
done
grep -qE '^WatchdogSec=[1-9]' "$service" || fail "$service: no WatchdogSec="
grep -qE '^ExecStart=/[^ ]*/promised -c /[^ ]*\.conf$' "$service" ||
    fail "$service: ExecStart= is not 'SBINDIR/promised -c CONFIG'"
# email and webhooks need the network, and the caller's uid must reach
# the daemon as it is
# and /run/promised must stay group promise-users' (tmpfiles.d), which
# RuntimeDirectory= would hand to group promised at every start
for bad in '^PrivateNetwork=(yes|true|1)' '^IPAddressDeny=.' \
    '^PrivateUsers=(yes|true|1)' '^DynamicUser=(yes|true|1)' \
    '^RuntimeDirectory='; do
	! grep -nE "$bad" "$service" || fail "$service: $bad breaks promised"
done
for line in 'ListenStream=/run/promised/promised.sock' 'SocketMode=0660' \
    'SocketUser=promised' 'SocketGroup=promise-users' \
    'Service=promised.service'; do
	grep -qxF "$line" "$socket" || fail "$socket lacks '$line'"
done
ok "settings"

verify_units "$service" "$socket" "$binary"
check_exposure "$service"
# [http] listen on a port below 1024, with no proxy in front, takes
# CAP_NET_BIND_SERVICE in a drop-in (README, Web and API): rated as well
sed -e 's/^CapabilityBoundingSet=$/&CAP_NET_BIND_SERVICE/' \
    -e 's/^AmbientCapabilities=$/&CAP_NET_BIND_SERVICE/' "$service" \
    >"$tmp/promised.service"
grep -qxF 'AmbientCapabilities=CAP_NET_BIND_SERVICE' "$tmp/promised.service" ||
    fail "$service: no AmbientCapabilities= to give the listener a port"
check_exposure "$tmp/promised.service"
