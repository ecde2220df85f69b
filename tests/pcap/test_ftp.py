# SPDX-License-Identifier: BSD-2-Clause
"""
The FTP helper on real captures (/work/shared/data/pcaps/ftp/), replayed
through a default-deny policy that allows only the control port, from the
inside:

    port inside  (the FTP clients)       port outside (the FTP servers)
    set default block
    pass in on inside proto tcp to port 21

Every data connection (active: server -> client; passive: client ->
server's high port; IPv4 and IPv6; PORT, EPRT, PASV, EPSV) must cross
because the control connection announced it, and must NOT cross when the
helper is off (`set ftp-ports none`): that is what makes each test able to
fail. The bounce capture gets two hand-made SYNs appended: one to the
client's own announced port (passes) and one to the third host its second
PORT named (refused, counted as `bounce`).

Captures are split by host, not by flow: every frame sent by a host that
opened a control connection is "inside", the rest "outside" (gen.py's
splitter puts each flow's initiator inside, which for an active-mode data
connection would be the server).
"""

import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gen  # noqa: E402
from scapy.all import IP, TCP, Ether, IPv6  # noqa: E402

DATA = os.environ.get('RINGWALL_DATA', '/work/shared/data')
FTP = os.path.join(DATA, 'pcaps', 'ftp')

POLICY = """
port inside  $inside_spec
port outside $outside_spec
set limit states 10000
set default block
set checksum ignore
set ftp-ports %(ports)s
pass in on inside proto tcp to port 21
"""


def ringwall():
    path = os.environ.get('RINGWALL', 'build/ringwall')
    return path if os.path.isabs(path) else os.path.join(REPO, path)


def tcp_of(data):
    p = Ether(data)
    ip = p[IP] if p.haslayer(IP) else p[IPv6] if p.haslayer(IPv6) else None
    if ip is None or not p.haslayer(TCP):
        return None
    t = p[TCP]
    return dict(src=ip.src, dst=ip.dst, sport=t.sport, dport=t.dport, flags=int(t.flags))


def split_by_host(frames, control_ports=(21,)):
    """frames: [(ts, eth bytes)] -> {side: [(ts, bytes)]}, [info per frame]."""
    infos = [tcp_of(d) for _, d in frames]
    clients = {i['src'] for i in infos
               if i and i['dport'] in control_ports and i['flags'] & 0x12 == 0x02}
    sides = {'inside': [], 'outside': []}
    last = -1
    for (ts, d), i in zip(frames, infos):
        src = i['src'] if i else Ether(d).payload.src if Ether(d).haslayer(IP) else None
        us = max(ts[0] * 10**6 + ts[1], last + 1)
        last = us
        side = 'inside' if src in clients else 'outside'
        sides[side].append((divmod(us, 10**6), d))
    return sides, infos, clients


def load(name):
    lt, frames = gen.read_pcap(os.path.join(FTP, name))
    return [(ts, gen.to_ethernet(lt, d)) for ts, d in frames]


def run(tmp, sides, ports='21', workers=1):
    os.makedirs(tmp, exist_ok=True)
    conf = os.path.join(tmp, 'ftp.conf')
    with open(conf, 'w') as f:
        f.write(POLICY % {'ports': ports} + ('set workers %d\n' % workers))
    args = [ringwall(), 'run', '-c', conf]
    for side in ('inside', 'outside'):
        inp, out = os.path.join(tmp, 'in-%s.pcap' % side), os.path.join(tmp, 'out-%s.pcap' % side)
        gen.write_pcap(inp, sides[side])
        if os.path.exists(out):
            os.unlink(out)
        args += ['-D', '%s_spec="pcap:%s,out=%s"' % (side, inp, out)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60, errors='replace')
    assert p.returncode == 0, p.stdout + p.stderr
    fwd = set()
    for side in ('inside', 'outside'):
        out = os.path.join(tmp, 'out-%s.pcap' % side)
        if os.path.exists(out):
            fwd |= {d for _, d in gen.read_pcap(out)[1]}
    m = re.search(r'^alg (.*)$', p.stdout + p.stderr, re.M)
    alg = {}
    if m:
        w = m.group(1).split()
        # "lines N overlong N ... expect created N ..." -> dict, last word before number
        for k in range(0, len(w) - 1):
            if w[k + 1].isdigit() and not w[k].isdigit():
                alg[w[k]] = int(w[k + 1])
    return fwd, alg, p.stdout + p.stderr


def data_frames(frames, infos, control_ports=(21,)):
    """Frames of the data connections: TCP, neither port a control port."""
    return [d for (_, d), i in zip(frames, infos)
            if i and i['sport'] not in control_ports and i['dport'] not in control_ports]


CAPTURES = [
    # name, what it shows
    ('sv_ftp-download-active.pcap', 'PORT, server connects from 20'),
    ('sv_ftp-upload-active.pcap', 'PORT, STOR'),
    ('sv_ftp-download-passive.pcap', 'PASV (227)'),
    ('sv_ftp-upload-passive.pcap', 'PASV, STOR'),
    ('sv_ftp-passive-dynamic-port.pcap', 'PASV to a high port'),
    ('sv_fw116-ftp-all-data-ipv4.pcap', 'every transfer command, active and passive, IPv4'),
    ('sv_fw117-ftp-all-data-ipv6.pcap', 'EPRT |2| and EPSV (229) over IPv6'),
    ('zeek_ftp-ipv6.pcap', 'IPv6 EPRT/EPSV'),
    ('zeek_ftp-ipv4.pcap', 'IPv4'),
    ('zeek_ftp-retr.pcap', 'RETR'),
]


@pytest.mark.parametrize('name', [c[0] for c in CAPTURES])
def test_data_connections_pass_only_with_the_helper(name, tmp_path):
    frames = load(name)
    sides, infos, clients = split_by_host(frames)
    assert clients, 'no control connection to port 21 in %s' % name
    data = data_frames(frames, infos)
    fwd, alg, out = run(str(tmp_path / 'on'), sides)
    if not data:
        # the capture ends before the data connection: the announcement
        # must still have been understood
        assert alg.get('created', 0) >= 1 and alg.get('bad', 0) == 0, out
        return
    missing = [d for d in data if d not in fwd]
    assert not missing, '%d of %d data frames blocked with the helper on\n%s' % (
        len(missing), len(data), out)
    assert alg.get('used', 0) >= 1 and alg.get('bounce', 0) == 0, out
    # control frames all pass too (the rule allows port 21)
    ctl = [d for (_, d), i in zip(frames, infos) if i and 21 in (i['sport'], i['dport'])]
    assert all(d in fwd for d in ctl), out

    fwd_off, _, out_off = run(str(tmp_path / 'off'), sides, ports='none')
    crossed = [d for d in data if d in fwd_off]
    assert not crossed, '%d data frames crossed with the helper off\n%s' % (len(crossed), out_off)


def test_bounce_refused_own_port_allowed(tmp_path):
    """sv_ftp-bounce: session 1 announces PORT 1,1,1,2,232,157 (the client
    itself), session 2 PORT 2,2,2,3,0,80 (a third host). Append the server's
    SYNs to both: the first crosses, the second does not."""
    frames = load('sv_ftp-bounce.pcap')
    last = frames[-1][0]
    t = last[0] * 10**6 + last[1]
    own = bytes(Ether(src='02:00:00:00:00:02', dst='02:00:00:00:00:01') /
                IP(src='2.2.2.1', dst='1.1.1.2') / TCP(sport=20, dport=232 * 256 + 157, flags='S',
                                                       seq=1000))
    third = bytes(Ether(src='02:00:00:00:00:02', dst='02:00:00:00:00:03') /
                  IP(src='2.2.2.1', dst='2.2.2.3') / TCP(sport=20, dport=80, flags='S', seq=2000))
    frames += [(divmod(t + 1000, 10**6), own), (divmod(t + 2000, 10**6), third)]
    sides, _, _ = split_by_host(frames)
    fwd, alg, out = run(str(tmp_path), sides)
    assert own in fwd, out
    assert third not in fwd, out
    assert alg.get('bounce') == 1, out


def test_eprt_of_another_family_is_refused(tmp_path):
    """sv_ftp-active-dynamic-port: over IPv4, the client sends EPRT |2|<an
    IPv6 address>|34325|. No IPv6 address is a peer of an IPv4 control
    connection: refused like a bounce, nothing expected."""
    frames = load('sv_ftp-active-dynamic-port.pcap')
    sides, _, _ = split_by_host(frames)
    fwd, alg, out = run(str(tmp_path), sides)
    assert alg.get('bounce') == 1 and alg.get('created') == 0, out


def test_overlong_command_is_not_parsed(tmp_path):
    """sv_ftp-too-long-command: a RETR of thousands of bytes is counted as
    overlong and skipped; the PASV before it still works as a line."""
    frames = load('sv_ftp-too-long-command.pcap')
    sides, _, _ = split_by_host(frames)
    fwd, alg, out = run(str(tmp_path), sides)
    assert alg.get('overlong', 0) >= 1, out
    assert alg.get('created', 0) >= 1, out  # the 227 before it


def test_expectation_expires(tmp_path):
    """The passive download with its data connection moved 31 s later than
    the 227 (ftp.expect is 30 s): blocked."""
    frames = load('sv_ftp-download-passive.pcap')
    infos = [tcp_of(d) for _, d in frames]
    shifted = []
    for (ts, d), i in zip(frames, infos):
        us = ts[0] * 10**6 + ts[1]
        if i and 21 not in (i['sport'], i['dport']):
            us += 31 * 10**6
        shifted.append((us, d))
    shifted.sort(key=lambda x: x[0])
    frames2 = [(divmod(us, 10**6), d) for us, d in shifted]
    sides, infos2, _ = split_by_host(frames2)
    data = data_frames(frames2, infos2)
    assert data
    fwd, alg, out = run(str(tmp_path), sides)
    assert not any(d in fwd for d in data), out
    assert alg.get('used', 0) == 0, out
