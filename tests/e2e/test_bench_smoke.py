#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""`make bench` smoke test, hellod only (no nginx, wrk, cargo or root
needed): tests/bench/bench.py imports (so it compiles), its sleep client
holds 50 /sleep connections against hellod and counts 50 200s, and the
table, CSV and chart-data code, and the before/after table of BENCH_BEFORE,
run on those rows. Measures nothing; bounds are generous."""

import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

sys.path.insert(0, os.path.join(ht.SRCDIR, 'tests', 'bench'))
import bench  # noqa: E402

run = ht.Runner('test_bench_smoke', script_timeout=60)
CLIENT = os.environ.get('BENCH_SLEEPCLIENT') or os.path.join(
    ht.BUILDDIR, 'tests', 'bench', 'sleepclient')
N = 50
rows = []


@run.case
def sleepclient_50_against_hellod():
    check(os.access(CLIENT, os.X_OK), 'no sleep client at %s' % CLIENT)
    static = bench.static_copy(ht.make_tempdir())
    srv = bench.Hellod(ht.hellod_path(), None, False, 0.5, static).start()
    try:
        bench.verify(srv, sleep_too=True)
        r = bench.measured(lambda: bench.sleep_run(srv, CLIENT, N),
                           {'retries': 0, 'steal_max': 100})
    finally:
        srv.stop()
        bench.cleanup()
    check_eq(len(r), 1, 'attempts')
    r = r[0]
    check_eq((r['ok200'], r['other'], r['errors']), (N, 0, 0), '(200s, other, errors)')
    check(0.45 <= r['wall_s'] < 5, 'wall time %.2fs for sleep 0.5s' % r['wall_s'])
    check(r['probe_ms'] >= 0, 'GET / while they sleep failed (%s)' % r['probe_ms'])
    check(r['rss_busy_kib'] > 0 and r['rss_idle_kib'] > 0, 'RSS not sampled: %r' % r)
    check(r['pd_busy_kib'] > 0 and r['pd_idle_kib'] > 0, 'Private_Dirty not sampled: %r' % r)
    r.update(server='hellod', workers=1, rep=1)
    rows.append(r)


@run.case
def report_from_those_rows():
    check(rows, 'no rows from the first case')
    out = os.path.join(ht.make_tempdir(), 'results')
    wrk = [{'server': 'hellod', 'config': 'pinned', 'workers': 1, 'mode': 'keepalive',
            'rep': 1, 'attempt': 1, 'kept': 1, 'steal_pct': 0, 'rps': 1000.0,
            'p99_ms': 1.0, 'errors': 0}]
    text = bench.report(out, wrk, rows, ['hellod'])
    check_in_text = [l for l in text.splitlines() if l.startswith('/sleep x %d' % N)]
    check(check_in_text, 'no /sleep x %d line in the table:\n%s' % (N, text))
    with open(os.path.join(out, 'sleep.csv')) as f:
        got = list(csv.DictReader(f))
    check_eq(len(got), 1, 'rows in sleep.csv')
    check_eq(got[0]['ok200'], str(N), 'ok200 in sleep.csv')
    for name in ('wrk.csv', 'summary.csv', 'sleep.dat', 'sleep.gp'):
        check(os.path.getsize(os.path.join(out, name)) > 0, '%s missing or empty' % name)
    # The parser of wrk's output, on a sample of wrk 4.1's text.
    sample = ('  Latency Distribution\n     50%  600.00us\n     99%    2.50ms\n'
              '  123 requests in 1.00s, 1 MB read\n'
              '  Socket errors: connect 0, read 2, write 0, timeout 1\n'
              'Requests/sec:  12345.67\n')
    check_eq(bench.parse_wrk(sample), (12345.67, 2.5, 3), 'parse_wrk')


@run.case
def before_after_table_from_those_rows():
    check(rows, 'no rows from the first case')
    out = os.path.join(ht.make_tempdir(), 'results')
    cols = ['before', 'hellod', 'nginx-1', 'nginx-2']
    wrk, sleep = [], []
    for rep in (1, 2, 3):
        for server, base in (('before', 100.0), ('hellod', 150.0), ('nginx-1', 100.0),
                             ('nginx-2', 100.0)):
            for config, mode in (('percore', 'keepalive'), ('percore', 'close'),
                                 ('allcores', 'keepalive')):
                if (server, config) in (('nginx-2', 'percore'), ('nginx-1', 'allcores')):
                    continue
                wrk.append({'server': server, 'config': config, 'workers': 1, 'mode': mode,
                            'rep': rep, 'attempt': 1, 'kept': 1, 'steal_pct': 0,
                            'rps': base * 1000 * (1 + rep / 100.0), 'p99_ms': 1.0,
                            'errors': 0})
            sleep.append(dict(rows[0], server=server, rep=rep, kept=1))
    text = bench.compare_report(out, wrk, sleep, cols, 'nginx-2', 'nginx-2', [N], ['a note'])
    lines = text.splitlines()
    per_core = [l for l in lines if l.startswith('keep-alive, per core')]
    check(per_core and '1.50' in per_core[0] and per_core[0].rstrip().endswith('met'),
          'per-core line, 1.5x nginx-1 met:\n%s' % text)
    check([l for l in lines if l.startswith('/sleep x %d: 200s' % N)],
          'no /sleep x %d line in the table:\n%s' % (N, text))
    with open(os.path.join(out, 'compare.csv')) as f:
        got = list(csv.DictReader(f))
    check_eq(got[0]['figure'], 'keep-alive, per core', 'first figure in compare.csv')
    check_eq(got[0]['hellod/ref_median'], '1.5', 'hellod/nginx-1 median in compare.csv')
    with open(os.path.join(out, 'compare.md')) as f:
        md = f.read()
    check('| keep-alive, all cores | req/s |' in md and '- a note' in md,
          'compare.md:\n%s' % md)


if __name__ == '__main__':
    run.run()
