#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The systemd units as `make install` installs them: `systemd-analyze verify`
prints nothing for hellod.service and hellod.socket, and `systemd-analyze
security --offline=true` rates hellod.service at most 1.0 ("SAFE").

The script runs `make install DESTDIR=...` into
$HELLOD_BUILDDIR/tests/e2e/artifacts/units-destdir itself, with the same
prefix and unit directory as the build (distcheck's too), and checks the files
found there. Each check also runs once on a deliberately broken copy of the
unit, to show that it catches the breakage. Skips (77) without systemd-analyze
or when configure was told --with-systemdsystemunitdir=no."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check  # noqa: E402

run = ht.Runner('test_units', script_timeout=300, case_timeout=150)

MAX_EXPOSURE = 1.0      # the bar: "SAFE" and at most 1.0
ART = os.path.join(ht.BUILDDIR, 'tests', 'e2e', 'artifacts')
DESTDIR = os.path.join(ART, 'units-destdir')
SCRATCH = os.path.join(ART, 'units-verify')
SBINDIR = os.environ.get('HELLOD_SBINDIR', '')
SYSCONFDIR = os.environ.get('HELLOD_SYSCONFDIR', '')
UNITDIR = os.environ.get('HELLOD_UNITDIR')
ANALYZE = shutil.which('systemd-analyze')
_installed = {}


def inside(path):
    """path (absolute, as configured) under DESTDIR."""
    return os.path.normpath(DESTDIR + '/' + path)


def install():
    """`make install DESTDIR=...` once per script; returns the installed paths."""
    if _installed:
        return _installed
    if ANALYZE is None:
        raise ht.Skip('systemd-analyze not found (Debian: systemd)')
    if UNITDIR is None or not SBINDIR or not SYSCONFDIR:
        raise ht.Skip('HELLOD_UNITDIR/HELLOD_SBINDIR/HELLOD_SYSCONFDIR not set: run through make check')
    if UNITDIR == '':
        raise ht.Skip('configured with --with-systemdsystemunitdir=no: no units are installed')
    ht.make_install(DESTDIR)
    _installed.update(
        service=inside(UNITDIR + '/hellod.service'),
        socket=inside(UNITDIR + '/hellod.socket'),
        hellod=inside(SBINDIR + '/hellod'),
        conf=inside(SYSCONFDIR + '/hellod/hellod.conf'))
    for what, path in sorted(_installed.items()):
        check(os.path.isfile(path), 'make install put no %s at %s' % (what, path))
    return _installed


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def unit_values(text, key):
    """All values of KEY= in a unit file's text."""
    return re.findall(r'(?m)^%s=(.*)$' % re.escape(key), text)


def verify_copy(edit=None):
    """Copy the installed units to a scratch directory, pointing ExecStart= and
    the `hellod -t` ExecReload= at the installed binary inside DESTDIR (verify wants it to exist and
    executable, and `verify --root=DESTDIR` would look for /bin/kill and
    sysinit.target in DESTDIR too), apply edit(text) to the service, and run
    `systemd-analyze verify --man=no` on both. Returns (rc, output)."""
    inst = install()
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    text = read(inst['service'])
    want = '%s/hellod ' % SBINDIR
    lines = text.splitlines(True)
    n = 0
    for i, line in enumerate(lines):
        for key in ('ExecStart=', 'ExecReload='):
            if line.startswith(key + want):
                lines[i] = key + inst['hellod'] + ' ' + line[len(key + want):]
                n += 1
    check(n == 2, 'expected one "ExecStart=%s..." and one "ExecReload=%s..." line in %s, '
          'found %d' % (want, want, inst['service'], n))
    text = ''.join(lines)
    if edit is not None:
        text = edit(text)
    service = os.path.join(SCRATCH, 'hellod.service')
    socket = os.path.join(SCRATCH, 'hellod.socket')
    with open(service, 'w', encoding='utf-8') as f:
        f.write(text)
    shutil.copyfile(inst['socket'], socket)
    # --man=no: Documentation=man:hellod(8) is not installed on this system.
    p = subprocess.run([ANALYZE, 'verify', '--man=no', service, socket],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, errors='replace',
                       timeout=60)
    return p.returncode, p.stdout.strip()


def security(path, *extra):
    """`systemd-analyze security --offline=true` of a service file: returns
    (rc, exposure or None, rating, stdout, stderr)."""
    p = subprocess.run([ANALYZE, 'security', '--offline=true', '--no-pager'] + list(extra)
                       + [path], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, errors='replace', timeout=60)
    m = re.search(r'Overall exposure level for \S+: (\d+\.\d+) (\w+)', p.stdout)
    if m is None:
        return p.returncode, None, None, p.stdout, p.stderr
    return p.returncode, float(m.group(1)), m.group(2), p.stdout, p.stderr


def in_service_section(text, line):
    """Insert line at the end of the [Service] section."""
    i = text.index('\n[Install]')
    return text[:i] + '\n' + line + '\n' + text[i:]


@run.case
def installed_as_configured():
    inst = install()
    text = read(inst['service'])
    check('@' not in ''.join(unit_values(text, 'ExecStart')),
          'unsubstituted @...@ in ExecStart= of %s' % inst['service'])
    want = '%s/hellod -c %s/hellod/hellod.conf' % (SBINDIR, SYSCONFDIR)
    check(unit_values(text, 'ExecStart') == [want],
          'ExecStart= of the installed unit is %r, want %r'
          % (unit_values(text, 'ExecStart'), want))
    want_reload = ['%s/hellod -t -c %s/hellod/hellod.conf' % (SBINDIR, SYSCONFDIR),
                   '/bin/kill -HUP $MAINPID']
    check(unit_values(text, 'ExecReload') == want_reload,
          'ExecReload= of the installed unit is %r, want %r'
          % (unit_values(text, 'ExecReload'), want_reload))
    check(unit_values(text, 'Type') == ['notify'], 'Type= is %r' % unit_values(text, 'Type'))
    check(os.access(inst['hellod'], os.X_OK), '%s is not executable' % inst['hellod'])
    sock = read(inst['socket'])
    check(unit_values(sock, 'ListenStream') == ['127.0.0.1:7878'],
          'ListenStream= of hellod.socket is %r' % unit_values(sock, 'ListenStream'))
    ht.note('installed: %s' % ', '.join(os.path.relpath(v, DESTDIR)
                                        for k, v in sorted(inst.items())))


@run.case
def verify_prints_nothing():
    rc, out = verify_copy()
    check(rc == 0 and out == '',
          'systemd-analyze verify: rc %d, output (must be empty):\n%s' % (rc, out))


@run.case
def verify_catches_a_broken_unit():
    # The control for verify_prints_nothing: verify exits 0 even for a bad
    # value, so that case only fails because it demands empty output.
    rc, out = verify_copy(lambda t: in_service_section(t, 'Type=notiffy'))
    check('notiffy' in out, 'verify said nothing about Type=notiffy (rc %d): %r' % (rc, out))


@run.case
def security_exposure_at_most_1():
    inst = install()
    rc, exposure, rating, out, err = security(inst['service'])
    check(exposure is not None, 'no "Overall exposure level" line (rc %d): %s %s'
          % (rc, out[-600:], err[-600:]))
    ht.note('systemd-analyze security --offline=true: %.1f %s' % (exposure, rating))
    check(rc == 0, 'systemd-analyze security exited %d: %s' % (rc, err[-600:]))
    check(err.strip() == '', 'systemd-analyze security complained about the unit: %s' % err)
    check(exposure <= MAX_EXPOSURE, 'exposure %.1f %s > %.1f; open items:\n%s'
          % (exposure, rating, MAX_EXPOSURE,
             '\n'.join(l for l in out.splitlines() if l.startswith('\u2717'))))


@run.case
def security_threshold_gate():
    # --threshold is on the 0-100 scale: exposure 1.0 is 10.
    inst = install()
    rc, exposure, _, _, err = security(inst['service'], '--threshold=%d' % (MAX_EXPOSURE * 10))
    check(rc == 0, '--threshold=%d failed (rc %d, exposure %s): %s'
          % (MAX_EXPOSURE * 10, rc, exposure, err[-300:]))
    below = int(round(exposure * 10)) - 1
    if below >= 0:
        rc, _, _, _, _ = security(inst['service'], '--threshold=%d' % below)
        check(rc != 0, '--threshold=%d passed for exposure %.1f: the gate does not bite'
              % (below, exposure))


@run.case
def security_catches_a_weaker_unit():
    # The control for the exposure bound: without PrivateMounts= and
    # PrivateUsers= the same unit rates above 1.0.
    inst = install()
    text = read(inst['service'])
    weak = re.sub(r'(?m)^(PrivateMounts|PrivateUsers)=yes\n', '', text)
    check(weak != text, 'no PrivateMounts=/PrivateUsers= lines to drop')
    os.makedirs(SCRATCH, exist_ok=True)
    path = os.path.join(SCRATCH, 'hellod.service')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(weak)
    rc, exposure, rating, out, err = security(path)
    check(exposure is not None, 'no exposure for the weakened unit: %s %s' % (out[-300:], err))
    ht.note('weakened unit (no PrivateMounts=, PrivateUsers=): %.1f %s' % (exposure, rating))
    check(exposure > MAX_EXPOSURE, 'weakened unit still rates %.1f' % exposure)


if __name__ == '__main__':
    run.run()
