#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The shape of server/, checked (tests/layout/callgraph.py draws it).

No circle among the files of server/ (a lower file never calls up into
an upper one), no file over 600 lines, no function over 80. Each rule is
first tried on a made-up case that breaks it, so that the check is seen
to fail. Needs Universal Ctags and cscope: without them the test skips
(exit 77), which CI (CI=true) counts as a failure.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import callgraph  # noqa: E402

failures = 0


def check(ok, what):
    global failures
    print('%s - %s' % ('ok' if ok else 'not ok', what))
    if not ok:
        failures += 1


def shape(src):
    p = subprocess.run([sys.executable, os.path.join(HERE, 'callgraph.py'),
                        '--check', src], capture_output=True, text=True)
    return p.returncode, p.stdout


def made_up(files):
    d = tempfile.mkdtemp(prefix='hellod-layout-')
    for name, text in files.items():
        with open(os.path.join(d, name), 'w') as f:
            f.write(text)
    return d


def main():
    missing = [t for t in ('ctags', 'cscope') if shutil.which(t) is None]
    if missing:
        msg = 'no %s on PATH (apt-get install universal-ctags cscope)' % \
            ' or '.join(missing)
        if os.environ.get('CI') == 'true':
            print('not ok - cannot run under CI=true: ' + msg)
            return 1
        print('# SKIP ' + msg)
        return 77

    # The checks fail where they should.
    circle = made_up({
        'a.c': 'void a_up(void);\nvoid b_down(void);\n'
               'void a_up(void)\n{\n\tb_down();\n}\n',
        'b.c': 'void a_up(void);\nvoid b_down(void);\n'
               'void b_down(void)\n{\n\ta_up();\n}\n'})
    rc, out = shape(circle)
    check(rc == 1 and 'a.c b.c' in out, 'a made-up circle a.c <-> b.c is found')
    body = '\n'.join('\tx++;' for _ in range(81))
    long = made_up({'c.c': 'int x;\nvoid c_long(void);\n'
                    'void c_long(void)\n{\n%s\n}\n' % body})
    rc, out = shape(long)
    check(rc == 1 and 'c.c c_long' in out, 'a made-up 85-line function is found')
    big = made_up({'d.c': 'int d%d;\n' * 0 + ''.join('int d%d;\n' % i
                                                     for i in range(601))})
    rc, out = shape(big)
    check(rc == 1 and 'OVER 600' in out, 'a made-up 601-line file is found')
    for d in (circle, long, big):
        shutil.rmtree(d)

    # server/ itself.
    src = os.path.normpath(os.path.join(HERE, '..', '..', 'server'))
    rc, out = shape(src)
    print('\n'.join('# ' + line for line in out.splitlines()))
    check('circles: none' in out, 'no circle among the files of server/')
    check('OVER' not in out, 'every file of server/ within 600 lines')
    check('functions over 80 lines: none' in out,
          'every function of server/ within 80 lines')
    check(rc == 0, 'callgraph.py --check exits 0')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
