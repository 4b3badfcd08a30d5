#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The shape of server/: which file calls which, and how big things are.

Definitions come from Universal Ctags, calls from cscope, so anyone can
run this with the tools the project already uses:

    tests/layout/callgraph.py [--check] [SRCDIR]

It prints the files with their line counts, the calls between files
(caller -> callee: the functions called), the files by layer (or every
circle among them), and every file over 600 lines or function over 80.  With --check it
exits 1 when there is a circle or anything over its limit.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

FILE_MAX = 600
FUNCTION_MAX = 80


def definitions(files):
    """name -> (file, start, end) of every function, from ctags."""
    out = subprocess.run(
        ["ctags", "--output-format=json", "--fields=+ne", "--c-kinds=f",
         "-f", "-"] + files,
        check=True, capture_output=True, text=True).stdout
    defs = {}
    for line in out.splitlines():
        tag = json.loads(line)
        if tag.get("_type") != "tag":
            continue
        defs[(tag["path"], tag["name"])] = (tag["line"], tag.get("end",
                                                             tag["line"]))
    return defs


def calls(files, names, workdir):
    """(caller file, callee name) pairs, from cscope's callers query."""
    db = os.path.join(workdir, "cscope.out")
    subprocess.run(["cscope", "-b", "-k", "-f", db] + files, check=True)
    pairs = set()
    for name in sorted(names):
        out = subprocess.run(["cscope", "-d", "-f", db, "-L", "-3", name],
                             check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            fields = line.split(" ", 3)
            if len(fields) >= 2:
                pairs.add((fields[0], fields[1], name))
    return pairs


def circles(graph):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layers(graph, files):
    """Without circles: each file's height, the longest chain of calls
    below it (0: calls no other file), highest first."""
    height = {}

    def h(v):
        if v not in height:
            height[v] = 1 + max((h(w) for w in graph.get(v, ())),
                                default=-1)
        return height[v]

    by = collections.defaultdict(list)
    for f in files:
        by[h(f)].append(f)
    return [(n, sorted(by[n])) for n in sorted(by, reverse=True)]


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    src = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "server")
    src = os.path.normpath(src)
    files = sorted(os.path.join(src, f) for f in os.listdir(src)
                   if f.endswith((".c", ".h")))
    cfiles = [f for f in files if f.endswith(".c")]
    defs = definitions(cfiles)
    owner = collections.defaultdict(set)
    for (path, name) in defs:
        owner[name].add(path)
    graph = collections.defaultdict(set)
    via = collections.defaultdict(set)
    with tempfile.TemporaryDirectory() as tmp:
        for caller, _func, callee in calls(cfiles, set(owner), tmp):
            if caller in owner[callee] or caller not in cfiles:
                continue
            if len(owner[callee]) != 1:
                continue    # a static name defined in several other files
            callee_file = next(iter(owner[callee]))
            graph[caller].add(callee_file)
            via[(caller, callee_file)].add(callee)
    short = lambda p: os.path.basename(p)
    bad = 0
    print("files (lines):")
    for f in files:
        n = sum(1 for _ in open(f, encoding="utf-8"))
        mark = ""
        if n > FILE_MAX:
            mark = "  OVER %d" % FILE_MAX
            bad += 1
        print("  %-16s %5d%s" % (short(f), n, mark))
    print("calls between files:")
    for (a, b) in sorted(via):
        print("  %s -> %s: %s" % (short(a), short(b),
                                  " ".join(sorted(via[(a, b)]))))
    found = circles(graph)
    if not found:
        print("layers (a file calls only into layers below it):")
        for n, names in layers(graph, cfiles):
            print("  %d: %s" % (n, " ".join(short(f) for f in names)))
    print("circles: %s" % ("none" if not found else ""))
    for comp in found:
        print("  " + " ".join(short(f) for f in comp))
        bad += 1
    long = sorted(((e - s + 1, short(p), name) for (p, name), (s, e)
                   in defs.items() if e - s + 1 > FUNCTION_MAX),
                  reverse=True)
    print("functions over %d lines: %s" % (FUNCTION_MAX,
                                           "none" if not long else ""))
    for n, f, name in long:
        print("  %s %s %d" % (f, name, n))
        bad += 1
    return 1 if check and bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
