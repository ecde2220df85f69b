# SPDX-License-Identifier: BSD-2-Clause
"""
Fragment reassembly through the whole firewall (docs/fragments.md): captures
in, verdicts out, with the helpers of gen.py and test_scenarios.py.

Hand-made scenarios cut whole datagrams into fragments byte by byte (so the
tests control every offset, flag and overlap) and check that a datagram's
ORIGINAL fragments cross together, byte for byte, or none of them does, with
the named drop reason and count from the summary. The policy lets the
inside open anything except UDP port 9999 (first match wins), so a verdict
that depends on ports proves the datagram was judged as a whole:

    block in on inside proto udp to port 9999
    pass in on inside all           (default block: the outside only answers)

Real captures (/work/shared/data/pcaps/frag/) are split by direction (the
first sender between two addresses is "inside"), not by flow: gen.py's flow
splitter would put a first fragment (which has ports) and the later ones
(which do not) on different ports, and fragments of one datagram never
arrive on two ports of a bridge. They replay under pass-all.conf: the
good datagrams must cross whole, no fragment of a malformed one may.
"""

import os
import struct
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402
import test_scenarios as ts  # noqa: E402
from scapy.all import ICMP, IP, UDP, IPv6, IPv6ExtHdrHopByHop, PadN, Raw  # noqa: E402

DATA = os.environ.get('RINGWALL_DATA', '/work/shared/data')
FRAG = os.path.join(DATA, 'pcaps', 'frag')

POLICY = """
port inside  $inside_spec
port outside $outside_spec
set limit states 10000
set limit frags %(frags)d
set timeout frag 30
block in on inside proto udp to port 9999
pass in on inside all
"""

BLOCK_ALL = """
port inside  $inside_spec
port outside $outside_spec
set default block
"""


def policy(tmp_path, frags=10000, text=POLICY):
    path = os.path.join(str(tmp_path), 'frag.conf')
    with open(path, 'w') as f:
        f.write(text % dict(frags=frags) if '%(' in text else text)
    return path


# ---------------------------------------------------------------------------
# cutting datagrams


def _csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def cut4(raw, off, ln, more):
    """IPv4 fragment of the datagram raw: IP payload bytes [off, off+ln)."""
    ihl = (raw[0] & 15) * 4
    hdr = bytearray(raw[:ihl])
    data = raw[ihl + off:ihl + off + ln]
    struct.pack_into('!H', hdr, 2, ihl + len(data))
    df = struct.unpack('!H', hdr[6:8])[0] & 0x4000
    struct.pack_into('!H', hdr, 6, df | (0x2000 if more else 0) | off // 8)
    hdr[10:12] = b'\0\0'
    struct.pack_into('!H', hdr, 10, _csum(bytes(hdr)))
    return bytes(hdr) + data


def cut6(raw, off, ln, more, ident, unfrag=40):
    """IPv6 fragment: a fragment header after the first unfrag bytes (the
    IPv6 header, or it and one hop-by-hop header), fragmentable bytes
    [off, off+ln)."""
    hdr = bytearray(raw[:unfrag])
    at = 6 if unfrag == 40 else 40
    nh, hdr[at] = hdr[at], 44
    data = raw[unfrag + off:unfrag + off + ln]
    struct.pack_into('!H', hdr, 4, unfrag - 40 + 8 + len(data))
    return bytes(hdr) + struct.pack('!BBHI', nh, 0, off | (1 if more else 0), ident) + data


def pieces(total, size):
    """(off, len, more) covering total bytes in size-byte pieces."""
    out, off = [], 0
    while off < total:
        ln = min(size, total - off)
        out.append((off, ln, off + ln < total))
        off += ln
    return out


def udp4(dport, n, ident, src=gen.C4, dst=gen.S4):
    return bytes(IP(src=src, dst=dst, id=ident) / UDP(sport=33000, dport=dport) /
                 Raw(bytes(range(256)) * (n // 256) + bytes(n % 256)))


def udp6(dport, n, hbh=False):
    ip = IPv6(src=gen.C6, dst=gen.S6)
    if hbh:
        ip = ip / IPv6ExtHdrHopByHop(options=[PadN(optdata=b'\0\0\0\0')])
    return bytes(ip / UDP(sport=33000, dport=dport) / Raw(bytes(range(256)) * (n // 256)))


def send_frags(sc, side, frags, fwd, label, vlan=(), order=None):
    order = order if order is not None else range(len(frags))
    out = []
    for k in order:
        out.append(sc.add(side, gen.frame(side, frags[k], vlan), fwd, '%s #%d' % (label, k)))
    return out


def reply4(sc, dport=53):
    """The server's unfragmented answer: crosses only if the datagram made state."""
    sc.add('outside', gen.frame('outside', IP(src=gen.S4, dst=gen.C4) /
                                UDP(sport=dport, dport=33000) / Raw(b'answer')),
           True, 'reply (needs the state the datagram made)')


# ---------------------------------------------------------------------------
# hand-made scenarios: each returns a gen.Script


def f01_v4_in_order():
    """Three fragments in order: all cross, byte for byte; the reply passes on
    the state the reassembled datagram created (ports from the first)."""
    sc = gen.Script('f01_v4_in_order')
    raw = udp4(53, 3000, 101)
    send_frags(sc, 'inside', [cut4(raw, *p) for p in pieces(3008, 1480)], True, 'v4 frag')
    reply4(sc)
    return sc


def f02_v4_out_of_order():
    """Last, first, middle: held until complete, then all cross."""
    sc = gen.Script('f02_v4_out_of_order')
    raw = udp4(53, 3000, 102)
    send_frags(sc, 'inside', [cut4(raw, *p) for p in pieces(3008, 1480)], True, 'v4 frag',
               order=[2, 0, 1])
    reply4(sc)
    return sc


def f03_port_rule_applies_to_all():
    """UDP to the blocked port: the later fragments carry no port, yet all
    three are dropped by the rule that matched the datagram."""
    sc = gen.Script('f03_port_rule_applies_to_all')
    raw = udp4(9999, 3000, 103)
    send_frags(sc, 'inside', [cut4(raw, *p) for p in pieces(3008, 1480)], False, 'to 9999')
    sc.expect_drop('rule-block', 3)
    return sc


def f04_overlap_teardrop():
    """The second fragment reaches back 8 bytes into the first: the whole
    datagram goes (both), and the last fragment alone never completes."""
    sc = gen.Script('f04_overlap_teardrop')
    raw = udp4(53, 3000, 104)
    send_frags(sc, 'inside', [cut4(raw, 0, 1480, True), cut4(raw, 1472, 1488, True),
                              cut4(raw, 2960, 48, False)], False, 'teardrop')
    sc.expect_drop('frag-overlap', 2)
    return sc


def f05_ping_of_death():
    """An echo request whose last fragment ends past 65,535 bytes (parser
    check), and one that fits the offset field but not with its IP header
    (reassembly check): both frag-too-big; nothing of either crosses."""
    sc = gen.Script('f05_ping_of_death')
    raw = bytes(IP(src=gen.C4, dst=gen.S4, id=105) / ICMP(id=7, seq=1) / Raw(b'x' * 1472))
    send_frags(sc, 'inside', [cut4(raw, 0, 1480, True)], False, 'echo head')
    big = bytearray(cut4(raw, 0, 16, False))
    struct.pack_into('!H', big, 6, 65528 // 8)
    big[10:12] = b'\0\0'
    struct.pack_into('!H', big, 10, _csum(bytes(big[:20])))
    sc.add('inside', gen.frame('inside', bytes(big)), False, 'offset 65528 + 16')
    raw2 = bytes(IP(src=gen.C4, dst=gen.S4, id=106) / ICMP(id=7, seq=2) / Raw(b'y' * 1472))
    send_frags(sc, 'inside', [cut4(raw2, 0, 1480, True)], False, 'echo head 2')
    big = bytearray(cut4(raw2, 0, 16, False))
    struct.pack_into('!H', big, 6, 65512 // 8)
    big[10:12] = b'\0\0'
    struct.pack_into('!H', big, 10, _csum(bytes(big[:20])))
    sc.add('inside', gen.frame('inside', bytes(big)), False, 'offset 65512 + 16 + header')
    sc.expect_drop('frag-too-big', 3)  # the two tails and the head held for the second
    return sc


def f06_too_many():
    """65 fragments of 8 bytes: the 65th ends the datagram (64 held + it)."""
    sc = gen.Script('f06_too_many')
    raw = udp4(53, 552, 107)
    send_frags(sc, 'inside', [cut4(raw, *p) for p in pieces(560, 8)][:65], False, 'tiny')
    sc.expect_drop('frag-too-many', 65)
    return sc


def f07_timeout():
    """A first fragment, then its tail 31 s later: the head expired (30 s),
    the tail starts a new datagram that never completes; a datagram sent
    whole afterwards crosses."""
    sc = gen.Script('f07_timeout')
    raw = udp4(53, 2000, 108)
    fr = [cut4(raw, *p) for p in pieces(2008, 1480)]
    sc.add('inside', gen.frame('inside', fr[0]), False, 'head at 1 s', at=1)
    sc.add('inside', gen.frame('inside', fr[1]), False, 'tail at 32 s', at=32)
    raw = udp4(53, 2000, 109)
    for k, p in enumerate(pieces(2008, 1480)):
        sc.add('inside', gen.frame('inside', cut4(raw, *p)), True, 'fresh #%d' % k, at=33 + k)
    sc.expect_drop('frag-timeout', 1)
    return sc


def f08_tiny_first():
    """A TCP SYN whose first fragment holds 8 of its 20 header bytes (RFC
    1858): frag-short-first, and its tail never crosses."""
    sc = gen.Script('f08_tiny_first')
    from scapy.all import TCP
    raw = bytes(IP(src=gen.C4, dst=gen.S4, id=110) / TCP(sport=40000, dport=80, flags='S'))
    send_frags(sc, 'inside', [cut4(raw, 0, 8, True), cut4(raw, 8, 12, False)], False, 'tiny SYN')
    sc.expect_drop('frag-short-first', 1)
    return sc


def f09_v6_ext_split():
    """IPv6 first fragment whose destination-options header runs past its
    end (RFC 7112; CVE-2019-5597's shape): frag-ext-split."""
    sc = gen.Script('f09_v6_ext_split')
    ip = bytearray(bytes(IPv6(src=gen.C6, dst=gen.S6, nh=44, plen=16)))
    # fragment header (offset 0, M) -> dest opts claiming 24 bytes, 8 present
    body = struct.pack('!BBHI', 60, 0, 1, 0x5597) + bytes([17, 2, 1, 4, 0, 0, 0, 0])
    sc.add('inside', gen.frame('inside', bytes(ip) + body), False, 'split chain')
    sc.expect_drop('frag-ext-split', 1)
    return sc


def f10_v6_in_order():
    """IPv6 with a hop-by-hop header before the fragment header: all cross."""
    sc = gen.Script('f10_v6_in_order')
    raw = udp6(53, 2560, hbh=True)
    send_frags(sc, 'inside', [cut6(raw, o, n, m, 0xabcdef, unfrag=48)
                              for o, n, m in pieces(2568, 1232)], True, 'v6 frag')
    sc.add('outside', gen.frame('outside', IPv6(src=gen.S6, dst=gen.C6) /
                                UDP(sport=53, dport=33000) / Raw(b'answer')), True, 'v6 reply')
    return sc


def f11_vlan_separation():
    """Two datagrams with the same addresses and id on VLANs 10 and 20,
    interleaved: each completes on its own. Then a head on VLAN 10 and its
    tail on VLAN 20: never one datagram."""
    sc = gen.Script('f11_vlan_separation')
    raw = udp4(53, 2000, 111)
    fr = [cut4(raw, *p) for p in pieces(2008, 1480)]
    v10, v20 = [(0x8100, 10)], [(0x8100, 20)]
    sc.add('inside', gen.frame('inside', fr[0], v10), True, 'vlan 10 head')
    sc.add('inside', gen.frame('inside', fr[0], v20), True, 'vlan 20 head')
    sc.add('inside', gen.frame('inside', fr[1], v20), True, 'vlan 20 tail')
    sc.add('inside', gen.frame('inside', fr[1], v10), True, 'vlan 10 tail')
    raw = udp4(53, 2000, 112)
    fr = [cut4(raw, *p) for p in pieces(2008, 1480)]
    sc.add('inside', gen.frame('inside', fr[0], v10), False, 'mixed: head on 10')
    sc.add('inside', gen.frame('inside', fr[1], v20), False, 'mixed: tail on 20')
    return sc


def f12_inconsistent_last():
    """Two last fragments that disagree on the length."""
    sc = gen.Script('f12_inconsistent_last')
    raw = udp4(53, 3000, 113)
    sc.add('inside', gen.frame('inside', cut4(raw, 2960, 48, False)), False, 'last, end 3008')
    sc.add('inside', gen.frame('inside', cut4(raw, 1480, 1480, False)), False, 'last, end 2960')
    sc.expect_drop('frag-inconsistent', 2)
    return sc


def f13_duplicate():
    """A fragment the network duplicated: the copy is dropped, the datagram
    crosses with one of each."""
    sc = gen.Script('f13_duplicate')
    raw = udp4(53, 2000, 114)
    fr = [cut4(raw, *p) for p in pieces(2008, 1480)]
    sc.add('inside', gen.frame('inside', fr[0]), True, 'head')
    sc.add('inside', gen.frame('inside', fr[0]), False, 'head again')
    sc.add('inside', gen.frame('inside', fr[1]), True, 'tail')
    sc.expect_drop('frag-duplicate', 1)
    return sc


def f14_atomic_v6():
    """An atomic fragment (offset 0, M clear; RFC 6946) is a whole packet."""
    sc = gen.Script('f14_atomic_v6')
    raw = udp6(53, 256)
    sc.add('inside', gen.frame('inside', cut6(raw, 0, len(raw) - 40, False, 7)), True, 'atomic')
    return sc


def f15_tcp_segment_fragmented():
    """A TCP data segment fragmented on an established connection crosses
    whole, and the server's ACK of all of it passes the window check."""
    sc = gen.Script('f15_tcp_segment_fragmented')
    t = gen.TcpConn(sc)
    t.c('S')
    t.s('SA')
    t.c('A')
    t.c('PA', payload=b'd' * 3000)
    ev = sc.events.pop()
    ip = ev['data'][14:]
    for k, p in enumerate(pieces(len(ip) - 20, 1480)):
        sc.add('inside', gen.frame('inside', cut4(ip, *p)), True, 'data frag #%d' % k)
    t.s('A', label='ACK of 3000 bytes')
    t.c('PA', payload=b'e' * 100, label='next segment')
    return sc


def f16_memory_cap():
    """set limit frags 4: four heads fill it; a fifth datagram evicts the
    two oldest (frag-no-memory) and crosses."""
    sc = gen.Script('f16_memory_cap')
    sc.frags = 4
    for ident in range(120, 124):
        raw = udp4(53, 2000, ident)
        sc.add('inside', gen.frame('inside', cut4(raw, 0, 1480, True)), False, 'head %d' % ident)
    raw = udp4(53, 2000, 130)
    send_frags(sc, 'inside', [cut4(raw, *p) for p in pieces(2008, 1480)], True, 'new')
    sc.expect_drop('frag-no-memory', 2)
    return sc


SCENARIOS = [f01_v4_in_order, f02_v4_out_of_order, f03_port_rule_applies_to_all,
             f04_overlap_teardrop, f05_ping_of_death, f06_too_many, f07_timeout,
             f08_tiny_first, f09_v6_ext_split, f10_v6_in_order, f11_vlan_separation,
             f12_inconsistent_last, f13_duplicate, f14_atomic_v6, f15_tcp_segment_fragmented,
             f16_memory_cap]


@pytest.mark.parametrize('make', SCENARIOS, ids=[f.__name__ for f in SCENARIOS])
def test_frag_scenario(make, tmp_path):
    sc = make()
    sc.conf = policy(tmp_path, frags=getattr(sc, 'frags', 10000))
    ts.check_script(sc, tmp_path)


def test_frag_block_all(tmp_path):
    """Under default block, a complete datagram's fragments all go as
    default-block: the verdict is taken once and applied to each."""
    sc = gen.Script('frag_block_all')
    raw = udp4(53, 3000, 140)
    send_frags(sc, 'inside', [cut4(raw, *p) for p in pieces(3008, 1480)], False, 'v4 frag')
    sc.expect_drop('default-block', 3)
    sc.conf = policy(tmp_path, text=BLOCK_ALL)
    ts.check_script(sc, tmp_path)


# ---------------------------------------------------------------------------
# real captures


def _l3(e):
    off = 12
    et = struct.unpack('!H', e[off:off + 2])[0]
    while et in (0x8100, 0x88a8):
        off += 4
        et = struct.unpack('!H', e[off:off + 2])[0]
    return et, e[off + 2:]


def is_fragment(e):
    """IPv4 with MF or an offset, IPv6 with a non-atomic fragment header."""
    et, ip = _l3(e)
    if et == 0x0800 and len(ip) >= 20:
        return struct.unpack('!H', ip[6:8])[0] & 0x3fff != 0
    if et == 0x86dd and len(ip) >= 40:
        nh, o = ip[6], 40
        while nh in (0, 43, 60, 51, 44) and o + 8 <= len(ip):
            if nh == 44:
                return struct.unpack('!H', ip[o + 2:o + 4])[0] & 0xfff9 != 0
            nh, o = ip[o], o + ((ip[o + 1] + 2) * 4 if nh == 51 else (ip[o + 1] + 1) * 8)
    return False


def split_by_direction(path, outdir):
    """The first sender between two addresses is inside. Returns
    {frame number (1-based): (side, bytes)}."""
    lt, frames = gen.read_pcap(path)
    first, sides, placed, last = {}, {'inside': [], 'outside': []}, {}, -1
    for i, (t, d) in enumerate(frames):
        e = gen.to_ethernet(lt, d)
        if e is None:
            continue
        et, ip = _l3(e)
        src, dst = ((ip[12:16], ip[16:20]) if et == 0x0800 else
                    (ip[8:24], ip[24:40]) if et == 0x86dd else (e[6:12], e[0:6]))
        k = tuple(sorted([src, dst]))
        side = 'inside' if first.setdefault(k, src) == src else 'outside'
        us = max(t[0] * 10**6 + t[1], last + 1)  # strictly increasing
        last = us
        sides[side].append((divmod(us, 10**6), e))
        placed[i + 1] = (side, e)
    for side in sides:
        gen.write_pcap(os.path.join(outdir, 'in-%s.pcap' % side), sides[side])
    return placed


# capture -> (fragment frames that must cross under pass-all, drop reasons
# that must be counted). Every other fragment frame must not cross.
REAL = {
    'cs_ip_frag_source.pcap': ([4, 5, 6], {'ip-checksum': 3}),  # request: checksums 0 (offload)
    'cs_ipv6_fragments.pcap': (list(range(1, 21)), {}),  # 10 ICMPv6 echoes, 2 fragments each
    'sv_defrag-ipv4-tcp-syn.pcap': ([], {'frag-short-first': 1}),
    'sv_defrag-vlan-ipv4-tcp-syn.pcap': ([], {'frag-short-first': 1}),
    'zeek_ipv4-fragmented-syn.pcap': ([], {'frag-short-first': 1}),
    'sv_defrag-ipv6-tcp.pcap': ([1, 2, 3], {}),
    'sv_defrag-vlan-ipv6-tcp.pcap': ([1, 2, 3], {}),
    'sv_ipv4frags.pcap': ([1, 2], {}),
    'zeek_ipv6-fragmented-dns.pcap': ([6, 7, 8], {}),  # datagram 1 lacks its head
    # IPv4 fragments of proto 44 complete as IPv4; the IPv6 ones with the
    # same ids and mapped-looking addresses never meet them, and each IPv6
    # datagram (UDP length 22865 in 16 bytes) is refused whole.
    'sv_defrag-af-confusion-spray.pcap': (None, {'udp-short': 8192}),
    'sv_ipv6-malformed-fragments-1.pcap': ([], {'frag-overlap': 3}),
    'sv_ipv6-malformed-fragments-2.pcap': ([], {'frag-overlap': 3}),
    'sv_ipv6-malformed-fragments-3.pcap': ([], {'frag-overlap': 3}),
    'sv_ipv6-malformed-fragments-4.pcap': ([], {'frag-overlap': 3}),
    'sv_ipv6-malformed-fragments-6.pcap': ([], {'frag-overlap': 3}),
    'sv_ipv6-malformed-fragments-15.pcap': ([], {'frag-too-big': 1}),
    'sv_ipv6-malformed-fragments-22.pcap': ([], {}),
    'sv_ipv6-malformed-fragments-27.pcap': ([], {}),
    'sv_ipv6-malformed-fragments-28.pcap': ([], {}),
    'sv_ipv6-malformed-fragments-30.pcap': ([], {'frag-too-big': 48}),
    'sv_ipv6-malformed-fragments-35.pcap': ([], {}),
    'sv_ipv6-malformed-fragments-36.pcap': ([], {}),
    'zeek_ipv4-fragmented-1.pcap': ([], {'frag': 1, 'frag-inconsistent': 2}),
    'zeek_ipv4-fragmented-2.pcap': ([], {'frag': 2}),
    'zeek_ipv4-fragmented-3.pcap': ([], {}),  # capture ends before the datagram does
    'zeek_ipv4-fragmented-4.pcap': ([], {'frag-overlap': 3}),
    # Two datagrams of 46 fragments a second apart, each with a tail that
    # ends past 65,535 bytes (refused by the parser, frag-too-big) and a
    # head with UDP length 0 (udp-short): the 30 s timeout ends what was
    # held; what the capture ends on stays held. Nothing crosses.
    'zeek_ipv6-reassembly-state-leak.pcap': ([], {'frag-timeout': 74, 'frag-too-big': 2}),
}


def test_real_list_complete():
    """Every capture in frag/ with a fragment is in REAL (a new capture gets
    an expectation, not silence)."""
    if not os.path.isdir(FRAG):
        pytest.skip('no %s' % FRAG)
    missing = []
    for f in sorted(os.listdir(FRAG)):
        lt, frames = gen.read_pcap(os.path.join(FRAG, f))
        eth = [gen.to_ethernet(lt, d) for _, d in frames]
        if any(e and is_fragment(e) for e in eth) and f not in REAL and \
                f != 'td_ipv6_frag6_negative_len.pcap':  # a lone malformed header: ip6-ext-short
            missing.append(f)
    assert not missing, missing


@pytest.mark.parametrize('capture', sorted(REAL))
def test_real_capture(capture, tmp_path):
    path = os.path.join(FRAG, capture)
    if not os.path.exists(path):
        pytest.skip('no %s' % path)
    want, reasons = REAL[capture]
    d = str(tmp_path)
    placed = split_by_direction(path, d)
    r = ts.run_ringwall(os.path.join(HERE, 'pass-all.conf'), d)
    assert r.rc == 0, r.where()
    out = {}
    for side in ('inside', 'outside'):
        for f in r.fwd[side] or []:
            out[f] = out.get(f, 0) + 1
    crossed = sorted(n for n, (side, e) in placed.items() if is_fragment(e) and out.get(e))
    problems = []
    if want is None:  # af-confusion: every IPv4 fragment, no IPv6 one
        bad = [n for n in crossed if _l3(placed[n][1])[0] != 0x0800]
        v4 = [n for n, (s, e) in placed.items() if is_fragment(e) and _l3(e)[0] == 0x0800]
        if bad:
            problems.append('IPv6 fragments crossed: %s' % bad[:10])
        if len(crossed) != len(v4):
            problems.append('%d of %d IPv4 fragments crossed' % (len(crossed), len(v4)))
    elif crossed != want:
        problems.append('fragments crossed %s, expected %s' % (crossed, want))
    drops = r.drops()
    for name, n in reasons.items():
        if drops.get(name, 0) != n:
            problems.append('drop %s: expected %d, got %d' % (name, n, drops.get(name, 0)))
    assert not problems, '\n'.join(problems) + '\n' + r.where()

    # and under default block no fragment crosses at all
    conf = policy(tmp_path, text=BLOCK_ALL)
    r = ts.run_ringwall(conf, d)
    leaked = [n for n, (side, e) in placed.items()
              if is_fragment(e) and e in (r.fwd['inside'] or []) + (r.fwd['outside'] or [])]
    assert r.rc == 0 and not leaked, 'block-all let fragments %s cross\n%s' % (leaked, r.where())
