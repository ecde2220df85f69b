#!/usr/bin/python3
"""Write two captures (inside.pcap, outside.pcap) of N TCP connections, each a
handshake followed by M pure-ACK data segments alternating directions, for
the replay benchmark. Raw struct packing (no scapy) so a million packets
take seconds. Checksums are correct, so the firewall's verification runs."""
import struct, sys

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def frame(src, dst, sport, dport, seq, ack, flags):
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = struct.pack('!4s4sBBH', src, dst, 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    eth = b'\x02\0\0\0\0\x02' + b'\x02\0\0\0\0\x01' + b'\x08\x00'
    return eth + ip + tcp

def main():
    out, nconn, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    hdr = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    fi = open(out + '/inside.pcap', 'wb'); fo = open(out + '/outside.pcap', 'wb')
    fi.write(hdr); fo.write(hdr)
    t = [1_700_000_000 * 1_000_000]
    def put(f, fr):
        t[0] += 1
        f.write(struct.pack('<IIII', t[0] // 1_000_000, t[0] % 1_000_000, len(fr), len(fr)) + fr)
    conns = []
    for i in range(nconn):
        c = bytes([10, 1, (i >> 8) & 255, i & 255]); s = bytes([10, 2, 0, 1])
        conns.append((c, s, 1024 + (i % 60000), 80, 1000, 5000))
    for c, s, sp, dp, ci, si in conns:          # handshakes
        put(fi, frame(c, s, sp, dp, ci, 0, 0x02))
        put(fo, frame(s, c, dp, sp, si, ci + 1, 0x12))
        put(fi, frame(c, s, sp, dp, ci + 1, si + 1, 0x10))
    for k in range(per):                         # interleaved data, round robin
        for c, s, sp, dp, ci, si in conns:
            if k % 2 == 0:
                put(fi, frame(c, s, sp, dp, ci + 1, si + 1, 0x10))
            else:
                put(fo, frame(s, c, dp, sp, si + 1, ci + 1, 0x10))
    fi.close(); fo.close()

main()
