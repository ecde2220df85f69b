#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""
Capture generator for the pcap scenario tests (tests/pcap/test_scenarios.py).

Two jobs:

1. Hand-made scenarios. A Script is a timeline of frames, each arriving on
   port "inside" or "outside" at a strictly increasing capture time, each with
   the verdict pf semantics give it (forwarded or not) and a label for error
   messages. write_script() turns it into the two input captures a
   `ringwall run` with two pcap: ports replays, plus expected.json.

2. Real captures. split_capture() reads a single-file capture of both
   directions and splits it into the two sides per flow: the initiator of a
   flow (sender of its first SYN, or of its first packet when no SYN was seen)
   is "inside". DLT_RAW captures get a made-up Ethernet header so that every
   port sees Ethernet.

Frames are kept as bytes from the moment they are built: the firewall is a
transparent bridge, so a forwarded frame must come out byte for byte as it
went in, and the tests compare bytes.

CLI:
  gen.py scenarios OUTDIR        write every scenario into OUTDIR/<name>/
  gen.py split CAPTURE OUTDIR    split a real capture into OUTDIR/in-*.pcap
  gen.py flows CAPTURE           print the flows of a capture (for the README)
"""

import json
import os
import struct
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, ICMPv6EchoReply,
                       ICMPv6EchoRequest, ICMPv6PacketTooBig, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrHopByHop, Raw, PadN)

# ---------------------------------------------------------------------------
# pcap files, written and read by hand so that timestamps and bytes are exact

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101  # DLT_RAW as stored in files (12 on some BSDs: see read_pcap)


def write_pcap(path, frames, linktype=LINKTYPE_ETHERNET):
    """frames: iterable of (ts_seconds_float_or_(sec,usec), bytes)."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype))
        for ts, data in frames:
            if isinstance(ts, tuple):
                sec, usec = ts
            else:
                sec = int(ts)
                usec = int(round((ts - sec) * 1e6))
                if usec >= 1000000:
                    sec, usec = sec + 1, usec - 1000000
            f.write(struct.pack('<IIII', sec, usec, len(data), len(data)))
            f.write(data)


def read_pcap(path):
    """Classic pcap only (what the firewall writes and what our real captures
    are). Returns (linktype, [((sec, usec), bytes)])."""
    with open(path, 'rb') as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            raise ValueError('%s: short pcap header' % path)
        magic = struct.unpack('<I', hdr[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            e = '<'
        elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
            e = '>'
        else:
            raise ValueError('%s: not a classic pcap (magic %#x)' % (path, magic))
        nsec = magic in (0xa1b23c4d, 0x4d3cb2a1)
        linktype = struct.unpack(e + 'I', hdr[20:24])[0] & 0x0fffffff
        out = []
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                break
            sec, frac, caplen, _ = struct.unpack(e + 'IIII', rh)
            data = f.read(caplen)
            if len(data) < caplen:
                break
            out.append(((sec, frac // 1000 if nsec else frac), data))
    return linktype, out


# ---------------------------------------------------------------------------
# Scenario scripts

MAC_IN = '02:00:00:00:00:01'   # a host on the inside
MAC_OUT = '02:00:00:00:00:02'  # the router on the outside

C4 = '10.0.0.10'               # client (inside)
S4 = '192.0.2.80'              # server (outside)
R4 = '198.51.100.1'            # a router beyond the outside port
C6 = '2001:db8:1::10'
S6 = '2001:db8:2::80'
R6 = '2001:db8:2::1'

T0 = 1700000000 * 10**6        # capture clock origin, microseconds


class Script:
    """A timeline of frames on the two ports with their expected verdicts."""

    def __init__(self, name, conf='pass-out.conf', step=1000):
        self.name = name
        self.conf = conf
        self.events = []       # dicts: side, t, data, fwd, label
        self.t = T0
        self.step = step
        self.reasons = {}      # reason name -> exact expected count
        self.defines = {}      # extra -D for ringwall run

    def add(self, side, pkt, fwd, label, at=None):
        assert side in ('inside', 'outside')
        if at is not None:  # seconds from the start
            assert T0 + int(at * 10**6) > self.t, 'time must increase'
            self.t = T0 + int(at * 10**6)
        else:
            self.t += self.step
        data = pkt if isinstance(pkt, bytes) else bytes(pkt)
        self.events.append(dict(side=side, t=self.t, data=data, fwd=bool(fwd),
                                label=label))
        return data

    def expect_drop(self, reason, count=1):
        self.reasons[reason] = self.reasons.get(reason, 0) + count

    def now(self):
        return (self.t - T0) / 1e6


def eth(side):
    """Ethernet header (a scapy layer) for a frame entering on side."""
    src, dst = (MAC_IN, MAC_OUT) if side == 'inside' else (MAC_OUT, MAC_IN)
    return Ether(src=src, dst=dst)


def frame(side, ip, vlan=()):
    """An Ethernet frame (bytes) around the IP packet ip (bytes or scapy),
    with 802.1Q/802.1ad tags (vlan: list of (tpid, vid), outermost first).
    The EtherType comes from the IP version nibble."""
    ip = bytes(ip)
    src, dst = (MAC_IN, MAC_OUT) if side == 'inside' else (MAC_OUT, MAC_IN)
    hdr = bytes.fromhex(dst.replace(':', '')) + bytes.fromhex(src.replace(':', ''))
    for tpid, vid in vlan:
        hdr += struct.pack('!HH', tpid, vid)
    et = 0x86dd if ip[0] >> 4 == 6 else 0x0800
    return hdr + struct.pack('!H', et) + ip


def iphdr(src, dst, **kw):
    return IPv6(src=src, dst=dst, **kw) if ':' in src else IP(src=src, dst=dst, **kw)


class TcpConn:
    """One TCP connection between a client on the inside and a server on
    the outside, keeping sequence numbers so that the test only says what
    happens (syn, data, fin) and the segments come out right."""

    def __init__(self, sc, client=C4, server=S4, cport=40000, sport=80, win=8192,
                 cisn=1000, sisn=500000, vlan=(), ext=None):
        self.sc, self.client, self.server = sc, client, server
        self.cport, self.sport, self.win = cport, sport, win
        self.cseq, self.sseq = cisn, sisn
        self.cack = self.sack = 0
        self.vlan = vlan
        self.ext = ext or {}   # label -> extension header stack (IPv6)
        self.sent = []         # (side, bytes of the IP packet) for ICMP quotes

    def _pkt(self, side, flags, seq, ack, payload=b'', ext=None, win=None):
        src, dst = (self.client, self.server) if side == 'inside' else (self.server, self.client)
        sp, dp = (self.cport, self.sport) if side == 'inside' else (self.sport, self.cport)
        ip = iphdr(src, dst)
        if ext is not None:
            ip = ip / ext
        l4 = TCP(sport=sp, dport=dp, flags=flags, seq=seq % 2**32, ack=ack % 2**32,
                 window=self.win if win is None else win)
        p = ip / l4
        if payload:
            p = p / Raw(payload)
        raw_ip = bytes(p)
        self.sent.append((side, raw_ip))
        return frame(side, raw_ip, self.vlan)

    def c(self, flags, payload=b'', fwd=True, label=None, seq=None, ext=None, at=None):
        """Segment from the client (inside)."""
        s = self.cseq if seq is None else seq
        p = self._pkt('inside', flags, s, self.cack if 'A' in flags else 0, payload, ext)
        data = self.sc.add('inside', p, fwd, label or 'client %s len %d' % (flags, len(payload)), at)
        if seq is None:
            self.cseq += len(payload) + ('S' in flags) + ('F' in flags)
        if fwd and self.sack is not None:
            self.sack = max(self.sack, s + len(payload) + ('S' in flags) + ('F' in flags))
        return data

    def s(self, flags, payload=b'', fwd=True, label=None, seq=None, ext=None, at=None):
        """Segment from the server (outside)."""
        s = self.sseq if seq is None else seq
        p = self._pkt('outside', flags, s, self.sack if 'A' in flags else 0, payload, ext)
        data = self.sc.add('outside', p, fwd, label or 'server %s len %d' % (flags, len(payload)), at)
        if seq is None:
            self.sseq += len(payload) + ('S' in flags) + ('F' in flags)
        if fwd:
            self.cack = max(self.cack, s + len(payload) + ('S' in flags) + ('F' in flags))
        return data

    def handshake(self, ext_syn=None):
        self.c('S', label='SYN', ext=ext_syn)
        self.s('SA', label='SYN-ACK')
        self.c('A', label='ACK of SYN-ACK')

    def exchange(self, ext_data=None):
        self.c('PA', b'GET / HTTP/1.0\r\n\r\n', label='client data', ext=ext_data)
        self.s('A', label='server ACK of client data')
        self.s('PA', b'HTTP/1.0 200 OK\r\n\r\n' + b'x' * 200, label='server data')
        self.c('A', label='client ACK of server data')

    def close(self):
        self.c('FA', label='client FIN')
        self.s('A', label='server ACK of FIN')
        self.s('FA', label='server FIN')
        self.c('A', label='client last ACK')


def whole_session(sc, **kw):
    t = TcpConn(sc, **kw)
    t.handshake(ext_syn=t.ext.get('syn'))
    t.exchange(ext_data=t.ext.get('data'))
    t.close()
    return t


def quote(raw_ip, v6=False, limit=None):
    """The part of an IP packet an ICMP error quotes: IPv4 header + 8 bytes
    (RFC 792), or as much as fits in 1280 bytes for ICMPv6 (RFC 4443)."""
    if limit is None:
        if v6:
            limit = 1280 - 40 - 8
        else:
            ihl = (raw_ip[0] & 0x0f) * 4
            limit = ihl + 8
    return raw_ip[:limit]


# --- the scenarios -----------------------------------------------------------
# Each function returns a Script. Numbers in the names follow issue 2 item 7.

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
def s01_tcp_session():
    sc = Script('s01_tcp_session')
    whole_session(sc)
    return sc


@scenario
def s02_unsolicited_inbound():
    sc = Script('s02_unsolicited_inbound')
    sc.add('outside', eth('outside') / IP(src=S4, dst=C4) / TCP(sport=5555, dport=22, flags='S', seq=1),
           False, 'unsolicited SYN from outside')
    sc.add('outside', eth('outside') / IP(src=S4, dst=C4) / UDP(sport=5555, dport=53) / Raw(b'q' * 20),
           False, 'unsolicited UDP from outside')
    sc.add('outside', eth('outside') / IP(src=S4, dst=C4) / ICMP(type=8, id=7, seq=1) / Raw(b'p' * 32),
           False, 'unsolicited ICMP echo from outside')
    # The same from inside passes: the policy is asymmetric, not broken.
    sc.add('inside', eth('inside') / IP(src=C4, dst=S4) / ICMP(type=8, id=7, seq=1) / Raw(b'p' * 32),
           True, 'ICMP echo from inside')
    sc.expect_drop('default-block', 3)
    return sc


def udp_pair(sc, side_src, src, dst, sport, dport, payload, fwd, label, vlan=()):
    p = frame(side_src, iphdr(src, dst) / UDP(sport=sport, dport=dport) / Raw(payload), vlan)
    return sc.add(side_src, p, fwd, label)


@scenario
def s03_udp_reply():
    sc = Script('s03_udp_reply')
    q = udp_pair(sc, 'inside', C4, S4, 33333, 53, b'\x12\x34query', True, 'UDP query from inside')
    udp_pair(sc, 'outside', S4, C4, 53, 33333, b'\x12\x34reply', True, 'UDP reply from outside')
    udp_pair(sc, 'outside', S4, C4, 54, 33333, b'\x12\x34other', False,
             'UDP "reply" from another source port')
    udp_pair(sc, 'outside', S4, C4, 53, 33334, b'\x12\x34other', False,
             'UDP "reply" to another destination port')
    udp_pair(sc, 'inside', C4, S4, 33333, 53, b'\x12\x35query2', True, 'second query, same flow')
    udp_pair(sc, 'outside', S4, C4, 53, 33333, b'\x12\x35reply2', True, 'second reply, same flow')
    sc.expect_drop('default-block', 2)
    return sc


@scenario
def s04_icmp_echo():
    sc = Script('s04_icmp_echo')
    sc.add('inside', eth('inside') / IP(src=C4, dst=S4) / ICMP(type=8, id=0x4242, seq=1) / Raw(b'a' * 32),
           True, 'echo request from inside')
    sc.add('outside', eth('outside') / IP(src=S4, dst=C4) / ICMP(type=0, id=0x4242, seq=1) / Raw(b'a' * 32),
           True, 'echo reply')
    sc.add('outside', eth('outside') / IP(src=S4, dst=C4) / ICMP(type=0, id=0x4243, seq=1) / Raw(b'a' * 32),
           False, 'echo reply with another identifier')
    sc.add('inside', eth('inside') / IPv6(src=C6, dst=S6) / ICMPv6EchoRequest(id=0x6666, seq=1, data=b'b' * 32),
           True, 'ICMPv6 echo request from inside')
    sc.add('outside', eth('outside') / IPv6(src=S6, dst=C6) / ICMPv6EchoReply(id=0x6666, seq=1, data=b'b' * 32),
           True, 'ICMPv6 echo reply')
    sc.add('outside', eth('outside') / IPv6(src=S6, dst=C6) / ICMPv6EchoReply(id=0x6667, seq=1, data=b'b' * 32),
           False, 'ICMPv6 echo reply with another identifier')
    return sc


@scenario
def s05_tcp_out_of_window():
    sc = Script('s05_tcp_out_of_window')
    t = TcpConn(sc, win=8192)  # no window scaling: the window is 8192 bytes
    t.handshake()
    t.c('PA', b'c' * 100, label='client data')
    t.s('PA', b's' * 100, label='server data (in window)')
    # 200000 bytes past what the client has acknowledged, far beyond its
    # 8192-byte window.
    t.s('PA', b'X' * 100, fwd=False, seq=t.sseq + 200000, label='server data far beyond the window')
    t.s('PA', b't' * 100, label='server data after it (in window)')
    t.c('A', label='client ACK')
    t.c('PA', b'd' * 100, label='client data after it')
    t.s('A', label='server ACK')
    sc.expect_drop('tcp-window', 1)
    return sc


@scenario
def s06a_rst_out_of_window():
    sc = Script('s06a_rst_out_of_window')
    t = TcpConn(sc)
    t.handshake()
    t.exchange()
    t.s('R', seq=t.sseq + 1000000, fwd=False, label='spoofed RST, sequence far outside the window')
    t.c('PA', b'still here', label='client data after the spoofed RST')
    t.s('A', label='server ACK after the spoofed RST')
    t.s('PA', b'and me', label='server data after the spoofed RST')
    sc.expect_drop('tcp-rst-window', 1)
    return sc


@scenario
def s06b_rst_in_window():
    sc = Script('s06b_rst_in_window')
    t = TcpConn(sc)
    t.handshake()
    t.exchange()
    t.s('R', seq=t.sseq, label='RST exactly at the next sequence number')
    return sc


@scenario
def s06c_after_rst():
    """pf's closed-state rules (docs/conntrack.md): an in-window RST moves
    both peers to TIME_WAIT; the state stays (tcp.closed) and pf's loose
    branch still passes segments within a window of the old one (stray
    segments after a close). A new SYN from the initiator on the same
    4-tuple opens the connection afresh (port reuse)."""
    sc = Script('s06c_after_rst')
    t = TcpConn(sc)
    t.handshake()
    t.exchange()
    t.s('R', seq=t.sseq, label='RST in window')
    t.c('PA', b'late', label='client data right after the RST (loose closed-state rule)')
    t.cseq += 100000  # a new incarnation: new ISN
    t.c('S', label='new SYN from the client on the same 4-tuple (port reuse)')
    t.sseq += 300000
    t.s('SA', label='SYN-ACK of the new connection')
    t.c('A', label='ACK of the new connection')
    t.c('PA', b'again', label='data on the new connection')
    t.s('A', label='server ACK on the new connection')
    return sc


@scenario
def s06d_rst_then_syn_from_outside():
    """After the connection is reset, a SYN from the server side on the
    same 4-tuple does not reuse the old state: it is a new inbound
    connection, and the policy blocks those."""
    sc = Script('s06d_rst_then_syn_from_outside')
    t = TcpConn(sc)
    t.handshake()
    t.exchange()
    t.s('R', seq=t.sseq, label='RST in window')
    sc.add('outside', frame('outside', IP(src=S4, dst=C4) /
                            TCP(sport=t.sport, dport=t.cport, flags='S', seq=777777, window=8192)),
           False, 'SYN from the server side on the same 4-tuple after the RST')
    sc.expect_drop('default-block', 1)
    return sc


@scenario
def s06e_rst_inexact():
    """A RST inside the window but not at the sender's next sequence number
    (+-1) is dropped: blind injection must guess the exact number (RFC 5961
    3.2; src/track/tcp.c window_check). The connection goes on."""
    sc = Script('s06e_rst_inexact')
    t = TcpConn(sc)
    t.handshake()
    t.exchange()
    t.s('R', seq=t.sseq + 1000, fwd=False, label='RST 1000 bytes into the window')
    t.c('PA', b'still here', label='client data after it')
    t.s('A', label='server ACK after it')
    sc.expect_drop('tcp-rst-window', 1)
    return sc


@scenario
def s06f_client_aborts_connect():
    """The client sends a SYN and, before any answer, a RST at its next
    sequence number (connect() then close()). Both frames arrive back to
    back on the inside port, so a replay hands them to the worker in one
    burst: the RST must find the state the SYN created."""
    sc = Script('s06f_client_aborts_connect')
    t = TcpConn(sc)
    t.c('S', label='SYN')
    t.c('R', label='RST from the client right after its SYN')
    return sc


@scenario
def s07_icmp_errors():
    sc = Script('s07_icmp_errors')
    q = udp_pair(sc, 'inside', C4, S4, 40001, 5000, b'hello', True, 'UDP datagram from inside')
    qip = q[14:]
    sc.add('outside', eth('outside') / IP(src=S4, dst=C4) / ICMP(type=3, code=3) / Raw(quote(qip)),
           True, 'port unreachable quoting the tracked UDP flow')
    t = TcpConn(sc, cport=40002)
    t.handshake()
    d = t.c('PA', b'GET /\r\n', label='client data')
    sc.add('outside', eth('outside') / IP(src=R4, dst=C4) / ICMP(type=3, code=1) / Raw(quote(d[14:])),
           True, 'host unreachable from a router quoting the tracked TCP connection')
    unknown = bytes(IP(src=C4, dst='192.0.2.99') / UDP(sport=7777, dport=53) / Raw(b'zz'))
    sc.add('outside', eth('outside') / IP(src='192.0.2.99', dst=C4) / ICMP(type=3, code=3) /
           Raw(quote(unknown)), False, 'port unreachable quoting an unknown UDP flow')
    unknown_tcp = bytes(IP(src=C4, dst=S4) / TCP(sport=40999, dport=80, flags='S', seq=5))
    sc.add('outside', eth('outside') / IP(src=R4, dst=C4) / ICMP(type=3, code=1) /
           Raw(quote(unknown_tcp)), False, 'host unreachable quoting an unknown TCP connection')
    t6 = TcpConn(sc, client=C6, server=S6, cport=40003, sport=443)
    t6.handshake()
    big = t6.c('PA', b'B' * 1400, label='client IPv6 data, 1400 bytes')
    sc.add('outside', eth('outside') / IPv6(src=R6, dst=C6) / ICMPv6PacketTooBig(mtu=1280) /
           Raw(quote(big[14:], v6=True)), True, 'IPv6 packet too big quoting the tracked TCP connection')
    unknown6 = bytes(IPv6(src=C6, dst=S6) / TCP(sport=40998, dport=443, flags='PA', seq=9) / Raw(b'x' * 1300))
    sc.add('outside', eth('outside') / IPv6(src=R6, dst=C6) / ICMPv6PacketTooBig(mtu=1280) /
           Raw(quote(unknown6, v6=True)), False, 'IPv6 packet too big quoting an unknown connection')
    sc.expect_drop('icmp-err-nostate', 3)
    return sc


def hbh():
    return IPv6ExtHdrHopByHop(options=[PadN(optdata=b'\x00' * 4)])


def dstopt():
    return IPv6ExtHdrDestOpt(options=[PadN(optdata=b'\x00' * 4)])


@scenario
def s08a_ipv6_tcp_session():
    sc = Script('s08a_ipv6_tcp_session')
    whole_session(sc, client=C6, server=S6, ext={'syn': hbh(), 'data': dstopt()})
    return sc


@scenario
def s08b_ipv6_unsolicited():
    sc = Script('s08b_ipv6_unsolicited')
    sc.add('outside', eth('outside') / IPv6(src=S6, dst=C6) / TCP(sport=5555, dport=22, flags='S', seq=1),
           False, 'unsolicited IPv6 SYN from outside')
    sc.add('outside', eth('outside') / IPv6(src=S6, dst=C6) / hbh() / TCP(sport=5556, dport=22, flags='S', seq=1),
           False, 'unsolicited IPv6 SYN with hop-by-hop options from outside')
    sc.add('outside', eth('outside') / IPv6(src=S6, dst=C6) / UDP(sport=5555, dport=53) / Raw(b'q' * 20),
           False, 'unsolicited IPv6 UDP from outside')
    sc.add('outside', eth('outside') / IPv6(src=S6, dst=C6) / dstopt() / UDP(sport=5557, dport=53) / Raw(b'q' * 20),
           False, 'unsolicited IPv6 UDP with destination options from outside')
    sc.add('outside', eth('outside') / IPv6(src=S6, dst=C6) / ICMPv6EchoRequest(id=5, seq=1),
           False, 'unsolicited ICMPv6 echo from outside')
    sc.expect_drop('default-block', 5)
    return sc


@scenario
def s09a_vlan_session():
    sc = Script('s09a_vlan_session')
    whole_session(sc, vlan=[(0x8100, 100)])
    return sc


@scenario
def s09b_qinq_session():
    sc = Script('s09b_qinq_session')
    whole_session(sc, vlan=[(0x88a8, 200), (0x8100, 100)])
    return sc


@scenario
def s09c_double_8100_session():
    sc = Script('s09c_double_8100_session')
    whole_session(sc, vlan=[(0x8100, 300), (0x8100, 100)])
    return sc


def arp_exchange(sc, reply_fwd):
    sc.add('inside', Ether(src=MAC_IN, dst='ff:ff:ff:ff:ff:ff') /
           ARP(op=1, hwsrc=MAC_IN, psrc=C4, pdst='10.0.0.1'), True, 'ARP request from inside')
    sc.add('outside', Ether(src=MAC_OUT, dst=MAC_IN) /
           ARP(op=2, hwsrc=MAC_OUT, psrc='10.0.0.1', hwdst=MAC_IN, pdst=C4), reply_fwd,
           'ARP reply from outside')
    sc.add('outside', Ether(src=MAC_OUT, dst='ff:ff:ff:ff:ff:ff') /
           ARP(op=1, hwsrc=MAC_OUT, psrc='10.0.0.1', pdst=C4), reply_fwd, 'ARP request from outside')
    sc.add('inside', Ether(src=MAC_IN, dst=MAC_OUT) /
           ARP(op=2, hwsrc=MAC_IN, psrc=C4, hwdst=MAC_OUT, pdst='10.0.0.1'), True, 'ARP reply from inside')


@scenario
def s10a_arp_default():
    sc = Script('s10a_arp_default')
    arp_exchange(sc, True)
    return sc


@scenario
def s10b_arp_blocked():
    sc = Script('s10b_arp_blocked', conf='arp-block.conf')
    arp_exchange(sc, False)
    sc.expect_drop('rule-block', 2)
    return sc


@scenario
def s11a_first_match():
    # first-match.conf: block in on inside proto tcp to port 23, then pass in on inside all
    sc = Script('s11a_first_match', conf='first-match.conf')
    sc.add('inside', eth('inside') / IP(src=C4, dst=S4) / TCP(sport=41000, dport=23, flags='S', seq=1),
           False, 'SYN to port 23 (block rule first)')
    whole_session(sc, cport=41001)
    sc.expect_drop('rule-block', 1)
    return sc


@scenario
def s11b_no_state():
    # no-state.conf: pass in on inside proto udp no state
    sc = Script('s11b_no_state', conf='no-state.conf')
    udp_pair(sc, 'inside', C4, S4, 33333, 53, b'query', True, 'UDP query (no state)')
    udp_pair(sc, 'outside', S4, C4, 53, 33333, b'reply', False, 'UDP reply: nothing tracked it')
    udp_pair(sc, 'inside', C4, S4, 33333, 53, b'query2', True, 'second UDP query (no state)')
    sc.expect_drop('default-block', 1)
    return sc


@scenario
def s11c_log():
    # log.conf: block in log on inside proto tcp to port 23, pass in log on inside all
    sc = Script('s11c_log', conf='log.conf')
    sc.add('inside', eth('inside') / IP(src=C4, dst=S4) / TCP(sport=41000, dport=23, flags='S', seq=1),
           False, 'SYN to port 23 (block log rule)')
    whole_session(sc, cport=41002)
    sc.add('outside', eth('outside') / IP(src=S4, dst=C4) / TCP(sport=5555, dport=22, flags='S', seq=1),
           False, 'unsolicited SYN from outside')
    sc.expect_drop('rule-block', 1)
    sc.expect_drop('default-block', 1)
    return sc


@scenario
def s12_udp_timeout():
    # timeout.conf: set timeout udp.first 5
    sc = Script('s12_udp_timeout', conf='timeout.conf')
    udp_pair(sc, 'inside', C4, S4, 30001, 53, b'q1', True, 'query A at t=0')
    sc.add('outside', eth('outside') / IP(src=S4, dst=C4) / UDP(sport=53, dport=30001) / Raw(b'r1'),
           True, 'reply A at t=3 (within udp.first 5)', at=3.0)
    sc.add('inside', eth('inside') / IP(src=C4, dst=S4) / UDP(sport=30002, dport=53) / Raw(b'q2'),
           True, 'query B at t=10', at=10.0)
    sc.add('outside', eth('outside') / IP(src=S4, dst=C4) / UDP(sport=53, dport=30002) / Raw(b'r2'),
           False, 'reply B at t=18 (8 s after the query, past udp.first 5)', at=18.0)
    sc.expect_drop('default-block', 1)
    return sc


def raw_ipv4(payload_l4, proto, ihl=5, csum=None, total_len=None, src=C4, dst=S4):
    hdr = bytearray(struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, 0, 1, 0, 64, proto, 0,
                                bytes(map(int, src.split('.'))), bytes(map(int, dst.split('.')))))
    tl = 20 + len(payload_l4) if total_len is None else total_len
    hdr[2:4] = struct.pack('!H', tl)
    if csum is None:
        s = sum(struct.unpack('!10H', bytes(hdr)))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        csum = ~s & 0xffff
    hdr[10:12] = struct.pack('!H', csum)
    return bytes(hdr) + payload_l4


@scenario
def s13_malformed():
    sc = Script('s13_malformed')
    good = bytes(IP(src=C4, dst=S4) / UDP(sport=1111, dport=2222) / Raw(b'fine'))
    sc.add('inside', frame('inside', good), True, 'well-formed UDP (control)')
    bad = bytearray(good)
    bad[10] ^= 0x55
    sc.add('inside', frame('inside', bytes(bad)), False, 'IPv4 header checksum wrong')
    tcp = bytes(TCP(sport=1111, dport=80, flags='S', seq=1))[:12]
    sc.add('inside', frame('inside', raw_ipv4(tcp, 6)), False, 'TCP header truncated to 12 bytes')
    tcp_doff = bytearray(bytes(TCP(sport=1112, dport=80, flags='S', seq=1)))
    tcp_doff[12] = 0x30  # data offset 3 words, below the 5-word minimum
    sc.add('inside', frame('inside', raw_ipv4(bytes(tcp_doff), 6)), False, 'TCP data offset 3')
    udp = bytes(UDP(sport=1113, dport=2222) / Raw(b'ihl4'))
    sc.add('inside', frame('inside', raw_ipv4(udp, 17, ihl=4)), False, 'IPv4 IHL 4 (below 5)')
    sc.add('inside', frame('inside', raw_ipv4(udp, 17, ihl=15)), False,
           'IPv4 IHL 15 (header runs past the packet)')
    badl4 = bytearray(bytes(IP(src=C4, dst=S4) / UDP(sport=1114, dport=2222) / Raw(b'sum!')))
    badl4[26] ^= 0x0f  # UDP checksum
    sc.add('inside', frame('inside', bytes(badl4)), False, 'UDP checksum wrong')
    sc.expect_drop('ip-checksum', 1)
    sc.expect_drop('tcp-short', 2)
    # IHL 4, and IHL 15 with 32 bytes of packet ("IHL*4 within the frame",
    # docs/parsing.md)
    sc.expect_drop('ip-ihl', 2)
    sc.expect_drop('l4-checksum', 1)
    return sc


@scenario
def s14b_nothing_crosses_scripted():
    """block-all.conf (set default block, no rules) on a scripted mix."""
    sc = Script('s14b_nothing_crosses_scripted', conf='block-all.conf')
    t = TcpConn(sc)
    t.c('S', fwd=False, label='SYN from inside')
    t.s('SA', fwd=False, label='SYN-ACK from outside')
    udp_pair(sc, 'inside', C4, S4, 30001, 53, b'q', False, 'UDP from inside')
    udp_pair(sc, 'outside', S4, C4, 53, 30001, b'r', False, 'UDP from outside')
    sc.add('inside', eth('inside') / IPv6(src=C6, dst=S6) / ICMPv6EchoRequest(id=1), False,
           'ICMPv6 echo from inside')
    sc.expect_drop('default-block', 5)
    return sc


def write_script(sc, outdir):
    """Write in-inside.pcap, in-outside.pcap and expected.json for sc."""
    os.makedirs(outdir, exist_ok=True)
    for side in ('inside', 'outside'):
        write_pcap(os.path.join(outdir, 'in-%s.pcap' % side),
                   [(divmod(e['t'], 10**6), e['data']) for e in sc.events if e['side'] == side])
    with open(os.path.join(outdir, 'expected.json'), 'w') as f:
        json.dump(dict(name=sc.name, conf=sc.conf, reasons=sc.reasons, defines=sc.defines,
                       events=[dict(side=e['side'], t=e['t'], fwd=e['fwd'], label=e['label'],
                                    hex=e['data'].hex()) for e in sc.events]), f, indent=1)


# ---------------------------------------------------------------------------
# Real captures: split both directions into the two sides of the bridge

def to_ethernet(linktype, data):
    """Frames of the capture as Ethernet. DLT_RAW gets a made-up header (the
    EtherType from the IP version nibble); returns None for frames we
    cannot place."""
    if linktype == LINKTYPE_ETHERNET:
        return data
    if linktype in (LINKTYPE_RAW, 12, 228, 229):
        if not data:
            return None
        v = data[0] >> 4
        et = {4: 0x0800, 6: 0x86dd}.get(v)
        if et is None:
            return None
        return bytes.fromhex('020000000002020000000001') + struct.pack('!H', et) + data
    raise ValueError('link type %d not supported by the splitter' % linktype)


def parse_frame(data):
    """Enough of a frame to place it in a flow: dict with af, proto, src,
    dst, sport, dport, tcp_flags, icmp fields, and for ICMP errors the
    quoted packet's key. None for non-IP; {'arp': ...} for ARP."""
    p = Ether(data)
    if p.haslayer(ARP):
        a = p[ARP]
        return dict(kind='arp', src=a.psrc, dst=a.pdst)
    if p.haslayer(IP):
        ip = p[IP]
        l3 = ip
        af = 4
    elif p.haslayer(IPv6):
        ip = p[IPv6]
        l3 = ip
        af = 6
    else:
        return None
    info = dict(kind='ip', af=af, src=ip.src, dst=ip.dst, proto=None, sport=0, dport=0,
                flags=None, err=None)
    # the innermost-first transport of the outer packet
    if af == 4:
        info['proto'] = ip.proto
        if ip.frag > 0:
            info['proto'] = ('frag', ip.id)
            return info
    if l3.haslayer(TCP) and not _in_error(l3, TCP):
        t = l3[TCP]
        info.update(proto=6, sport=t.sport, dport=t.dport, flags=int(t.flags))
    elif l3.haslayer(UDP) and not _in_error(l3, UDP):
        u = l3[UDP]
        info.update(proto=17, sport=u.sport, dport=u.dport)
    elif af == 4 and l3.haslayer(ICMP):
        ic = l3[ICMP]
        info.update(proto=1)
        if ic.type in (3, 4, 5, 11, 12):
            info['icmp_error'] = True
            info['err'] = _quoted_key(bytes(ic.payload), 4)
        else:
            # echo request and reply share the identifier: use it as both
            # "ports" so that both directions land in one flow
            ident = ic.id if ic.type in (0, 8, 13, 14) else 0
            info.update(sport=ident, dport=ident, icmp_type=ic.type)
    elif af == 6:
        nh = _ipv6_l4(bytes(ip))
        if nh is not None and nh[0] == 58:
            typ, body = nh[1][0], nh[1]
            info.update(proto=58)
            if typ < 128:
                info['icmp_error'] = True
                info['err'] = _quoted_key(body[8:], 6)
            else:
                ident = struct.unpack('!H', body[4:6])[0] if typ in (128, 129) and len(body) >= 6 else 0
                info.update(sport=ident, dport=ident, icmp_type=typ)
        elif nh is not None:
            info['proto'] = nh[0]
    return info


def _in_error(l3, layer):
    """True when layer sits inside an ICMP error's quote, not the packet."""
    from scapy.layers.inet import IPerror, TCPerror, UDPerror
    from scapy.layers.inet6 import IPerror6
    return l3.haslayer(IPerror) or l3.haslayer(IPerror6)


def _ipv6_l4(raw):
    """(next header, bytes from it) after the IPv6 extension headers."""
    if len(raw) < 40:
        return None
    nh, off = raw[6], 40
    while nh in (0, 43, 60, 44, 51):
        if off + 8 > len(raw):
            return None
        if nh == 44:
            nnh, ln = raw[off], 8
        elif nh == 51:
            nnh, ln = raw[off], (raw[off + 1] + 2) * 4
        else:
            nnh, ln = raw[off], (raw[off + 1] + 1) * 8
        nh, off = nnh, off + ln
    return nh, raw[off:]


def _quoted_key(q, af):
    """Flow key of the packet quoted by an ICMP error, as the quoted packet's
    sender saw it, or None."""
    try:
        if af == 4 and len(q) >= 20 and q[0] >> 4 == 4:
            ihl = (q[0] & 15) * 4
            proto = q[9]
            src = '.'.join(map(str, q[12:16]))
            dst = '.'.join(map(str, q[16:20]))
            l4 = q[ihl:]
        elif af == 6 and len(q) >= 40 and q[0] >> 4 == 6:
            from ipaddress import IPv6Address
            src = str(IPv6Address(q[8:24]))
            dst = str(IPv6Address(q[24:40]))
            r = _ipv6_l4(q)
            if r is None:
                return None
            proto, l4 = r
        else:
            return None
        if proto in (6, 17) and len(l4) >= 4:
            sp, dp = struct.unpack('!HH', l4[:4])
        elif proto in (1, 58) and len(l4) >= 6 and l4[0] in (0, 8, 128, 129):
            sp = dp = struct.unpack('!H', l4[4:6])[0]
        else:
            sp = dp = 0
        return (proto, src, sp, dst, dp)
    except Exception:
        return None


# TCP flag combinations the parser accepts once PSH, ECE and CWR are set
# aside (docs/parsing.md: Linux conntrack's tcp_valid_flags[]).
VALID_TCP_FLAGS = {0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31, 0x10, 0x30}


def _csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def sanity(e):
    """The parser's verdict on an Ethernet frame, for the checks real
    captures run into: None when well formed, else the reason name
    (docs/parsing.md). Covers truncation against the IP length, the IPv4
    header checksum, TCP/UDP/ICMP checksums of unfragmented packets and
    TCP flag combinations; anything subtler is left to the parser tests."""
    off, et = 12, struct.unpack('!H', e[12:14])[0]
    for _ in range(2):
        if et in (0x8100, 0x88a8) and len(e) >= off + 6:
            off += 4
            et = struct.unpack('!H', e[off:off + 2])[0]
    l3 = e[off + 2:]
    if et == 0x0800:
        if len(l3) < 20:
            return 'ip-short'
        ihl = (l3[0] & 15) * 4
        tl = struct.unpack('!H', l3[2:4])[0]
        if ihl < 20 or ihl > len(l3):
            return 'ip-ihl'
        if tl < ihl or tl > len(l3):
            return 'ip-total-len'
        if _csum(l3[:ihl]) != 0xffff:
            return 'ip-checksum'
        pkt, proto = l3[:tl], l3[9]
        frag = struct.unpack('!H', l3[6:8])[0] & 0x3fff
        l4 = pkt[ihl:]
        pseudo = l3[12:20] + struct.pack('!BBH', 0, proto, len(l4))
        if frag:
            return None
    elif et == 0x86dd:
        if len(l3) < 40:
            return 'ip6-short'
        pl = struct.unpack('!H', l3[4:6])[0]
        if 40 + pl > len(l3):
            return 'ip6-payload-len'
        pkt = l3[:40 + pl]
        r = _ipv6_l4(pkt)
        if r is None:
            return 'ip6-ext-short'
        proto, l4 = r
        if _has_frag6(pkt):
            return None
        if _routing_left(pkt):
            return None  # the checksum used the final destination (parsing.md)
        pseudo = pkt[8:40] + struct.pack('!IxxxB', len(l4), proto)
    else:
        return None
    if proto == 6:
        if len(l4) < 20 or (l4[12] >> 4) * 4 < 20 or (l4[12] >> 4) * 4 > len(l4):
            return 'tcp-short'
        if l4[13] & ~0xc8 & 0xff not in VALID_TCP_FLAGS:
            return 'tcp-flags'
        if _csum(pseudo + l4) != 0xffff:
            return 'l4-checksum'
    elif proto == 17:
        if len(l4) < 8:
            return 'udp-short'
        if struct.unpack('!H', l4[6:8])[0] != 0 or et == 0x86dd:
            if _csum(pseudo + l4) != 0xffff:
                return 'l4-checksum'
    elif proto == 1 and et == 0x0800:
        if len(l4) < 8:
            return 'icmp-short'
        if _csum(l4) != 0xffff:
            return 'l4-checksum'
    elif proto == 58 and et == 0x86dd:
        if len(l4) < 8:
            return 'icmp-short'
        if _csum(pseudo + l4) != 0xffff:
            return 'l4-checksum'
    return None


def _routing_left(pkt):
    """True when an IPv6 routing header has segments left."""
    nh, off = pkt[6], 40
    while nh in (0, 43, 60, 51) and off + 8 <= len(pkt):
        if nh == 43 and pkt[off + 3] > 0:
            return True
        nnh = pkt[off]
        off += (pkt[off + 1] + 2) * 4 if nh == 51 else (pkt[off + 1] + 1) * 8
        nh = nnh
    return False


def _has_frag6(pkt):
    nh, off = pkt[6], 40
    while nh in (0, 43, 60, 44, 51) and off + 8 <= len(pkt):
        if nh == 44:
            return True
        nnh = pkt[off]
        off += (pkt[off + 1] + 2) * 4 if nh == 51 else (pkt[off + 1] + 1) * 8
        nh = nnh
    return False


def flow_key(info):
    """Direction-free key and the (src, sport) end that sent this packet."""
    a = (info['src'], info['sport'])
    b = (info['dst'], info['dport'])
    return (info['proto'],) + tuple(sorted([a, b])), a


def _place(e):
    """(flow key, sender, info) of an Ethernet frame."""
    try:
        info = parse_frame(e)
    except Exception:
        info = None
    if info is None:
        return ('other',) + tuple(sorted([e[6:12].hex(), e[0:6].hex()])), e[6:12].hex(), None
    if info['kind'] == 'arp':
        return ('arp',) + tuple(sorted([info['src'], info['dst']])), info['src'], info
    if info.get('icmp_error') and not info.get('err'):
        # an error quoting nothing usable: on its own, sent from outside
        return ('icmp-error', info['src'], info['dst']), ('err', info['src']), info
    if info.get('err'):
        # An ICMP error belongs to the flow it quotes and travels towards
        # the quoted packet's sender, i.e. it comes from the other end.
        qp, qs, qsp, qd, qdp = info['err']
        return (qp,) + tuple(sorted([(qs, qsp), (qd, qdp)])), (qd, qdp), info
    key, sender = flow_key(info)
    return key, sender, info


def split_capture(path):
    """Split a capture of both directions into the two sides of the bridge.
    Pass 1 finds each flow's initiator: the sender of its first SYN (without
    ACK) if it has one, else the sender of its first packet. Pass 2 puts
    every frame from an initiator on "inside", the rest on "outside".
    Returns dict: linktype, n, sides (side -> [(index, ts, bytes)]), meta
    (per frame: key, side, info; None for frames not placed) and flows (key ->
    initiator, syn, error_first, packets)."""
    linktype, frames = read_pcap(path)
    flows = {}
    placed = []
    for i, (ts, data) in enumerate(frames):
        e = to_ethernet(linktype, data)
        if e is None:
            placed.append(None)
            continue
        key, sender, info = _place(e)
        placed.append((ts, e, key, sender, info))
        fl = flows.get(key)
        if fl is None:
            err = bool(info and info.get('icmp_error'))
            # a flow first seen through an ICMP error was started by the
            # host whose packet the error quotes (or nobody we know)
            if err:
                init = (info['err'][1], info['err'][2]) if info['err'] else None
            else:
                init = sender
            fl = flows[key] = dict(initiator=init, syn=False, first=i, n=0, error_first=err)
        fl['n'] += 1
        is_syn = bool(info and info.get('flags') is not None and (info['flags'] & 0x12) == 0x02)
        if is_syn and not fl['syn']:
            fl['initiator'], fl['syn'] = sender, True
    sides = {'inside': [], 'outside': []}
    meta = []
    last = -1
    for i, pl in enumerate(placed):
        if pl is None:
            meta.append(None)
            continue
        ts, e, key, sender, info = pl
        # The replay orders the two sides by time (ties: inside first);
        # equal or backward stamps would reorder the capture, so make them
        # strictly increasing by microseconds.
        us = max(ts[0] * 10**6 + ts[1], last + 1)
        last = us
        ts = divmod(us, 10**6)
        side = 'inside' if sender == flows[key]['initiator'] else 'outside'
        sides[side].append((i, ts, e))
        meta.append(dict(key=key, side=side, info=info, eth=e))
    return dict(linktype=linktype, sides=sides, meta=meta, flows=flows, n=len(frames))


def write_split(sp, outdir):
    os.makedirs(outdir, exist_ok=True)
    for side in ('inside', 'outside'):
        write_pcap(os.path.join(outdir, 'in-%s.pcap' % side),
                   [(ts, data) for _, ts, data in sp['sides'][side]])


def describe_flows(path):
    sp = split_capture(path)
    counts = {}
    for m in sp['meta']:
        if m is None:
            continue
        c = counts.setdefault(m['key'], [0, 0])
        c[0 if m['side'] == 'inside' else 1] += 1
    for key, fl in sp['flows'].items():
        c = counts.get(key, [0, 0])
        print('%-70s init=%-28s syn=%-5s in=%d out=%d' % (key, fl['initiator'], fl['syn'], c[0], c[1]))


def main(argv):
    if len(argv) >= 3 and argv[1] == 'scenarios':
        names = argv[3:] or sorted(SCENARIOS)
        for n in names:
            write_script(SCENARIOS[n](), os.path.join(argv[2], n))
        return 0
    if len(argv) == 4 and argv[1] == 'split':
        write_split(split_capture(argv[2]), argv[3])
        return 0
    if len(argv) == 3 and argv[1] == 'flows':
        describe_flows(argv[2])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
