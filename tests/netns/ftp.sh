#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# FTP through ringwall, live (issue 6, item 2): a real server (vsftpd) and a
# real client (curl) on either side of a default-deny firewall with two
# workers, whose only rule for TCP lets the client open port 21. Every data
# connection (passive and active, IPv4 and IPv6) must cross on the FTP
# helper's expectations alone; with `set ftp-ports none` the control
# connection still works and the data connection is blocked.
#
#   rwftp-PID-c                rwftp-PID-f                         rwftp-PID-s
#  +---------------+   +--------------------------------+   +---------------------+
#  | rwftpc0       |   | rwftpc1                rwftps1 |   |             rwftps0 |
#  | 10.217.0.1   =veth= "client" [ringwall run] "server"=veth=        10.217.0.2 |
#  | fd00:217::1   |   |  afpacket, set workers 2       |   |        fd00:217::2  |
#  | curl          |   |  ctl socket $TMP/ctl.sock      |   | vsftpd :21 (v4+v6)  |
#  | (active: the  |   |  default block,                |   | pasv 47100-47199    |
#  |  client       |   |  pass in on client tcp port 21 |   | anon, read-only     |
#  |  listens)     |   |  (+ echo request)              |   | but for upload/     |
#  +---------------+   +--------------------------------+   +---------------------+
#
# Neighbours are static on both ends (no ARP/ND through the firewall), so the
# policy really is port 21 and ping, nothing else. Endpoint veths have tx
# checksum offload, TSO, GSO and GRO off (docs/io.md).
# Afterwards: the run summary's "alg" line (docs/alg.md) must show lines
# parsed, expectations created, copies received by the other worker and
# used; `ringwallctl states` tells which worker held each control and data
# connection, so the test reports whether (and shows that) a data connection
# crossed workers.
# FTP_KEEP=1 keeps the temp dir (curl -v logs, vsftpd.conf, rw.out, blocked.pcap)
# for a look; FTP_TCPDUMP=1 also records both firewall ports there.
# Topology, cleanup (vsftpd's session processes included) and TAP come from
# lib.sh. Needs root. Prints TAP; exit 1 on any failure. Every wait is bounded.
set -u

cd "$(dirname "$0")/../.."
RW=${RINGWALL:-build/ringwall}
CTL=${RINGWALLCTL:-$(dirname "$RW")/ringwallctl}
VSFTPD=${VSFTPD:-$(command -v vsftpd || echo /usr/sbin/vsftpd)}
BACKEND=${FTP_BACKEND:-afpacket}
P=rwftp-$$
NC=$P-c NF=$P-f NS=$P-s
C=10.217.0.1 S=10.217.0.2
C6=fd00:217::1 S6=fd00:217::2
PASV_MIN=47100 PASV_MAX=47199
PY=/usr/bin/python3
. tests/netns/lib.sh
rw_tmpdir rwftp "${FTP_KEEP:-}" || exit 1
SOCK=$TMP/ctl.sock
# whatever still runs in the test's namespaces at exit is the test's
# (vsftpd's session processes outlive its listener)
rw_cleanup_ns_procs $NC $NF $NS

rw_need_root
[ -x "$RW" ] && [ -x "$CTL" ] || skip_all "$RW or $CTL not built"
[ -x "$VSFTPD" ] || skip_all "vsftpd missing (tools/install-deps.sh)"
rw_need_tools ip ethtool curl ping
id ftp >/dev/null 2>&1 || skip_all "no 'ftp' user (comes with the vsftpd package)"
# vsftpd reads its files as ftp, the daemon re-reads its configuration as itself
chmod 755 "$TMP"

ctl() { "$CTL" -s "$SOCK" "$@"; }
mac() { ip -n "$1" -j link show "$2" | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'; }

setup() {
	rw_bump rwftp $NC $NF $NS $C $S $C6 $S6 || return 1
	# GRO off too: the endpoints' receive side sees the frames as sent
	ip netns exec $NC ethtool -K rwftpc0 gro off >/dev/null &&
		ip netns exec $NS ethtool -K rwftps0 gro off >/dev/null || return 1
	local cm sm
	cm=$(mac $NC rwftpc0) && sm=$(mac $NS rwftps0) || return 1
	ip -n $NC neigh replace $S lladdr "$sm" dev rwftpc0 nud permanent &&
		ip -n $NC neigh replace $S6 lladdr "$sm" dev rwftpc0 nud permanent &&
		ip -n $NS neigh replace $C lladdr "$cm" dev rwftps0 nud permanent &&
		ip -n $NS neigh replace $C6 lladdr "$cm" dev rwftps0 nud permanent
}

# vsftpd standalone on :: (IPv4 too, as mapped addresses), anonymous only,
# chrooted (always, for anonymous) into $TMP/ftp; upload/ is the one place
# the ftp user may write.
start_vsftpd() {
	mkdir -p "$TMP/ftp/upload" "$TMP/empty" || return 1
	head -c 300000 /dev/urandom >"$TMP/ftp/blob" || return 1
	head -c 120000 /dev/urandom >"$TMP/up.src" || return 1
	chmod 755 "$TMP/ftp" "$TMP/empty" && chmod 644 "$TMP/ftp/blob" || return 1
	chown ftp "$TMP/ftp/upload" || return 1
	cat >"$TMP/vsftpd.conf" <<-EOF
	listen=NO
	listen_ipv6=YES
	listen_port=21
	background=NO
	anonymous_enable=YES
	local_enable=NO
	no_anon_password=YES
	anon_root=$TMP/ftp
	write_enable=YES
	anon_upload_enable=YES
	anon_mkdir_write_enable=NO
	anon_other_write_enable=NO
	anon_umask=022
	pasv_enable=YES
	pasv_min_port=$PASV_MIN
	pasv_max_port=$PASV_MAX
	port_enable=YES
	connect_from_port_20=NO
	seccomp_sandbox=NO
	connect_timeout=5
	accept_timeout=5
	data_connection_timeout=10
	idle_session_timeout=30
	secure_chroot_dir=$TMP/empty
	xferlog_enable=NO
	vsftpd_log_file=$TMP/vsftpd.log
	dual_log_enable=NO
	syslog_enable=NO
	use_localtime=NO
	dirmessage_enable=NO
	EOF
	ip netns exec $NS timeout 120 "$VSFTPD" "$TMP/vsftpd.conf" >"$TMP/vsftpd.err" 2>&1 &
	rw_cleanup_pid $!
	rw_wait_for 10 rw_listening $NS 21 && return 0
	cat "$TMP/vsftpd.err"
	return 1
}

write_conf() { # write_conf FTP-PORTS [STATE-OPTION of the port-21 rule]
	cat >"$TMP/fw.conf.new" <<-EOF
	port client "$BACKEND:rwftpc1"
	port server "$BACKEND:rwftps1"
	set workers 2
	set default block log
	set logfile "$TMP/blocked.pcap"
	set ftp-ports $1
	pass in on client proto tcp to port 21 ${2:-}
	pass in on client inet proto icmp icmp-type echoreq
	EOF
	chmod 644 "$TMP/fw.conf.new" && mv "$TMP/fw.conf.new" "$TMP/fw.conf"
}

start_fw() {
	rw_daemon_start "$TMP/rw.out" "$TMP/rw.err" "running:" 5 \
		ip netns exec $NF timeout 120 "$RW" run -c "$TMP/fw.conf" -s "$SOCK"
}

drops() { ctl --json stats | $PY -c 'import json,sys; print(json.load(sys.stdin)["drops"].get(sys.argv[1], 0))' "$1"; }

# ftp_get NAME URL [CURL-ARGS...]: download blob, byte for byte. Bounded:
# 10 s to connect, 15 s in all. For FTP, curl's connect timeout runs from
# the start to the data connection, greeting and login included: on a busy
# 2-core box vsftpd alone can take seconds to greet, so this is generous.
ftp_get() {
	local name=$1 url=$2
	shift 2
	rm -f "$TMP/got"
	ip netns exec $NC timeout 20 curl -sS -v --connect-timeout 10 --max-time 15 \
		-o "$TMP/got" "$@" "$url" >"$TMP/curl-$name.log" 2>&1 || { cat "$TMP/curl-$name.log"; return 1; }
	cmp "$TMP/got" "$TMP/ftp/blob" || return 1
	grep -E '^(> (PASV|EPSV|PORT|EPRT)|< (227|229) )' "$TMP/curl-$name.log"
}

ftp_put() { # ftp_put NAME URL [CURL-ARGS...]: upload up.src as upload/NAME
	local name=$1 url=$2
	shift 2
	ip netns exec $NC timeout 20 curl -sS -v --connect-timeout 10 --max-time 15 \
		-T "$TMP/up.src" "$@" "$url" >"$TMP/curl-$name.log" 2>&1 || { cat "$TMP/curl-$name.log"; return 1; }
	cmp "$TMP/up.src" "$TMP/ftp/upload/$name" || return 1
	grep -E '^(> (PASV|EPSV|PORT|EPRT|STOR)|< (227|229) )' "$TMP/curl-$name.log"
}

# workers NAME: after one transfer on a flushed table, the worker of the
# control connection (port 21) and of the data connection (any other);
# appends "NAME CTL DATA" to $TMP/workers. The data connection's state must
# hang off the control connection's rule (docs/alg.md), the only pass rule.
workers() {
	ctl states proto tcp >"$TMP/states" || return 1
	cat "$TMP/states"
	local wc wd rc rd
	wc=$(grep -E '[]0-9]:21 ' "$TMP/states" | grep -oE 'worker [0-9]+' | head -1 | cut -d' ' -f2)
	wd=$(grep -vE '[]0-9]:21 ' "$TMP/states" | grep -oE 'worker [0-9]+' | head -1 | cut -d' ' -f2)
	rc=$(grep -E '[]0-9]:21 ' "$TMP/states" | grep -oE 'rule [0-9]+' | head -1)
	rd=$(grep -vE '[]0-9]:21 ' "$TMP/states" | grep -oE 'rule [0-9]+' | head -1)
	[ -n "$wc" ] && [ -n "$wd" ] || { echo "control or data state missing"; return 1; }
	[ "$rc" = "$rd" ] || { echo "data state under '$rd', control under '$rc'"; return 1; }
	echo "$1 $wc $wd" >>"$TMP/workers"
}

# case NAME URL CURL-ARGS...: flush, transfer, note the workers
xfer_case() {
	local label=$1 fn=$2 name=$3
	shift 3
	ctl flush >/dev/null
	check "$label" $fn "$name" "$@"
	check "$label: control and data states, data under the control's rule" workers "$name"
}

# The negative control: the control connection gets as far as the
# announcement being accepted (227/229 from the server, 200 to PORT/EPRT),
# the data connection times out (and nothing arrives): 6 s to connect (the
# whole dialogue up to the data connection, see ftp_get), 10 s in all.
ANNOUNCED='^< (227|229) |^< 200 (PORT|EPRT) '
data_blocked() { # data_blocked NAME URL [CURL-ARGS...]
	local name=$1 url=$2 rc
	shift 2
	rm -f "$TMP/got"
	ip netns exec $NC timeout 15 curl -sS -v --connect-timeout 6 --max-time 10 \
		-o "$TMP/got" "$@" "$url" >"$TMP/curl-$name.log" 2>&1
	rc=$?
	grep -E '^[<>] ' "$TMP/curl-$name.log"
	echo "curl exit $rc"
	[ $rc != 0 ] && grep -q '^< 220 ' "$TMP/curl-$name.log" &&
		grep -qE "$ANNOUNCED" "$TMP/curl-$name.log" && ! cmp -s "$TMP/got" "$TMP/ftp/blob"
}
eq() { [ "$1" = "$2" ] || { echo "expected $2, got $1"; return 1; }; }
grew() { echo "$3: $1 -> $2"; [ "$2" -gt "$1" ]; }

# alg_field KEY: a number from the run summary's alg line
alg_field() { grep '^alg ' "$TMP/rw.out" | sed -E "s/.* $1 ([0-9]+).*/\\1/"; }
alg_ge() { # alg_ge KEY MIN
	local v
	v=$(alg_field "$1")
	echo "alg $1 = ${v:-missing} (want >= $2)"
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}
alg_eq() {
	local v
	v=$(alg_field "$1")
	echo "alg $1 = ${v:-missing} (want $2)"
	[ "$v" = "$2" ]
}

echo "# topology $NC - $NF - $NS, $C <-> $S, $C6 <-> $S6"
if ! setup; then notok "topology set up"; rw_done; exit 1; fi
ok "topology set up"
if ! start_vsftpd >"$TMP/out" 2>&1; then
	notok "vsftpd starts in the server namespace" "$TMP/out"
	rw_done
	exit 1
fi
ok "vsftpd starts in the server namespace"
check "no firewall: nothing crosses" bash -c "! ip netns exec $NC ping -c 1 -W 1 -q $S"

# FTP_TCPDUMP=1 (with FTP_KEEP=1) records both firewall ports to $TMP/*.pcap
if [ -n "${FTP_TCPDUMP:-}" ]; then
	for i in rwftpc1 rwftps1; do
		ip netns exec $NF timeout 100 tcpdump -nn -U -s 200 -i $i -w "$TMP/$i.pcap" 2>/dev/null &
		rw_cleanup_pid $!
	done
	sleep 1
fi

write_conf 21
if ! start_fw; then
	notok "ringwall starts (2 workers, default block, only port 21)" "$TMP/rw.err"
	rw_done
	exit 1
fi
ok "ringwall starts (2 workers, default block, only port 21)"
check "ping passes (reachability)" ip netns exec $NC ping -c 2 -i 0.2 -W 2 -q $S

: >"$TMP/workers"
xfer_case "IPv4 passive (EPSV) download" ftp_get v4-epsv "ftp://$S/blob"
xfer_case "IPv4 passive (PASV, 227) download" ftp_get v4-pasv "ftp://$S/blob" --disable-epsv
xfer_case "IPv4 active (PORT) download" ftp_get v4-port "ftp://$S/blob" --ftp-port $C --disable-eprt
xfer_case "IPv4 active (EPRT) download" ftp_get v4-eprt "ftp://$S/blob" --ftp-port $C
xfer_case "IPv6 passive (EPSV) download" ftp_get v6-epsv "ftp://[$S6]/blob" -g
xfer_case "IPv6 active (EPRT) download" ftp_get v6-eprt "ftp://[$S6]/blob" -g --ftp-port "$C6"
xfer_case "IPv4 passive upload" ftp_put v4-up "ftp://$S/upload/v4-up"
xfer_case "IPv6 active upload" ftp_put v6-up "ftp://[$S6]/upload/v6-up" -g --ftp-port "$C6"

# Two workers: was any data connection on the other worker than its control
# connection? The fanout hash is the kernel's (keyed by a boot secret), so a
# single transfer crosses with probability about 1/2: add passive downloads
# (at most 16) until one has crossed.
extra=0
while ! awk '$2 != $3 { f = 1 } END { exit !f }' "$TMP/workers" && [ $extra -lt 16 ]; do
	extra=$((extra + 1))
	ctl flush >/dev/null
	ftp_get "more-$extra" "ftp://$S/blob" >"$TMP/out" 2>&1 && workers "more-$extra" >>"$TMP/out" 2>&1 ||
		{ notok "extra passive download $extra" "$TMP/out"; break; }
done
sed 's/^/# workers (transfer, control, data): /' "$TMP/workers"
crossed=$(awk '$2 != $3' "$TMP/workers" | wc -l)
echo "# $crossed of $(wc -l <"$TMP/workers") data connections were on the other worker than their control connection"
check "a data connection crossed workers and its transfer completed" test "$crossed" -gt 0

# Negative control: the helper off (reload), the same passive download.
write_conf none
check "reload with set ftp-ports none" ctl reload
ctl flush >/dev/null
b0=$(drops default-block)
t_off=$(date +%s.%N)
check "helper off: control connection works, passive (EPSV) data connection blocked" \
	data_blocked off-epsv "ftp://$S/blob"
check "helper off: IPv6 active (EPRT) data connection blocked" \
	data_blocked off-eprt6 "ftp://[$S6]/blob" -g --ftp-port "$C6"
check "helper off: the blocked data SYNs are counted as default-block" grew "$b0" "$(drops default-block)" default-block

# Back on: the helper works again for new control connections.
write_conf 21
check "reload with set ftp-ports 21" ctl reload
check "helper on again: IPv4 passive download" ftp_get again "ftp://$S/blob"

# The control connection through the SYN proxy (docs/synproxy.md): the
# proxy completes the client's handshake, then opens the server side; the
# helper reads the spliced connection, its expectations cross workers as
# before.
write_conf 21 "synproxy state"
check "reload with port 21 under synproxy state" ctl reload
ctl flush >/dev/null
check "synproxy: IPv4 passive (PASV, 227) download" ftp_get sp-pasv "ftp://$S/blob" --disable-epsv
check "synproxy: IPv4 active (PORT) download" ftp_get sp-port "ftp://$S/blob" --ftp-port $C --disable-eprt
check "synproxy: IPv6 passive (EPSV) download" ftp_get sp-epsv6 "ftp://[$S6]/blob" -g
check "synproxy: IPv6 active (EPRT) download" ftp_get sp-eprt6 "ftp://[$S6]/blob" -g --ftp-port "$C6"
check "synproxy: the control connections were spliced by the proxy" \
	bash -c "'$CTL' -s '$SOCK' states | grep -q ' proxy'"

ctl stats | sed 's/^/#   /'
check "SIGTERM stops ringwall with status 0" rw_daemon_stop
grep -E '^(alg|drop|states) ' "$TMP/rw.out" | sed 's/^/# summary: /'
# With the helper on, no SYN may have been blocked: a data SYN that reached
# a worker before the expectation did would be (and would wait for its
# retransmission). Only SYNs: the last ACK of a finished transfer can meet
# the flushed table. The log has every default-blocked packet (the
# endpoints' IPv6 link chatter, MLD and router solicitations, too).
blocked_tcp() { # blocked_tcp: "TIME SRC DPORT FLAGS" for each blocked TCP packet
	$PY - "$TMP/blocked.pcap" <<-'EOF'
	import sys
	from scapy.all import rdpcap, IP, IPv6, TCP
	for p in rdpcap(sys.argv[1]):
	    if TCP in p:
	        ip = p[IP] if IP in p else p[IPv6]
	        print('%.6f %s %d %s' % (float(p.time), ip.src, p[TCP].dport, p[TCP].flags))
	EOF
}
blocked_tcp >"$TMP/blocked.txt" 2>&1
sed 's/^/# blocked TCP (time, source, port, flags): /' "$TMP/blocked.txt"
check "helper on: no SYN was blocked during the transfers" \
	bash -c "awk -v t=$t_off '\$1 < t && \$4 == \"S\"' '$TMP/blocked.txt' | grep . && exit 1 || exit 0"
check "helper off: the passive data SYNs (client to a pasv port) were the ones blocked" \
	bash -c "awk '\$2 == \"$C\" && \$3 >= $PASV_MIN && \$3 <= $PASV_MAX && \$4 == \"S\"' '$TMP/blocked.txt' | grep -q ."
check "helper off: the active IPv6 data SYNs (server to client) were blocked" \
	bash -c "awk '\$2 == \"$S6\" && \$4 == \"S\"' '$TMP/blocked.txt' | grep -q ."

ntx=$(($(wc -l <"$TMP/workers") + 1))
check "alg: lines parsed" alg_ge lines 10
check "alg: expectations created for each transfer ($ntx)" alg_ge created "$ntx"
check "alg: each was used" alg_ge used "$ntx"
check "alg: copies received by the other worker ($ntx)" alg_ge received "$ntx"
check "alg: no bounce, bad line, gap or dropped message" \
	bash -c "grep '^alg ' '$TMP/rw.out' | grep -q ' bad 0 bounce 0 ' && grep '^alg ' '$TMP/rw.out' | grep -qE ' gaps 0 .* dropped 0$'"

rw_done
