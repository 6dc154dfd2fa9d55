#!/usr/bin/env python3
"""Split the instructions per connection of two callgrind runs (bench/handshake-ir.sh with SPLIT=1)
by who owns the code. JIT code has no symbols for valgrind: its addresses are named with the perf
map V8 writes under --perf-basic-prof (--interpreted-frames-native-stack gives each interpreted
function its own entry). Self costs only: callgrind's caller-callee pairs cannot attribute the
shared bytecode handlers, inline caches and the compiler to the JavaScript they run for.

  bench/callgrind-split.py CG_N MAP_N OPENED_N CG_3N MAP_3N OPENED_3N
"""
import bisect
import re
import sys
from collections import defaultdict


def load_map(path):
    entries = sorted(
        (int(start, 16), int(size, 16), name)
        for start, size, name in (line.rstrip('\n').split(' ', 2) for line in open(path, errors='replace') if line.count(' ') >= 2)
    )
    return entries, [e[0] for e in entries]


def lookup(perf_map, addr):
    entries, starts = perf_map
    i = bisect.bisect_right(starts, addr) - 1
    while i >= 0 and addr - starts[i] < 1 << 20:
        start, size, name = entries[i]
        if addr < start + size:
            return name
        i -= 1
    return None


def self_costs(path):
    """Self Ir per function name (a call's line carries the callee's inclusive cost: skipped)."""
    names, costs = {}, defaultdict(int)
    fn, after_call = None, False
    for line in open(path, errors='replace'):
        if line.startswith(('fn=', 'cfn=')):
            # A name is given once, where its number first appears (as a caller or a callee).
            m = re.match(r'c?fn=\((\d+)\)(?: (.*))?$', line.rstrip('\n'))
            if m.group(2) is not None:
                names[m.group(1)] = m.group(2)
            if line.startswith('fn='):
                fn = names[m.group(1)]
        elif line.startswith('calls='):
            after_call = True
        elif line[:1].isdigit() or line[:1] in '+-*':
            if after_call:
                after_call = False
            else:
                parts = line.split()
                costs[fn] += int(parts[1]) if len(parts) > 1 else 0
    return costs


def owner(name):
    if name.startswith(('JS:', 'Script:')):
        if '/dist/' in name:
            return "strictws's JavaScript (dist/)"
        if '/node_modules/ws/' in name:
            return "ws's JavaScript"
        if '/bench/' in name:
            return 'the bench harness (bench/servers/)'
        return "Node's JavaScript (node:*)"
    if name.startswith(('Builtin:', 'BytecodeHandler:', 'Builtins_', 'RegExp:', 'Stub:')):
        return 'V8 builtins, bytecode handlers, inline caches (shared)'
    if 'compiler::' in name or 'maglev::' in name or 'baseline::' in name:
        return 'V8 optimizing compilers (JIT warm-up)'
    if re.search(r'ossl_|EVP_|SHA1|sha1_|OPENSSL|CRYPTO_|pthread_rwlock', name):
        return 'OpenSSL (SHA-1 of the handshake)'
    if name.startswith('uv_') or name.startswith('uv__'):
        return 'libuv'
    if 'node::' in name:
        return "Node's C++"
    if 'v8::' in name:
        return 'V8 runtime, parser, GC'
    if name.startswith('0x'):
        return 'unnamed'
    return 'libc and other native (malloc, ...)'


def by_owner(cg, perf_map_path):
    perf_map = load_map(perf_map_path)
    out = defaultdict(int)
    for name, ir in self_costs(cg).items():
        if re.match(r'^0x[0-9a-f]+$', name):
            name = lookup(perf_map, int(name, 16)) or name
        out[owner(name)] += ir
    return out


def main():
    cg1, map1, open1, cg3, map3, open3 = sys.argv[1:7]
    a, b = by_owner(cg1, map1), by_owner(cg3, map3)
    conns = int(open3) - int(open1)
    total = (sum(b.values()) - sum(a.values())) / conns
    print(f'instructions per connection: {total / 1e6:.3f} M')
    for key in sorted(set(a) | set(b), key=lambda k: a.get(k, 0) - b.get(k, 0)):
        per = (b.get(key, 0) - a.get(key, 0)) / conns
        print(f'  {per / 1e3:9.1f} k  {100 * per / total:5.1f}%  {key}')


main()
