# SPDX-License-Identifier: BSD-2-Clause
"""
Capture tests for "synproxy state" (docs/synproxy.md): the client on the
outside, the protected server on the inside.

The proxy's ISN is a SYN cookie under a secret, so a replay cannot know it
in advance: each test runs ringwall once with the client's SYN alone, reads
the cookie from the SYN|ACK it emitted, then replays the whole exchange
(same capture times, same secret: RW_SYNPROXY_KEY) with the client's ACK
built from that cookie.

Run: /usr/bin/python3 -m pytest -q -rf tests/pcap/test_synproxy.py
"""

import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402
from test_scenarios import run_ringwall  # noqa: E402
from scapy.all import (IP, IPv6, TCP, ICMP, ICMPv6PacketTooBig, IPerror, IPerror6,  # noqa: E402
                       TCPerror, Raw, Ether)

KEY = '00112233445566778899aabbccddeeff'
CONF = 'synproxy.conf'
CISN, SISN = 1000000, 7000000
CWIN, SWIN = 29200, 28960
CLIENT = {4: '198.51.100.7', 6: '2001:db8:9::7'}
SERVER = {4: gen.S4, 6: gen.S6}


@pytest.fixture(autouse=True)
def fixed_key(monkeypatch):
    monkeypatch.setenv('RW_SYNPROXY_KEY', KEY)


def seg(af, from_client, flags, seq, ack, payload=b'', win=None, opts=None, sport=40000):
    c, s = CLIENT[af], SERVER[af]
    src, dst = (c, s) if from_client else (s, c)
    sp, dp = (sport, 80) if from_client else (80, sport)
    ip = IP(src=src, dst=dst) if af == 4 else IPv6(src=src, dst=dst)
    t = TCP(sport=sp, dport=dp, flags=flags, seq=seq % 2**32, ack=ack % 2**32,
            window=(CWIN if from_client else SWIN) if win is None else win,
            options=opts or [])
    p = ip / t
    if payload:
        p = p / Raw(payload)
    return gen.frame('outside' if from_client else 'inside', p)


def replay(tmp_path, name, events):
    """events: (seconds, side, frame). Returns the Run."""
    d = os.path.join(str(tmp_path), name)
    os.makedirs(d, exist_ok=True)
    for side in ('inside', 'outside'):
        gen.write_pcap(os.path.join(d, 'in-%s.pcap' % side),
                       [(divmod(gen.T0 + int(t * 10**6), 10**6), f)
                        for t, sd, f in events if sd == side])
    r = run_ringwall(CONF, d)
    assert r.rc == 0, r.where()
    return r


def tcp_of(frame):
    p = Ether(frame)
    return p, p[TCP]


def csum_ok(frame):
    """True when the frame's TCP (and IPv4 header) checksums are right:
    scapy recomputes them from scratch."""
    p = Ether(frame)
    l3 = p[IP] if IP in p else p[IPv6]
    want_t = p[TCP].chksum
    q = Ether(bytes(p))
    del q[TCP].chksum
    if IP in q:
        want_i = p[IP].chksum
        del q[IP].chksum
    q = Ether(bytes(q))
    ok = q[TCP].chksum == want_t
    if IP in q:
        ok = ok and q[IP].chksum == want_i
    assert l3 is not None
    return ok


def synproxy_line(r):
    m = re.search(r'^synproxy (.*)$', r.stdout + r.stderr, re.M)
    assert m, r.where()
    v = m.group(1).split()
    return dict(zip(v[::2], map(int, v[1::2])))


SYN_OPTS = [('MSS', 1460), ('SAckOK', b''), ('Timestamp', (1, 0)), ('WScale', 7)]


def cookie_of(tmp_path, af):
    syn = seg(af, True, 'S', CISN, 0, opts=SYN_OPTS)
    r = replay(tmp_path, 'syn', [(1.0, 'outside', syn)])
    assert r.fwd['inside'] == [], 'the SYN reached the server side\n' + r.where()
    assert len(r.fwd['outside']) == 1, r.where()
    return syn, r


@pytest.mark.parametrize('af', [4, 6])
def test_syn_answered_without_state(tmp_path, af):
    """Client SYN: a SYN|ACK comes back out the port it came in on (window 0,
    MSS only, right checksums), nothing reaches the server, no state."""
    _, r = cookie_of(tmp_path, af)
    p, t = tcp_of(r.fwd['outside'][0])
    assert t.flags == 'SA'
    assert t.ack == CISN + 1
    assert t.window == 0
    assert [o[0] for o in t.options] == ['MSS'] and t.options[0][1] == 1460
    assert (p[IP].src if af == 4 else p[IPv6].src) == SERVER[af]
    assert p.dst == gen.MAC_OUT and p.src == gen.MAC_IN   # back to the client's side
    assert csum_ok(r.fwd['outside'][0])
    assert 'states created 0' in r.stdout, r.where()
    assert synproxy_line(r)['synacks'] == 1


def full_exchange(tmp_path, af):
    syn, r0 = cookie_of(tmp_path, af)
    cookie = tcp_of(r0.fwd['outside'][0])[1].seq
    req = b'GET / HTTP/1.0\r\n\r\n'
    resp = b'HTTP/1.0 200 OK\r\n\r\n' + b'y' * 300
    ev = [
        (1.0, 'outside', syn),
        (1.1, 'outside', seg(af, True, 'A', CISN + 1, cookie + 1)),
        # before the server answered: dropped, the client retries
        (1.15, 'outside', seg(af, True, 'PA', CISN + 1, cookie + 1, req)),
        (1.2, 'inside', seg(af, False, 'SA', SISN, CISN + 1, opts=[('MSS', 1400)])),
        (1.3, 'outside', seg(af, True, 'PA', CISN + 1, cookie + 1, req)),
        (1.4, 'inside', seg(af, False, 'PA', SISN + 1, CISN + 1 + len(req), resp)),
        (1.5, 'outside', seg(af, True, 'A', CISN + 1 + len(req), cookie + 1 + len(resp))),
        # a forged ACK from another port: its cookie cannot be right
        (1.6, 'outside', seg(af, True, 'A', 555, cookie + 1, sport=40001)),
    ]
    return cookie, req, resp, replay(tmp_path, 'full', ev)


@pytest.mark.parametrize('af', [4, 6])
def test_handshake_splice_and_translation(tmp_path, af):
    cookie, req, resp, r = full_exchange(tmp_path, af)
    to_server, to_client = r.fwd['inside'], r.fwd['outside']
    for f in to_server + to_client:
        assert csum_ok(f), 'bad checksum: %s' % Ether(f).summary()
    # the server sees: SYN (client ISN, MSS only), ACK, data, ACK
    s = [tcp_of(f)[1] for f in to_server]
    assert [str(t.flags) for t in s] == ['S', 'A', 'PA', 'A'], [x.summary() for x in s]
    assert s[0].seq == CISN and s[0].options == [('MSS', 1460)]
    assert (s[1].seq, s[1].ack, s[1].window) == (CISN + 1, SISN + 1, CWIN)
    assert (s[2].seq, s[2].ack) == (CISN + 1, SISN + 1)      # ack moved to the server's space
    assert bytes(s[2].payload) == req
    assert s[3].ack == SISN + 1 + len(resp)
    # the client sees: SYN|ACK, the window update, the data at cookie + 1
    c = [tcp_of(f)[1] for f in to_client]
    assert [str(t.flags) for t in c] == ['SA', 'A', 'PA'], [x.summary() for x in c]
    assert (c[1].seq, c[1].ack, c[1].window) == (cookie + 1, CISN + 1, SWIN)
    assert (c[2].seq, c[2].ack) == (cookie + 1, CISN + 1 + len(req))
    assert bytes(c[2].payload) == resp
    d = r.drops()
    assert d['synproxy-pending'] == 1 and d['synproxy-cookie'] == 1, r.where()
    st = synproxy_line(r)
    assert (st['synacks'], st['cookies-ok'], st['completed'], st['cookies-bad']) == (1, 1, 1, 1)


def test_forged_ack_alone_creates_nothing(tmp_path):
    """ACKs with made-up cookies (an ACK flood) are dropped and counted, make
    no state and send nothing."""
    ev = [(1.0 + i / 100, 'outside', seg(4, True, 'A', 100 + i, 12345 + i, sport=41000 + i))
          for i in range(20)]
    r = replay(tmp_path, 'forged', ev)
    assert r.fwd['inside'] == [] and r.fwd['outside'] == [], r.where()
    assert r.drops()['synproxy-cookie'] == 20, r.where()
    assert 'states created 0' in r.stdout


def test_server_refuses(tmp_path):
    """The server RSTs the proxied SYN: the client gets the RST at the seq
    it expects from the proxy."""
    syn, r0 = cookie_of(tmp_path, 4)
    cookie = tcp_of(r0.fwd['outside'][0])[1].seq
    ev = [(1.0, 'outside', syn),
          (1.1, 'outside', seg(4, True, 'A', CISN + 1, cookie + 1)),
          (1.2, 'inside', seg(4, False, 'RA', 0, CISN + 1, win=0))]
    r = replay(tmp_path, 'rst', ev)
    c = [tcp_of(f)[1] for f in r.fwd['outside']]
    assert [str(t.flags) for t in c] == ['SA', 'RA'], r.where()
    assert c[1].seq == cookie + 1 and csum_ok(r.fwd['outside'][1])
    assert synproxy_line(r)['refused'] == 1


def test_cookie_expires(tmp_path):
    """A genuine ACK arriving over two cookie buckets (128 s) later is
    refused: a captured cookie dies quickly."""
    syn, r0 = cookie_of(tmp_path, 4)
    cookie = tcp_of(r0.fwd['outside'][0])[1].seq
    r = replay(tmp_path, 'late', [(1.0, 'outside', syn),
                                  (200.0, 'outside', seg(4, True, 'A', CISN + 1, cookie + 1))])
    assert r.fwd['inside'] == [], r.where()
    assert r.drops()['synproxy-cookie'] == 1
    assert synproxy_line(r)['cookies-expired'] == 1


ROUTER = {4: '198.51.100.1', 6: '2001:db8:9::1'}


def icmp_error(af, side, quoted_ip, full=False):
    """A router's "fragmentation needed" / "packet too big" (MTU 1280)
    about quoted_ip (scapy), to its source, entering on side. The quote is
    the whole packet (full) or what RFC 792 / RFC 4443 promise."""
    raw = bytes(quoted_ip)
    src = quoted_ip.src
    q = raw if full else gen.quote(raw, v6=af == 6)
    if af == 4:
        e = IP(src=ROUTER[4], dst=src) / ICMP(type=3, code=4, nexthopmtu=1280) / Raw(q)
    else:
        e = IPv6(src=ROUTER[6], dst=src) / ICMPv6PacketTooBig(mtu=1280) / Raw(q)
    return gen.frame(side, e)


def quoted(frame):
    """(quoted TCP seq, ICMP checksum right) of a forwarded error: scapy
    recomputes the checksum from scratch."""
    p = Ether(frame)
    kind, field = (ICMP, 'chksum') if ICMP in p else (ICMPv6PacketTooBig, 'cksum')
    want = getattr(p[kind], field)
    q = Ether(bytes(p))
    delattr(q[kind], field)
    q = Ether(bytes(q))
    return p[TCPerror].seq, getattr(q[kind], field) == want


@pytest.mark.parametrize('af', [4, 6])
def test_icmp_errors_about_proxied_connection(tmp_path, af):
    """Path MTU discovery through the proxy. A router on the client's side
    quotes the server's segment as the client's side carried it (seq in the
    proxy's numbering): the error reaches the server with the server's own
    seq and a right ICMP checksum. A router on the server's side quotes the
    client's segment, whose numbers are the same on both sides: it reaches
    the client unchanged. A seq far outside the window, the server's own
    numbering seen from the client's side, and an unknown connection are
    dropped (icmp-err-nostate)."""
    syn, r0 = cookie_of(tmp_path, af)
    cookie = tcp_of(r0.fwd['outside'][0])[1].seq
    req = b'GET /big HTTP/1.0\r\n\r\n'
    resp = b'y' * 1200
    c, s = CLIENT[af], SERVER[af]
    mk = (lambda a, b: IP(src=a, dst=b)) if af == 4 else (lambda a, b: IPv6(src=a, dst=b))
    # as the client's side carries the server's data: seq moved by the proxy
    seen_by_client = (mk(s, c) / TCP(sport=80, dport=40000, flags='PA', seq=cookie + 1,
                                     ack=CISN + 1 + len(req), window=SWIN) / Raw(resp))
    # as the server's side carries the client's request: ack moved
    seen_by_server = (mk(c, s) / TCP(sport=40000, dport=80, flags='PA', seq=CISN + 1,
                                     ack=SISN + 1, window=CWIN) / Raw(req))
    far = seen_by_client.copy()
    far[TCP].seq = (cookie + 1 + 2**30) % 2**32
    own = seen_by_client.copy()
    own[TCP].seq = SISN + 1
    other = seen_by_client.copy()
    other[TCP].dport = 40001
    ev = [
        (1.0, 'outside', syn),
        (1.1, 'outside', seg(af, True, 'A', CISN + 1, cookie + 1)),
        (1.2, 'inside', seg(af, False, 'SA', SISN, CISN + 1)),
        (1.3, 'outside', seg(af, True, 'PA', CISN + 1, cookie + 1, req)),
        (1.4, 'inside', seg(af, False, 'PA', SISN + 1, CISN + 1 + len(req), resp)),
        (1.5, 'outside', icmp_error(af, 'outside', seen_by_client)),
        (1.6, 'outside', icmp_error(af, 'outside', seen_by_client, full=True)),
        (1.7, 'inside', icmp_error(af, 'inside', seen_by_server, full=True)),
        (1.8, 'outside', icmp_error(af, 'outside', far)),
        (1.9, 'outside', icmp_error(af, 'outside', own)),
        (2.0, 'outside', icmp_error(af, 'outside', other)),
    ]
    r = replay(tmp_path, 'icmp', ev)
    errs_in = [f for f in r.fwd['inside'] if TCPerror in Ether(f)]
    errs_out = [f for f in r.fwd['outside'] if TCPerror in Ether(f)]
    assert len(errs_in) == 2 and len(errs_out) == 1, r.where()
    for f in errs_in:
        seq, ok = quoted(f)
        assert seq == SISN + 1 and ok, Ether(f).show(dump=True)
    # the whole quoted segment keeps a right TCP checksum too
    p = Ether(errs_in[1])
    inner = p[IPerror] if af == 4 else p[IPerror6]
    redo = (mk(inner.src, inner.dst) / TCP(bytes(p[TCPerror])))
    want = redo[TCP].chksum
    del redo[TCP].chksum
    assert TCP(bytes(redo)[20 if af == 4 else 40:]).chksum == want
    seq, ok = quoted(errs_out[0])
    assert seq == CISN + 1 and ok
    assert r.drops()['icmp-err-nostate'] == 3, r.where()


# ---------------------------------------------------------------------------
# The FTP helper on a proxied control connection (docs/alg.md): the client
# outside, the FTP server inside, and nothing but the control port allowed.

FTP_POLICY = """
port inside  $inside_spec
port outside $outside_spec
set limit states 10000
set default block
set ftp-ports %s
pass in on outside proto tcp to port 21 synproxy state
"""
THIRD = {4: '203.0.113.9', 6: '2001:db8:7::9'}


def pkt(af, src, dst, sport, dport, flags, seq, ack, payload=b'', win=CWIN, opts=None):
    ip = IP(src=src, dst=dst) if af == 4 else IPv6(src=src, dst=dst)
    p = ip / TCP(sport=sport, dport=dport, flags=flags, seq=seq % 2**32, ack=ack % 2**32,
                 window=win, options=opts or [])
    return p / Raw(payload) if payload else p


class Ftp:
    """The control connection 40000 -> 21 through the proxy: tracks both
    sides' next seq, the server's in its own numbering (inside) and as the
    client sees it (outside: cookie + 1 on)."""

    def __init__(self, af, cookie):
        self.af, self.cookie = af, cookie
        self.c, self.s = CISN + 1, SISN + 1   # next seq of client, of server (own numbering)
        self.ev, self.t = [], 1.0

    def add(self, side, frame):
        self.t += 0.05
        self.ev.append((round(self.t, 3), side, frame))
        return frame

    def client(self, flags, data=b''):
        cview = self.s - SISN + self.cookie   # the server's next seq as the client knows it
        f = self.add('outside', gen.frame('outside', pkt(
            self.af, CLIENT[self.af], SERVER[self.af], 40000, 21, flags, self.c, cview, data)))
        self.c += len(data)
        return f

    def server(self, data):
        f = self.add('inside', gen.frame('inside', pkt(
            self.af, SERVER[self.af], CLIENT[self.af], 21, 40000, 'PA', self.s, self.c, data,
            win=SWIN)))
        self.s += len(data)
        return f

    def handshake(self):
        syn = pkt(self.af, CLIENT[self.af], SERVER[self.af], 40000, 21, 'S', CISN, 0,
                  opts=SYN_OPTS)
        self.ev.append((1.0, 'outside', gen.frame('outside', syn)))
        self.client('A')
        self.add('inside', gen.frame('inside', pkt(
            self.af, SERVER[self.af], CLIENT[self.af], 21, 40000, 'SA', SISN, CISN + 1,
            win=SWIN, opts=[('MSS', 1400)])))
        self.server(b'220 ringwall test\r\n')
        self.client('A')


def ftp_replay(tmp_path, name, events, ports='21'):
    d = os.path.join(str(tmp_path), name)
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, 'ftp.conf')
    with open(conf, 'w') as f:
        f.write(FTP_POLICY % ports)
    for side in ('inside', 'outside'):
        gen.write_pcap(os.path.join(d, 'in-%s.pcap' % side),
                       [(divmod(gen.T0 + int(t * 10**6), 10**6), fr)
                        for t, sd, fr in events if sd == side])
    r = run_ringwall(conf, d)
    assert r.rc == 0, r.where()
    return r


def ftp_cookie(tmp_path, af):
    syn = pkt(af, CLIENT[af], SERVER[af], 40000, 21, 'S', CISN, 0, opts=SYN_OPTS)
    r = ftp_replay(tmp_path, 'syn', [(1.0, 'outside', gen.frame('outside', syn))])
    assert len(r.fwd['outside']) == 1 and r.fwd['inside'] == [], r.where()
    return tcp_of(r.fwd['outside'][0])[1].seq


def alg_line(r):
    m = re.search(r'^alg (.*)$', r.stdout + r.stderr, re.M)
    assert m, r.where()
    w = m.group(1).split()
    return {w[k]: int(w[k + 1]) for k in range(len(w) - 1)
            if w[k + 1].isdigit() and not w[k].isdigit()}


def active_session(tmp_path, af, announce, name, ports='21'):
    """PORT (IPv4) / EPRT (IPv6) from the client naming host announce, then
    the server's data connection from port 20 to it, under default block."""
    f = Ftp(af, ftp_cookie(tmp_path, af))
    f.handshake()
    if af == 4:
        line = 'PORT %s,195,80\r\n' % announce.replace('.', ',')
    else:
        line = 'EPRT |2|%s|50000|\r\n' % announce
    f.client('PA', line.encode())
    f.server(b'200 PORT command successful\r\n')
    data = [
        f.add('inside', gen.frame('inside', pkt(af, SERVER[af], announce, 20, 50000, 'S',
                                                5000, 0, win=SWIN))),
        f.add('outside', gen.frame('outside', pkt(af, announce, SERVER[af], 50000, 20, 'SA',
                                                  9000, 5001))),
        f.add('inside', gen.frame('inside', pkt(af, SERVER[af], announce, 20, 50000, 'PA',
                                                5001, 9001, b'file contents\n', win=SWIN))),
    ]
    return f, data, ftp_replay(tmp_path, name, f.ev, ports)


def passive_session(tmp_path, af, name, ports='21'):
    """PASV/227 (IPv4) or EPSV/229 (IPv6), the server's reply split across
    two segments (reassembled by seq: the server's numbering must not jump
    between them), then the client's data connection to the announced port."""
    f = Ftp(af, ftp_cookie(tmp_path, af))
    f.handshake()
    if af == 4:
        f.client('PA', b'PASV\r\n')
        reply = b'227 Entering Passive Mode (192,0,2,80,117,48).\r\n'
    else:
        f.client('PA', b'EPSV\r\n')
        reply = b'229 Entering Extended Passive Mode (|||30000|)\r\n'
    f.server(reply[:12])
    f.server(reply[12:])
    f.client('A')
    data = [
        f.add('outside', gen.frame('outside', pkt(af, CLIENT[af], SERVER[af], 40100, 30000,
                                                  'S', 9000, 0))),
        f.add('inside', gen.frame('inside', pkt(af, SERVER[af], CLIENT[af], 30000, 40100,
                                                'SA', 5000, 9001, win=SWIN))),
        f.add('outside', gen.frame('outside', pkt(af, CLIENT[af], SERVER[af], 40100, 30000,
                                                  'A', 9001, 5001))),
    ]
    return f, data, ftp_replay(tmp_path, name, f.ev, ports)


def forwarded(r):
    return set(r.fwd['inside'] or []) | set(r.fwd['outside'] or [])


def control_reached_client(f, r):
    """The server's control bytes reach the client at cookie + 1 on, in
    order, with right checksums: the proxy still translates."""
    got = [tcp_of(x)[1] for x in r.fwd['outside'] if tcp_of(x)[1].sport == 21]
    data = [t for t in got if bytes(t.payload)]
    want = f.cookie + 1
    for t in data:
        assert t.seq == want % 2**32, [x.summary() for x in got]
        want += len(bytes(t.payload))
    assert all(csum_ok(x) for x in r.fwd['outside']), r.where()
    return len(data)


@pytest.mark.parametrize('af', [4, 6])
def test_ftp_active_through_proxy(tmp_path, af):
    f, data, r = active_session(tmp_path, af, CLIENT[af], 'on')
    fwd = forwarded(r)
    missing = [Ether(d).summary() for d in data if d not in fwd]
    assert not missing, 'data blocked: %s\n%s' % (missing, r.where())
    a = alg_line(r)
    assert a['created'] == 1 and a['used'] == 1 and a['bounce'] == 0 and a['gaps'] == 0, r.where()
    assert control_reached_client(f, r) == 2
    assert synproxy_line(r)['completed'] == 1
    # the same without the helper on port 21: the data connection is blocked
    _, data, r = active_session(tmp_path, af, CLIENT[af], 'off', ports='none')
    assert not any(d in forwarded(r) for d in data), r.where()
    assert r.drops()['default-block'] == len(data), r.where()
    assert synproxy_line(r)['completed'] == 1


@pytest.mark.parametrize('af', [4, 6])
def test_ftp_passive_through_proxy(tmp_path, af):
    f, data, r = passive_session(tmp_path, af, 'on')
    fwd = forwarded(r)
    missing = [Ether(d).summary() for d in data if d not in fwd]
    assert not missing, 'data blocked: %s\n%s' % (missing, r.where())
    a = alg_line(r)
    assert a['created'] == 1 and a['used'] == 1 and a['gaps'] == 0, r.where()
    assert control_reached_client(f, r) == 3
    _, data, r = passive_session(tmp_path, af, 'off', ports='none')
    assert not any(d in forwarded(r) for d in data), r.where()
    assert r.drops()['default-block'] == len(data), r.where()


@pytest.mark.parametrize('af', [4, 6])
def test_ftp_bounce_through_proxy_refused(tmp_path, af):
    """A PORT/EPRT naming a third host: the bounce check holds on a proxied
    control connection, the server's connection to that host is blocked."""
    _, data, r = active_session(tmp_path, af, THIRD[af], 'bounce')
    assert not any(d in forwarded(r) for d in data), r.where()
    a = alg_line(r)
    assert a['bounce'] == 1 and a['created'] == 0, r.where()
