#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Event-loop stall detection. server/hellod-testhooks is hellod built with
HELLOD_TEST_HOOKS: on SIGUSR2 every worker's loop blocks for
$HELLOD_TEST_STALL_MS (300 ms here) inside a callback, as a slow callback would.
Each worker's stall check (a timer every stall_warn / 2) then runs late, and
hellod must log one warning per worker saying how long and what the loop was
doing, and count it in /metrics (hellod_event_loop_stalls_total and
hellod_event_loop_stall_seconds_max). Requests are still answered after it.
With stall_warn = 0 the check is off, and the same stall goes unreported.
The production binary, stopped with SIGSTOP, reports a stall with no
callback running."""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_stall', script_timeout=60, case_timeout=25)
HELLO = ht.hello_bytes()
# The stall injected and the threshold, stretched alike under valgrind
# (HELLOD_TEST_SLOWDOWN), where the loop itself runs that much slower.
STALL_MS = int(ht.slow(300))
WARN_MS = int(ht.slow(100))
TESTHOOKS = os.environ.get('HELLOD_TESTHOOKS') or os.path.join(
    ht.BUILDDIR, 'server', 'hellod-testhooks')
WARN_RE = re.compile(r'worker (\d+): event loop stalled for (\d+) ms \(stall_warn '
                     r'(\d+) ms\); last callback: an injected stall \(test build\)')


def stall_server(stall_warn, workers):
    mport = ht.free_port()
    ht.HELLOD = TESTHOOKS
    s = ht.Server(options={'stall_warn': stall_warn, 'workers': workers,
                           'metrics_listen': '%s:%d' % (ht.HOST, mport)},
                  env={'HELLOD_TEST_STALL_MS': str(STALL_MS)})
    return s, mport


@run.case
def injected_stall_is_reported():
    s, mport = stall_server('%dms' % WARN_MS, 2)
    with s:
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        check_eq(ht.metric(mport, 'hellod_event_loop_stalls_total'), 0,
                 'stalls before any was injected')
        mark = len(s.stderr_text())
        s.signal(signal.SIGUSR2)
        check(s.wait_stderr(re.compile(WARN_RE.pattern + r'.*\n(.|\n)*' + WARN_RE.pattern),
                            ht.slow(5), mark),
              'no stall warning from both workers after SIGUSR2: %s' % s.stderr_tail())
        log = s.stderr_text()[mark:]
        warns = WARN_RE.findall(log)
        ht.note('warnings: %r' % warns)
        check_eq(sorted(w[0] for w in warns), ['0', '1'],
                 'one warning per worker (worker numbers)')
        for worker, ms, warn in warns:
            check_eq(warn, str(WARN_MS), 'stall_warn in the warning')
            # the timer was due at most stall_warn / 2 into the stall:
            # at least that much less late than the stall, and not
            # absurdly more
            check(STALL_MS - WARN_MS * 0.6 <= int(ms) <= ht.slow(3000),
                  'worker %s stalled for %s ms, injected %d ms' % (worker, ms, STALL_MS))
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        check_eq(ht.metric(mport, 'hellod_event_loop_stalls_total'), 2,
                 'hellod_event_loop_stalls_total after one stall of 2 workers')
        mx = ht.metric(mport, 'hellod_event_loop_stall_seconds_max')
        check((STALL_MS - WARN_MS * 0.6) / 1000 <= mx <= ht.slow(3.0),
              'hellod_event_loop_stall_seconds_max %.3f after a %d ms stall' % (mx, STALL_MS))
        # one stall, one warning each: nothing more in the next second
        time.sleep(1.0)
        check_eq(len(WARN_RE.findall(s.stderr_text()[mark:])), 2,
                 'stall warnings one second later')
        check_eq(s.stop(), 0, 'exit status')


@run.case
def stall_warn_zero_is_off():
    s, mport = stall_server('0', 1)
    with s:
        mark = len(s.stderr_text())
        s.signal(signal.SIGUSR2)
        check(s.wait_stderr('stalling every worker', ht.slow(5), mark),
              'SIGUSR2 not seen: %s' % s.stderr_tail())
        time.sleep(STALL_MS / 1000 + ht.slow(0.5))
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        check('stalled' not in s.stderr_text()[mark:],
              'a stall reported with stall_warn = 0: %s' % s.stderr_tail())
        check_eq(ht.metric(mport, 'hellod_event_loop_stalls_total'), 0,
                 'stalls counted with stall_warn = 0')
        # turned on by a reload, the next stall is seen
        s.options['stall_warn'] = '%dms' % WARN_MS
        s.write_config()
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reloaded configuration', ht.slow(5), mark),
              'no reload: %s' % s.stderr_tail())
        mark = len(s.stderr_text())
        s.signal(signal.SIGUSR2)
        check(s.wait_stderr(WARN_RE, ht.slow(5), mark),
              'no stall warning after stall_warn was turned on: %s' % s.stderr_tail())
        check_eq(ht.metric(mport, 'hellod_event_loop_stalls_total'), 1,
                 'stalls after turning stall_warn on')
        check_eq(s.stop(), 0, 'exit status')


@run.case
def stopped_process_is_reported():
    """The production binary: a process held up as a whole (here SIGSTOP, as
    a debugger, a frozen cgroup or a starved VM would) shows as a stall with
    no callback running, in every worker."""
    ht.HELLOD = os.environ.get('HELLOD') or ht.HELLOD
    mport = ht.free_port()
    with ht.Server(options={'stall_warn': '%dms' % WARN_MS, 'workers': 2,
                            'metrics_listen': '%s:%d' % (ht.HOST, mport)}) as s:
        # idle for a while: every worker's check has run since its last
        # callback, so none is "the last callback" any more
        time.sleep(ht.slow(0.5))
        mark = len(s.stderr_text())
        s.signal(signal.SIGSTOP)
        try:
            time.sleep(STALL_MS / 1000)
        finally:
            s.signal(signal.SIGCONT)
        idle_re = re.compile(r'worker (\d+): event loop stalled for (\d+) ms \(stall_warn '
                             r'(\d+) ms\) with no callback running: the process was held up')
        check(s.wait_stderr(re.compile(idle_re.pattern + r'(.|\n)*' + idle_re.pattern),
                            ht.slow(5), mark),
              'no "held up" warning from both workers after SIGSTOP: %s' % s.stderr_tail())
        warns = idle_re.findall(s.stderr_text()[mark:])
        ht.note('warnings: %r' % warns)
        check_eq(sorted(w[0] for w in warns), ['0', '1'], 'one warning per worker')
        for worker, ms, warn in warns:
            check(STALL_MS - WARN_MS * 0.6 <= int(ms) <= ht.slow(3000),
                  'worker %s stalled for %s ms, stopped %d ms' % (worker, ms, STALL_MS))
        check_eq(ht.metric(mport, 'hellod_event_loop_stalls_total'), 2,
                 'hellod_event_loop_stalls_total after one stop of 2 workers')
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        check_eq(s.stop(), 0, 'exit status')


if __name__ == '__main__':
    run.run()
