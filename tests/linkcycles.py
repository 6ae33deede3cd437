#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fails when two of the daemon's objects need each other at link time.

Usage: linkcycles.py ARCHIVE

Reads `nm --defined-only` and `nm -u` of every object in ARCHIVE (the
static library of the daemon's modules), draws an edge from each object
to the objects defining the symbols it uses, and names every set of
objects that reach each other, with a symbol for each step.  Modules
should depend one way only, so that each can be understood, tested and
replaced from the bottom up.
"""
import subprocess
import sys

# Pairs still known to need each other, as (a, b) with a < b, module names
# without ".c.o"; printed on every run so they stay in sight.
ALLOWED = set()


def nm(archive, *flags):
    """{object: set of symbol names} from nm's -A output over ARCHIVE"""
    out = subprocess.run(["nm", "-A", *flags, archive], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        # "lib.a:obj.c.o:    U name" or "lib.a:obj.c.o:0000 T name"
        where, _, rest = line.rpartition(":")
        obj = where.rpartition(":")[2]
        fields = rest.split()
        if len(fields) < 2:
            continue
        kind, name = fields[-2], fields[-1]
        if kind == "U" or kind.isupper():
            syms.setdefault(obj, set()).add(name)
    return syms


def module(obj):
    return obj[:-4] if obj.endswith(".c.o") else obj


def edges(archive):
    """{a: {b: a symbol of b that a uses}} between modules"""
    defined = {}
    for obj, names in nm(archive, "--defined-only").items():
        for name in names:
            defined[name] = module(obj)
    graph = {module(o): {} for o in defined.values()}
    for obj, names in nm(archive, "-u").items():
        a = module(obj)
        for name in sorted(names):
            b = defined.get(name)
            if b is not None and b != a:
                graph.setdefault(a, {}).setdefault(b, name)
    return graph


def components(graph):
    """the strongly connected components of more than one module (Tarjan)"""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def cycle_path(graph, comp):
    """a path from comp's first module back to it, within comp"""
    members, start = set(comp), comp[0]
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for b in sorted(graph[path[-1]]):
            if b == start:
                return path + [start]
            if b in members and b not in seen:
                seen.add(b)
                paths.append(path + [b])
    return comp


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: linkcycles.py ARCHIVE")
    graph = edges(sys.argv[1])
    allowed = 0
    for a, b in sorted(ALLOWED):
        if b in graph.get(a, {}) and a in graph.get(b, {}):
            allowed += 1
            print("allowed: %s <-> %s (%s uses %s; %s uses %s)" % (
                a, b, a, graph[a].pop(b), b, graph[b].pop(a)))
    bad = 0
    for comp in components(graph):
        pairs = [(a, b) for a in comp for b in comp
                 if a < b and b in graph[a] and a in graph[b]]
        for a, b in pairs:
            print("link cycle: %s <-> %s (%s uses %s; %s uses %s)" % (
                a, b, a, graph[a][b], b, graph[b][a]))
        if not pairs:
            print("link cycle: %s" % " -> ".join(cycle_path(graph, comp)))
        bad += 1
    if bad:
        print("%d set(s) of objects that need each other, among %d"
              % (bad, len(graph)))
        return 1
    print("no link cycles among %d objects%s" % (
        len(graph), " but the %d allowed above" % allowed if allowed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
