/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * BPF instructions written by hand, for the two tiny programs ringwall
 * loads (the AF_XDP redirect in xsk_prog.c and the generator in
 * tools/rwgen.c): no BPF compiler at build time, no object file at run time.
 */
#ifndef RW_BPF_INSN_H
#define RW_BPF_INSN_H

#include <linux/bpf.h>

/* The kernel's own macros live in a header user space does not get. */
#define I_MOV64_REG(d, s)     ((struct bpf_insn){ BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0 })
#define I_MOV64_IMM(d, k)     ((struct bpf_insn){ BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k })
#define I_ADD64_IMM(d, k)     ((struct bpf_insn){ BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, k })
#define I_LDX(sz, d, s, o)    ((struct bpf_insn){ BPF_LDX | BPF_MEM | (sz), d, s, o, 0 })
#define I_JGT_REG(d, s, o)    ((struct bpf_insn){ BPF_JMP | BPF_JGT | BPF_X, d, s, o, 0 })
#define I_JNE_IMM(d, k, o)    ((struct bpf_insn){ BPF_JMP | BPF_JNE | BPF_K, d, 0, o, k })
#define I_CALL(f)             ((struct bpf_insn){ BPF_JMP | BPF_CALL, 0, 0, 0, f })
#define I_EXIT()              ((struct bpf_insn){ BPF_JMP | BPF_EXIT, 0, 0, 0, 0 })
#define I_LD_MAP_FD(d, fd)    ((struct bpf_insn){ BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd })
#define I_LD_IMM64_HI()       ((struct bpf_insn){ 0, 0, 0, 0, 0 })
#define I_ALU32_IMM(op, d, k) ((struct bpf_insn){ BPF_ALU | (op) | BPF_K, d, 0, 0, k })
#define I_ALU64_REG(op, d, s) ((struct bpf_insn){ BPF_ALU64 | (op) | BPF_X, d, s, 0, 0 })
#define I_TO_BE16(d)          ((struct bpf_insn){ BPF_ALU | BPF_END | BPF_TO_BE, d, 0, 0, 16 })
#define I_STX(sz, d, s, o)    ((struct bpf_insn){ BPF_STX | BPF_MEM | (sz), d, s, o, 0 })
#define I_JA(o)               ((struct bpf_insn){ BPF_JMP | BPF_JA, 0, 0, o, 0 })

#endif
