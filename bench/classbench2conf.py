#!/usr/bin/python3
"""Write a ClassBench rule set as ringwall rules (docs/configuration.md).

    bench/classbench2conf.py [--action pass|block|alternate] [--first RULE]... IN[.xz] > OUT.conf

Each ClassBench filter (src/len, dst/len, sport range, dport range,
proto/mask) becomes one rule in the same order, so first match picks the same
filter. Port ranges need a transport protocol in our language: a filter with
any protocol and a port constraint becomes "proto { tcp udp }"; a filter for
another protocol with a port constraint cannot match anything with ports and
keeps only its addresses and protocol. The flags field is not part of the
5-tuple (ClassBench's README) and is left out. --first adds rules before the
set (ringwall bench uses one to pass its own flows whatever the set says).
"""
import argparse
import lzma
import sys


def port_clause(lo, hi):
    if lo == 0 and hi == 65535:
        return None
    return "port %d" % lo if lo == hi else "port %d:%d" % (lo, hi)


def addr(a):
    return "any" if a.endswith("/0") else a


def convert(line, action):
    f = line.lstrip("@").split("\t")
    src, dst = addr(f[0].strip()), addr(f[1].strip())
    slo, shi = (int(x) for x in f[2].split(":"))
    dlo, dhi = (int(x) for x in f[3].split(":"))
    proto, mask = (int(x, 16) for x in f[4].split("/"))
    sp, dp = port_clause(slo, shi), port_clause(dlo, dhi)
    if mask == 0:
        pr = "proto { tcp udp }" if (sp or dp) else None
    elif proto in (6, 17):
        pr = "proto %s" % ("tcp" if proto == 6 else "udp")
    else:
        pr = "proto %d" % proto
        sp = dp = None
    parts = [action]
    if pr:
        parts.append(pr)
    parts += ["from", src] + ([sp] if sp else []) + ["to", dst] + ([dp] if dp else [])
    return " ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--action", choices=("pass", "block", "alternate"), default="pass")
    ap.add_argument("--first", action="append", default=[], help="a rule to put before the set")
    ap.add_argument("input")
    a = ap.parse_args()
    opener = lzma.open if a.input.endswith(".xz") else open
    out = sys.stdout
    out.write("# %s converted by bench/classbench2conf.py (action %s)\n" % (a.input, a.action))
    out.write("set default block\n")
    for r in a.first:
        out.write(r + "\n")
    n = 0
    with opener(a.input, "rt") as f:
        for line in f:
            if not line.startswith("@"):
                continue
            act = a.action if a.action != "alternate" else ("pass" if n % 2 == 0 else "block")
            out.write(convert(line.rstrip("\n"), act) + "\n")
            n += 1
    print("classbench2conf: %d rules" % n, file=sys.stderr)


if __name__ == "__main__":
    main()
