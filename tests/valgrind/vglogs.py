#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Check the valgrind logs of `make check-valgrind` (python3 stdlib only).

Usage: vglogs.py DIR

Every hellod the end-to-end tests started ran under valgrind memcheck with
--log-file=DIR/CASE.PID.log (CASE: script.case, from $HELLOD_TEST_CASE).
Each log must show a process that exited by itself (a log without an
`ERROR SUMMARY` line belongs to a hellod that was killed, so valgrind could
not check it for leaks), 0 errors, and 0 bytes definitely or indirectly
lost. Possibly lost and still reachable blocks are not counted: hellod frees
everything it owns before exit, but libc and libevent keep a few
process-lifetime allocations (thread stacks, locale, ...).

Prints one line per log that fails and a summary; exits 0 if all pass (and
there is at least one log), 1 otherwise.
"""

import os
import re
import sys

ERRORS_RE = re.compile(r'ERROR SUMMARY: ([\d,]+) errors')
LOST_RE = re.compile(r'(definitely|indirectly) lost: ([\d,]+) bytes')
NOLEAK = 'All heap blocks were freed -- no leaks are possible'


def number(text):
    return int(text.replace(',', ''))


def check_log(path):
    """A list of problems found in one log (empty: fine)."""
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    problems = []
    m = ERRORS_RE.findall(text)
    if not m:
        return ['no ERROR SUMMARY: hellod did not exit normally (killed?)']
    errors = number(m[-1])
    if errors:
        problems.append('%d error(s)' % errors)
    lost = {kind: number(n) for kind, n in LOST_RE.findall(text)}
    if not lost and NOLEAK not in text and 'LEAK SUMMARY' not in text:
        problems.append('no leak summary (was --leak-check=full given?)')
    for kind in ('definitely', 'indirectly'):
        if lost.get(kind, 0):
            problems.append('%d bytes %s lost' % (lost[kind], kind))
    return problems


def main(argv):
    if len(argv) != 2:
        print('usage: vglogs.py DIR', file=sys.stderr)
        return 64
    d = argv[1]
    try:
        logs = sorted(n for n in os.listdir(d) if n.endswith('.log'))
    except OSError as e:
        print('vglogs: %s: %s' % (d, e.strerror), file=sys.stderr)
        return 1
    bad = 0
    for name in logs:
        problems = check_log(os.path.join(d, name))
        if problems:
            bad += 1
            print('FAIL %s: %s' % (name, '; '.join(problems)))
    print('vglogs: %d hellod run(s) checked in %s, %d with errors, leaks or no '
          'report' % (len(logs), d, bad))
    if not logs:
        print('vglogs: no logs at all: was hellod run under valgrind?', file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
