# SPDX-License-Identifier: BSD-2-Clause
"""
Capture scenarios: frames in through two pcap: ports, verdicts out.

Every test replays captures through `ringwall run -c tests/pcap/<policy>.conf`
(-D gives the capture paths) and asserts on the OUTPUT captures: which frames
crossed, byte for byte, and in a few places on the summary's
`drop <reason> <count>` lines. Hand-made scenarios come from gen.py, real
captures from /work/shared/data/pcaps (split into the two sides by gen.py),
the crash corpus from /work/shared/data/fuzz/tcpdump-tests-corpus.

Run: /usr/bin/python3 -m pytest -q -rf tests/pcap
Env: RINGWALL (default build/ringwall), RINGWALL_SAN (the ASan build, for the
corpus replay), RINGWALL_DATA (default /work/shared/data).
"""

import collections
import concurrent.futures
import json
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gen  # noqa: E402

DATA = os.environ.get('RINGWALL_DATA', '/work/shared/data')
PCAPS = os.path.join(DATA, 'pcaps')
CORPUS = os.path.join(DATA, 'fuzz', 'tcpdump-tests-corpus')


def binary(env='RINGWALL', default='build/ringwall'):
    path = os.environ.get(env, default)
    if not os.path.isabs(path):
        path = os.path.join(REPO, path)
    return path


# ---------------------------------------------------------------------------
# running the firewall

class Run:
    def __init__(self, rc, out, err, fwd):
        self.rc, self.stdout, self.stderr = rc, out, err
        self.fwd = fwd  # side the frames LEFT through -> [bytes]

    def drops(self):
        """Summary lines `drop <reason> <count>` (any whitespace, any of
        stdout/stderr), summed per reason."""
        d = collections.Counter()
        for m in re.finditer(r'^\s*drop\s+([a-z0-9][a-z0-9-]*)\s*[:=]?\s*(\d+)\s*$',
                             self.stdout + '\n' + self.stderr, re.M):
            d[m.group(1)] += int(m.group(2))
        return d

    def where(self):
        return 'exit %s\n--- stdout\n%s\n--- stderr\n%s' % (self.rc, self.stdout[-3000:],
                                                           self.stderr[-3000:])


def run_ringwall(conf, indir, outdir=None, defines=None, exe=None, timeout=60):
    """Replay indir/in-inside.pcap and indir/in-outside.pcap (missing ones
    are written empty) through conf. Output captures go to outdir."""
    outdir = outdir or indir
    for side in ('inside', 'outside'):
        p = os.path.join(indir, 'in-%s.pcap' % side)
        if not os.path.exists(p):
            gen.write_pcap(p, [])
    exe = exe or binary()
    if not os.path.exists(exe):
        pytest.fail('no ringwall binary at %s (build with make, or set RINGWALL)' % exe)
    args = [exe, 'run', '-c', os.path.join(HERE, conf)]
    d = {'in_inside': os.path.join(indir, 'in-inside.pcap'),
         'in_outside': os.path.join(indir, 'in-outside.pcap'),
         'out_inside': os.path.join(outdir, 'out-inside.pcap'),
         'out_outside': os.path.join(outdir, 'out-outside.pcap'),
         'logfile': '"%s"' % os.path.join(outdir, 'log.pcap')}
    d.update(defines or {})
    for side in ('inside', 'outside'):
        d[side + '_spec'] = '"pcap:%s,out=%s"' % (d['in_' + side], d['out_' + side])
    for k, v in d.items():
        args += ['-D', '%s=%s' % (k, v)]
    for side in ('inside', 'outside'):
        try:
            os.unlink(d['out_' + side])
        except FileNotFoundError:
            pass
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       errors='replace')
    fwd = {}
    for side in ('inside', 'outside'):
        path = d['out_' + side]
        fwd[side] = [f for _, f in gen.read_pcap(path)[1]] if os.path.exists(path) else None
    return Run(p.returncode, p.stdout, p.stderr, fwd)


def other(side):
    return 'outside' if side == 'inside' else 'inside'


# ---------------------------------------------------------------------------
# hand-made scenarios

def check_script(sc, tmp_path, extra_checks=None):
    d = str(tmp_path)
    gen.write_script(sc, d)
    r = run_ringwall(sc.conf, d, defines=sc.defines)
    problems = []
    if r.rc != 0:
        problems.append('ringwall exited %s' % r.rc)
    for egress in ('inside', 'outside'):
        got = r.fwd[egress]
        if got is None:
            problems.append('no output capture for port %s' % egress)
            continue
        want = [e for e in sc.events if e['side'] == other(egress) and e['fwd']]
        left = collections.Counter(got)
        for e in want:
            if left[e['data']] > 0:
                left[e['data']] -= 1
            else:
                problems.append('%s -> %s: "%s" expected forwarded, missing from out-%s'
                                % (e['side'], egress, e['label'], egress))
        byframe = {e['data']: e for e in sc.events}
        for data, n in left.items():
            if n <= 0:
                continue
            e = byframe.get(data)
            if e is not None and not e['fwd']:
                problems.append('%s -> %s: "%s" expected dropped, was forwarded'
                                % (e['side'], egress, e['label']))
            elif e is not None:
                problems.append('%s -> %s: "%s" forwarded %d more time(s) than sent'
                                % (e['side'], egress, e['label'], n))
            else:
                problems.append('out-%s holds a frame that was never sent (altered?): %s'
                                % (egress, data[:64].hex()))
    drops = r.drops()
    for names, count in sc.reasons.items():
        got = sum(drops.get(n, 0) for n in names.split('|'))
        if got != count:
            problems.append('drop %s: expected %d, summary says %d' % (names, count, got))
    if extra_checks:
        problems += extra_checks(r)
    assert not problems, '\n'.join(problems) + '\n' + r.where()
    return r


def _scenario_test(name):
    def t(tmp_path):
        check_script(gen.SCENARIOS[name](), tmp_path)
    t.__name__ = 'test_' + name
    t.__doc__ = gen.SCENARIOS[name].__doc__
    return t


# one test function per scenario, so that pytest reports each by name
for _n in gen.SCENARIOS:
    globals()['test_' + _n] = _scenario_test(_n)


def test_s11c_log_file_written(tmp_path):
    """The log rules wrote something to the logfile (the blocked SYN and the
    SYN that created the passed connection), without changing verdicts."""
    sc = gen.SCENARIOS['s11c_log']()
    check_script(sc, tmp_path)
    log = os.path.join(str(tmp_path), 'log.pcap')
    assert os.path.exists(log), 'set logfile given, but no %s' % log
    frames = [f for _, f in gen.read_pcap(log)[1]]
    syns = [e['data'] for e in sc.events if e['label'] == 'SYN' or e['label'].startswith('SYN to port 23')]
    for s in syns:
        assert s in frames, 'logged packets miss %s' % s.hex()


# ---------------------------------------------------------------------------
# real captures (item 14)

REAL_DIRS = ('tcp', 'icmp', 'ipv6', 'mixed')


def real_captures():
    out = []
    for d in REAL_DIRS:
        p = os.path.join(PCAPS, d)
        if os.path.isdir(p):
            out += ['%s/%s' % (d, f) for f in sorted(os.listdir(p)) if f.endswith('.pcap')]
    return out


# Frames (1-based, as tshark numbers them) whose verdict under "pass out,
# block in" differs from the simple rule "a flow opened from inside passes
# whole; nothing else passes". Each with the reason; README.md has the story.
EXCEPTIONS = {
    'tcp/sv_fw-tcp-stream-out-of-window.pcap': {
        3: (False, 'client data at seq ISN+100001, 100000 bytes past the 256-byte window'),
    },
    'tcp/sv_fw-tcp-ipv6-stream-out-of-window.pcap': {
        3: (False, 'client data at seq ISN+100001, 100000 bytes past the 256-byte window'),
    },
    'tcp/zeek_tcp-rst-inject.pcap': {
        2: (False, 'injected RST|ACK in SYN_SENT whose ack (= the ISN) does not '
                   'acknowledge the SYN: RFC 793 3.9 says the client ignores it'),
    },
    'ipv6/zeek_ipv6-hbh-routing0.pcap': {
        1: (False, 'type 0 routing header (deprecated by RFC 5095, source routing): ip-options'),
    },
    'ipv6/zeek_ipv6-mobility-dst-opts.pcap': {
        1: (False, 'destination option 0xca claims 144 bytes in a 24-byte header: ip6-ext-short'),
        2: (False, 'destination options header of 40 bytes in a 36-byte payload: ip6-ext-short'),
        3: (False, 'destination options whose last TLV (PadN at byte 23) runs past the '
                   'header: ip6-ext-short'),
    },
    'ipv6/zeek_ipv6-zero-len-ah.pcap': {
        5: (False, 'AH with length 0 (8 bytes, below the 12-byte minimum): ip6-ext-short'),
        6: (False, 'parameter problem quoting that malformed packet: icmp-err-quote'),
    },
}


def acks_of_unseen_data(sp, exp):
    """pf's ack check (ackskew >= -MAXACKWINDOW): when the firewall dropped
    a peer's data (here: frames cut short by the capture's snaplen, dropped
    as ip-total-len), ACKs of that data acknowledge bytes it never saw, and
    past one window plus 1500 bytes they are dropped as tcp-window."""
    import struct
    maxack = 0xffff + 1500
    hi = {}   # flow key, side -> end of the highest data that crossed
    for i, m in enumerate(sp['meta']):
        if m is None or exp[i] is None or not m['info'] or m['info'].get('proto') != 6:
            continue
        e = m['eth']
        ip = e[14:]
        ihl = (ip[0] & 15) * 4
        tl = struct.unpack('!H', ip[2:4])[0]
        th = ip[ihl:]
        seq, ack = struct.unpack('!II', th[4:12])
        flags = th[13]
        plen = tl - ihl - (th[12] >> 4) * 4
        peer = (m['key'], other(m['side']))
        if exp[i][0] and (flags & 0x10) and peer in hi and \
                ((ack - hi[peer]) & 0xffffffff) < 2**31 and ack - hi[peer] > maxack:
            exp[i] = (False, 'acknowledges %d bytes the firewall never saw (dropped '
                      'truncated frames): tcp-window' % (ack - hi[peer]))
        if exp[i][0]:
            end = seq + max(plen, 0) + bool(flags & 2) + bool(flags & 1)
            me = (m['key'], m['side'])
            hi[me] = end if me not in hi or ((end - hi[me]) & 0xffffffff) < 2**31 else hi[me]


EXCEPTION_FUNCS = {
    'tcp/zeek_tcp-timestamp.pcap': acks_of_unseen_data,
}


def model(sp, capture, verify_l4=False):
    """Expected verdict per frame index of a split capture under pass-out.
    Returns list of (fwd, why) (None for frames that are not replayed)."""
    exp = []
    tracked = set()      # flows with state
    for i, m in enumerate(sp['meta']):
        if m is None:
            exp.append(None)
            continue
        key, side, info = m['key'], m['side'], m['info']
        bad = gen.sanity(m['eth'])
        if bad and (verify_l4 or bad != 'l4-checksum'):
            exp.append((False, 'malformed: ' + bad))
            continue
        if info is None:
            exp.append((False, 'non-IP EtherType, dropped by default'))
            continue
        if info['kind'] == 'arp':
            exp.append((True, 'ARP passes unless an arp rule says otherwise'))
            continue
        if info.get('icmp_error'):
            if not info.get('err'):
                exp.append((False, 'ICMP error without a usable quote'))
            elif key in tracked:
                exp.append((True, 'ICMP error quoting a tracked flow'))
            else:
                exp.append((False, 'ICMP error quoting nothing tracked'))
            continue
        if key in tracked:
            exp.append((True, 'belongs to a tracked flow'))
            continue
        if side == 'outside':
            exp.append((False, 'inbound, nothing tracked, default block'))
            continue
        if info.get('proto') == 6:
            if info['flags'] is not None and (info['flags'] & 0x12) == 0x02:
                tracked.add(key)
                exp.append((True, 'SYN from inside opens the connection'))
            else:
                exp.append((False, 'TCP from inside without a SYN first (flags S/SA)'))
            continue
        if info.get('proto') in (1, 58) and info.get('icmp_type') not in (8, 128):
            exp.append((True, 'ICMP from inside passes by rule; only an echo request '
                              'keeps state'))
            continue
        tracked.add(key)
        exp.append((True, 'first packet from inside opens the flow'))
    for n, (fwd, why) in EXCEPTIONS.get(capture, {}).items():
        exp[n - 1] = (fwd, 'exception: ' + why)
    if capture in EXCEPTION_FUNCS:
        EXCEPTION_FUNCS[capture](sp, exp)
    return exp


def compare_real(sp, r, expected, capture):
    """Per-flow comparison of what crossed with what should have."""
    problems = []
    if r.rc != 0:
        problems.append('ringwall exited %s' % r.rc)
    got = {s: collections.Counter(r.fwd[s] or []) for s in ('inside', 'outside')}
    for s in ('inside', 'outside'):
        if r.fwd[s] is None:
            problems.append('no output capture for port %s' % s)
    frames = {}
    for side in ('inside', 'outside'):
        for i, ts, data in sp['sides'][side]:
            frames[i] = (side, data)
    per_flow = collections.defaultdict(lambda: [0, 0, []])  # want, got, diffs
    for i in sorted(frames):
        side, data = frames[i]
        if expected[i] is None:
            continue
        fwd, why = expected[i]
        egress = other(side)
        crossed = got[egress][data] > 0
        if crossed:
            got[egress][data] -= 1
        key = sp['meta'][i]['key']
        pf = per_flow[key]
        pf[0] += fwd
        pf[1] += crossed
        if crossed != fwd:
            pf[2].append('frame %d (%s->%s): expected %s (%s), got %s'
                         % (i + 1, side, egress, 'forwarded' if fwd else 'dropped', why,
                            'forwarded' if crossed else 'dropped'))
    for key, (want, gotn, diffs) in per_flow.items():
        if diffs:
            problems.append('flow %s: %d frames expected to cross, %d crossed\n    %s'
                            % (key, want, gotn, '\n    '.join(diffs[:12])))
    for s in ('inside', 'outside'):
        extra = sum(n for n in got[s].values() if n > 0)
        if extra:
            problems.append('out-%s holds %d frame(s) that match no input frame' % (s, extra))
    return problems


@pytest.mark.parametrize('capture', real_captures())
def test_s14a_real_pass_out(capture, tmp_path):
    """Complete sessions opened from inside cross whole, in both directions;
    everything else is dropped (exceptions listed in EXCEPTIONS)."""
    sp = gen.split_capture(os.path.join(PCAPS, capture))
    gen.write_split(sp, str(tmp_path))
    r = run_ringwall('pass-out-nocsum.conf', str(tmp_path))
    problems = compare_real(sp, r, model(sp, capture), capture)
    assert not problems, capture + ':\n' + '\n'.join(problems) + '\n' + r.where()


@pytest.mark.parametrize('capture', real_captures())
def test_s14b_real_block_all(capture, tmp_path):
    """set default block and no rules: no IP packet crosses (ARP is passed by
    design unless an arp rule blocks it)."""
    sp = gen.split_capture(os.path.join(PCAPS, capture))
    gen.write_split(sp, str(tmp_path))
    r = run_ringwall('block-all.conf', str(tmp_path))
    expected = [None if m is None else
                ((True, 'ARP') if m['info'] and m['info']['kind'] == 'arp' else (False, 'block all'))
                for m in sp['meta']]
    problems = compare_real(sp, r, expected, capture)
    assert not problems, capture + ':\n' + '\n'.join(problems) + '\n' + r.where()


def replay_all_outside(capture, tmp_path, conf='pass-out.conf'):
    """The whole capture arrives on the outside port (the scanner / flooder /
    attacker is outside); nothing arrives inside."""
    lt, frames = gen.read_pcap(os.path.join(PCAPS, capture))
    eth = [(ts, gen.to_ethernet(lt, f)) for ts, f in frames]
    gen.write_pcap(os.path.join(str(tmp_path), 'in-outside.pcap'), [x for x in eth if x[1]])
    gen.write_pcap(os.path.join(str(tmp_path), 'in-inside.pcap'), [])
    return run_ringwall(conf, str(tmp_path)), len(eth)


@pytest.mark.parametrize('capture', ['tcp/cs_synscan.pcap', 'tcp/sv_fw-tcp-syn-flood.pcap'])
def test_s14c_unsolicited_inbound(capture, tmp_path):
    """A SYN scan / SYN flood from outside: nothing crosses, every SYN is
    counted as default-block."""
    r, n = replay_all_outside(capture, tmp_path)
    assert r.rc == 0, r.where()
    assert r.fwd['inside'] == [], '%d frames crossed' % len(r.fwd['inside'] or [])
    syns = 0
    lt, frames = gen.read_pcap(os.path.join(PCAPS, capture))
    for _, f in frames:
        info = gen.parse_frame(gen.to_ethernet(lt, f))
        if info and info.get('flags') is not None and info['flags'] & 0x12 == 0x02:
            syns += 1
    assert r.drops()['default-block'] >= syns, r.where()


def split_and_run(capture, tmp_path, conf='pass-out-nocsum.conf'):
    sp = gen.split_capture(os.path.join(PCAPS, capture))
    gen.write_split(sp, str(tmp_path))
    return sp, run_ringwall(conf, str(tmp_path))


@pytest.mark.parametrize('capture', ['tcp/sv_fw-tcp-stream-out-of-window.pcap',
                                     'tcp/sv_fw-tcp-ipv6-stream-out-of-window.pcap'])
def test_s14d_real_out_of_window(capture, tmp_path):
    """SYN (win 256), SYN|ACK (win 256), then client data 100000 bytes past
    the window: the handshake crosses, the data is dropped as tcp-window."""
    sp, r = split_and_run(capture, tmp_path, conf='pass-out.conf')
    problems = compare_real(sp, r, model(sp, capture, verify_l4=True), capture)
    if r.drops()['tcp-window'] != 1:
        problems.append('drop tcp-window: expected 1, got %d' % r.drops()['tcp-window'])
    assert not problems, '\n'.join(problems) + '\n' + r.where()


def test_s14e_real_rst_inject(tmp_path):
    """zeek rst-inject-rae: client SYN (ISN x); 0.23 s later a RST|ACK
    "from the server" with seq 0, ack x (not x+1) and reserved header bits set:
    an injected reset that does not acknowledge the SYN, which the client
    ignores (RFC 793 3.9, SYN-SENT). Then the real SYN|ACK, the handshake, 25
    bytes of data, an ACK, a RST|ACK at the server's exact next seq (a real
    reset), 150 bytes of client data after it and a second RST.
    Expected: the injected RST is dropped, the connection opens and carries
    its data; the real RST passes; the data and RST after it pass by pf's
    loose closed-state rule (within a window of the closed connection)."""
    capture = 'tcp/zeek_tcp-rst-inject.pcap'
    sp, r = split_and_run(capture, tmp_path, conf='pass-out.conf')
    problems = compare_real(sp, r, model(sp, capture, verify_l4=True), capture)
    d = r.drops()
    if d['tcp-rst-window'] + d['tcp-state'] + d['tcp-window'] != 1:
        problems.append('expected the injected RST counted once as tcp-rst-window (or '
                        'tcp-state/tcp-window); summary: %s' % dict(d))
    assert not problems, '\n'.join(problems) + '\n' + r.where()


@pytest.mark.parametrize('capture', ['icmp/zeek_icmp-destunreach-no-context.pcap',
                                     'icmp/zeek_icmp6-destunreach-no-context.pcap'])
def test_s14f_real_icmp_error_no_context(capture, tmp_path):
    """A destination unreachable that quotes nothing at all (the ICMP header
    is the whole packet), arriving from outside: dropped. Nothing is tracked,
    and there is no quote to look up: icmp-err-nostate or icmp-err-quote."""
    r, n = replay_all_outside(capture, tmp_path)
    assert r.rc == 0, r.where()
    assert r.fwd['inside'] == [], 'the error crossed\n' + r.where()
    d = r.drops()
    assert d['icmp-err-nostate'] + d['icmp-err-quote'] == n, r.where()


# ---------------------------------------------------------------------------
# the crash corpus (item 15)

def corpus_files():
    if not os.path.isdir(CORPUS):
        return []
    return sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS))


SAN_MARKERS = ('AddressSanitizer', 'LeakSanitizer', 'UndefinedBehaviorSanitizer',
               'runtime error:', 'Segmentation fault')


def _replay_one(exe, path, workdir, timeout):
    d = os.path.join(workdir, os.path.basename(path) + '.d')
    os.makedirs(d, exist_ok=True)
    empty = os.path.join(d, 'in-outside.pcap')
    gen.write_pcap(empty, [])
    args = [exe, 'run', '-c', os.path.join(HERE, 'pass-all.conf'),
            '-D', 'inside_spec="pcap:%s,out=%s"' % (path, os.path.join(d, 'o-in.pcap')),
            '-D', 'outside_spec="pcap:%s,out=%s"' % (empty, os.path.join(d, 'o-out.pcap'))]
    env = dict(os.environ)
    # distinct exit codes so that a sanitizer report cannot pass for a
    # clean error exit
    env['ASAN_OPTIONS'] = 'exitcode=86:detect_leaks=1:abort_on_error=0'
    env['UBSAN_OPTIONS'] = 'exitcode=87:print_stacktrace=1:halt_on_error=1'
    try:
        p = subprocess.run(args, capture_output=True, text=True, errors='replace',
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return path, 'hang (no exit within %ds)' % timeout, ''
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    os.rmdir(d)
    return path, p.returncode, p.stderr


def linktype_of(path):
    """Link type of a pcap or pcapng file (first interface), or None."""
    with open(path, 'rb') as f:
        h = f.read(64)
    if len(h) < 24:
        return None
    if h[:4] == b'\x0a\x0d\x0d\x0a':  # pcapng: SHB, then the first IDB
        import struct
        bo = '<' if h[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
        shb_len = struct.unpack(bo + 'I', h[4:8])[0]
        with open(path, 'rb') as f:
            f.seek(shb_len)
            idb = f.read(12)
        if len(idb) < 12 or struct.unpack(bo + 'I', idb[:4])[0] != 1:
            return None
        return struct.unpack(bo + 'H', idb[8:10])[0]
    try:
        return gen.read_pcap(path)[0]
    except ValueError:
        return None


def corpus_replay(exe, tmp_path, timeout=10):
    files = corpus_files()
    assert files, 'no corpus at %s' % CORPUS
    if not os.path.exists(exe):
        pytest.fail('no ringwall binary at %s' % exe)
    bad = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        futs = [ex.submit(_replay_one, exe, f, str(tmp_path), timeout) for f in files]
        for fu in concurrent.futures.as_completed(futs):
            path, rc, err = fu.result()
            name = os.path.basename(path)
            if rc == 0:
                continue
            if isinstance(rc, str):
                bad.append('%s: %s' % (name, rc))
            elif rc < 0 or rc in (86, 87) or any(m in err for m in SAN_MARKERS):
                tail = [ln for ln in err.splitlines() if ln.strip()][-6:]
                bad.append('%s: exit %s\n      %s' % (name, rc, '\n      '.join(tail)))
            elif linktype_of(path) == gen.LINKTYPE_ETHERNET:
                # An Ethernet capture libpcap reads must replay to the end.
                tail = [ln for ln in err.splitlines() if ln.strip()][-2:]
                bad.append('%s: Ethernet capture, exit %s: %s' % (name, rc, ' / '.join(tail)))
            elif not err.strip():
                bad.append('%s: exit %s without a message' % (name, rc))
            # else: a link type ringwall does not take, refused with a message
    return files, bad


def test_s15_corpus_replay(tmp_path):
    """Every tcpdump regression capture through pass-all: no crash, no hang;
    Ethernet captures replay to the end (exit 0); other link types may be
    refused with a clear message."""
    files, bad = corpus_replay(binary(), tmp_path, timeout=10)
    assert not bad, '%d of %d captures failed:\n' % (len(bad), len(files)) + '\n'.join(sorted(bad))


def test_s15_corpus_replay_asan(tmp_path):
    """The same under the ASan/UBSan build (RINGWALL_SAN)."""
    exe = os.environ.get('RINGWALL_SAN')
    if not exe:
        pytest.skip('RINGWALL_SAN not set (tests/run.sh sets it to build-san/ringwall)')
    exe = exe if os.path.isabs(exe) else os.path.join(REPO, exe)
    files, bad = corpus_replay(exe, tmp_path, timeout=30)
    assert not bad, '%d of %d captures failed:\n' % (len(bad), len(files)) + '\n'.join(sorted(bad))


# ---------------------------------------------------------------------------
# the suite itself

def test_scenarios_can_fail(tmp_path):
    """Every hand-made scenario must be able to fail: run under a policy that
    blocks everything, a scenario expecting any frame to cross must fail;
    under one that passes everything statelessly, a scenario expecting any
    drop must fail."""
    silent = []
    for name, fn in gen.SCENARIOS.items():
        sc = fn()
        for conf, needs in (('block-everything.conf', True), ('pass-everything.conf', False)):
            if not any(e['fwd'] == needs for e in sc.events):
                continue
            sc.conf = conf
            sc.reasons = {}
            d = tmp_path / ('%s-%s' % (name, conf))
            try:
                check_script(sc, d)
            except AssertionError:
                continue
            silent.append('%s passed under %s' % (name, conf))
    assert not silent, '\n'.join(silent)
