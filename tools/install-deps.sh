#!/bin/sh
# Install the Debian packages ringwall's build, tests and demo need, when
# they are missing. As root it runs apt-get; otherwise it lists what to
# install and fails only if something the build itself needs is absent.
set -eu

# build: compiler, libraries. test: capture tools, scapy, namespaces, peers.
BUILD_PKGS="gcc clang make pkg-config libpcap-dev libxdp-dev libbpf-dev"
TEST_PKGS="python3 python3-scapy tshark iproute2 iputils-ping iperf3 curl nftables ethtool xz-utils hping3 vsftpd"

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
	echo "install-deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture; answer no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
	if ! apt-get install -y -q --no-install-recommends $missing >/tmp/ringwall-apt.log 2>&1; then
		apt-get update -q >>/tmp/ringwall-apt.log 2>&1
		apt-get install -y -q --no-install-recommends $missing >>/tmp/ringwall-apt.log 2>&1 || {
			echo "install-deps: apt-get failed, see /tmp/ringwall-apt.log" >&2
			exit 1
		}
	fi
else
	echo "install-deps: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
	for p in $BUILD_PKGS; do
		case " $missing " in *" $p "*) exit 1 ;; esac
	done
fi
