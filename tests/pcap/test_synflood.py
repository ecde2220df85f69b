# SPDX-License-Identifier: BSD-2-Clause
"""
Capture scenarios for issue 6's SYN-flood work: mid-stream pick-up with
"flags any" (pf's loose state creation).

Run: /usr/bin/python3 -m pytest -q -rf tests/pcap/test_synflood.py
Uses gen.py's builders and test_scenarios.py's runner.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402
from test_scenarios import PCAPS, check_script, compare_real, run_ringwall  # noqa: E402

MISSING_SYN = 'tcp/zeek_tcp-missing-syn.pcap'


def midstream(conf, picked_up):
    """A connection whose handshake happened before the firewall came up:
    the client's data, the server's answer, then the close. With pick-up
    every segment crosses; without it the client's segments are tcp-no-state
    and the server's default-block."""
    sc = gen.Script('midstream_' + conf.split('.')[0], conf=conf)
    t = gen.TcpConn(sc, cisn=7000000, sisn=3000000, win=502)
    t.cack, t.sack = t.sseq, t.cseq     # the handshake happened unseen
    f = picked_up
    t.c('PA', b'GET / HTTP/1.1\r\n\r\n', fwd=f, label='client data, first seen')
    t.s('A', fwd=f, label='server ACK')
    # the server sends 3 x 60000 bytes in one window: only an (unseen)
    # window scale makes room for it, which the loose windows must allow
    for i in range(3):
        t.s('A', b'x' * 1400, fwd=f, label='server data %d' % i)
        t.sseq += 60000 - 1400
    t.c('A', fwd=f, label='client ACK of server data')
    # a forged ACK from outside for data the client never sent: the ACK
    # checks stay strict after a pick-up
    forged = t._pkt('outside', 'A', t.sseq, t.sack + 200000)
    sc.add('outside', forged, False, 'forged ACK 200000 bytes ahead')
    t.c('FA', fwd=f, label='client FIN')
    t.s('A', fwd=f, label='server ACK of FIN')
    t.s('FA', fwd=f, label='server FIN')
    t.c('A', fwd=f, label='client last ACK')
    if picked_up:
        sc.expect_drop('tcp-window', 1)
    else:
        sc.expect_drop('tcp-no-state', 4)     # client data, ACK, FIN, last ACK
        sc.expect_drop('default-block', 7)    # every server segment, the forged one
    return sc


def test_midstream_picked_up_with_flags_any(tmp_path):
    check_script(midstream('pickup.conf', True), tmp_path)


def test_midstream_refused_with_default_flags(tmp_path):
    """The same traffic under pass-out.conf (default flags S/SA): the test
    above is not passing by accident."""
    check_script(midstream('pass-out.conf', False), tmp_path)


def test_unsolicited_midstream_from_outside_still_blocked(tmp_path):
    """flags any is on the inside rule only: a mid-stream segment arriving
    from outside creates nothing and is dropped."""
    sc = gen.Script('midstream_from_outside', conf='pickup.conf')
    t = gen.TcpConn(sc, cisn=1000, sisn=2000)
    t.cack, t.sack = t.sseq, t.cseq
    t.s('PA', b'unsolicited', fwd=False, label='server data, nothing tracked')
    sc.expect_drop('default-block', 1)
    check_script(sc, tmp_path)


def test_real_missing_syn_capture_crosses_whole(tmp_path):
    """zeek_tcp-missing-syn.pcap starts at the SYN|ACK (the SYN was lost):
    with flags any the whole HTTP exchange crosses, both directions, and
    with the default flags (pass-out-nocsum.conf) none of it does."""
    sp = gen.split_capture(os.path.join(PCAPS, MISSING_SYN))
    for conf, fwd in (('pickup.conf', True), ('pass-out-nocsum.conf', False)):
        d = tmp_path / conf.split('.')[0]
        d.mkdir()
        gen.write_split(sp, str(d))
        r = run_ringwall(conf, str(d))
        expected = [None if m is None else (fwd, 'pick-up' if fwd else 'no SYN')
                    for m in sp['meta']]
        assert sum(1 for e in expected if e) == 21
        problems = compare_real(sp, r, expected, MISSING_SYN)
        assert not problems, conf + ':\n' + '\n'.join(problems) + '\n' + r.where()
