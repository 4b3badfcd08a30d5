#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The Debian package installed, run and purged under a real systemd.

Usage: test_deb_install.py PATH/TO/hellod_*.deb   (run by `make check-deb`)

packaging/check-deb has already checked the package's files and maintainer
scripts statically; this installs it for real.  A container of the machine's own /usr is booted (see
nspawn.py) with a throw-away writable layer over /usr and /var/lib (so dpkg
has the host's package database and can write, and nothing reaches the host),
and the .deb is installed in it with dpkg, as on a real machine: its postinst
must enable and start hellod.service through the real systemd, hellod must
answer on 127.0.0.1:7878, and /etc/hellod/hellod.conf must be a conffile.
`dpkg --purge` must then stop the service, close the port and remove the
config.  Skips (77) when not root, systemd-nspawn is missing or CAP_NET_ADMIN
or CAP_SYS_ADMIN is not held (nspawn.skip_reason); under CI=true that is a
failure.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
import nspawn  # noqa: E402
from hellodtest import check, check_eq, check_in  # noqa: E402

run = ht.Runner('test_deb_install', script_timeout=180, case_timeout=60)

URL = 'http://127.0.0.1:7878/'
CONF = '/etc/hellod/hellod.conf'


class State:
    deb = None
    box = None


S = State()


def inside(argv, timeout=60):
    return S.box.run(argv, timeout=timeout)


def curl(timeout=5):
    r = inside(['curl', '-s', '-m', str(timeout), '-o', '-', '-w', '\n%{http_code}', URL],
               timeout=timeout + 5)
    body, _, code = r.stdout.rpartition('\n')
    return r.returncode, code, body


def need_box():
    if S.box is None or S.box.pid1 is None:
        raise ht.TestFailure('no container (the boot case failed)')


@run.case(timeout=120)
def boot_container():
    work = ht.make_tempdir('hellod-deb-')
    os.chmod(work, 0o755)
    debdir = os.path.join(work, 'deb')
    os.mkdir(debdir, 0o755)
    pkg = os.path.join(debdir, os.path.basename(S.deb))
    with open(S.deb, 'rb') as src, open(pkg, 'wb') as dst:
        dst.write(src.read())
    os.chmod(pkg, 0o644)
    S.box = nspawn.Container(work)
    # dpkg needs the users and groups its database names (statoverride).
    S.box.boot([(debdir, '/srv/deb'), ('/etc/passwd', '/etc/passwd'),
                ('/etc/group', '/etc/group')],
               overlays=[('/usr', '/usr'), ('/var/lib', '/var/lib')])


@run.case
def install_enables_and_starts_service():
    need_box()
    check(inside(['systemctl', 'cat', 'hellod.service']).returncode != 0,
          'hellod.service exists before the package is installed')
    # Container images (this machine's among them) may carry a policy-rc.d
    # that forbids maintainer scripts to start services (exit 101); a real
    # Debian system has none.  It goes from the container's throw-away /usr
    # layer only.
    if inside(['test', '-e', '/usr/sbin/policy-rc.d']).returncode == 0:
        inside(['rm', '-f', '/usr/sbin/policy-rc.d'])
        ht.note('removed the image\'s /usr/sbin/policy-rc.d inside the container')
    t0 = time.monotonic()
    r = inside(['dpkg', '-i', '/srv/deb/' + os.path.basename(S.deb)], timeout=120)
    check(r.returncode == 0, 'dpkg -i failed (%d):\n%s%s' % (r.returncode, r.stdout, r.stderr))
    ht.note('dpkg -i took %.2fs' % (time.monotonic() - t0))
    check_eq(inside(['systemctl', 'is-enabled', 'hellod.service']).stdout.strip(), 'enabled',
             'hellod.service after install')
    check_eq(inside(['systemctl', 'is-enabled', 'hellod.socket']).stdout.strip(), 'disabled',
             'hellod.socket after install (installed, not enabled)')
    state = S.box.show('hellod.service', 'ActiveState')
    check(state == 'active', 'hellod.service is %s after install:\n%s' % (
        state, inside(['journalctl', '-u', 'hellod.service', '--no-pager', '-o', 'cat']).stdout))
    rc, code, body = curl()
    check_eq((rc, code), (0, '200'), 'GET / (curl rc, status)')
    check_eq(body, ht.hello_bytes().decode(), 'body of GET /')
    status = inside(['systemctl', 'status', '--no-pager', '--lines=0', 'hellod.service']).stdout
    ht.note('systemctl status: ' + ' | '.join(x.strip() for x in status.splitlines()[:5]))


@run.case
def config_is_a_conffile():
    need_box()
    r = inside(['dpkg-query', '-W', '-f=${Conffiles}', 'hellod'])
    check_eq(r.returncode, 0, 'dpkg-query exit code')
    check_in(CONF, r.stdout.split(), 'conffiles of the installed package')
    r = inside(['hellod', '-t', '-c', CONF])
    check_eq(r.returncode, 0, 'hellod -t on the installed config (%s)' % r.stderr.strip())


@run.case
def purge_stops_and_removes():
    need_box()
    r = inside(['dpkg', '--purge', 'hellod'], timeout=120)
    check(r.returncode == 0, 'dpkg --purge failed (%d):\n%s%s' % (r.returncode, r.stdout, r.stderr))
    check(S.box.show('hellod.service', 'ActiveState') in ('inactive', ''),
          'hellod.service still running after purge')
    rc, _, _ = curl(timeout=3)
    check_eq(rc, 7, 'curl exit code after purge (7 = connection refused)')
    check_eq(inside(['test', '-e', CONF]).returncode, 1, 'config still there after purge')


@run.case
def container_shuts_down_clean():
    need_box()
    box, S.box = S.box, None
    check_eq(box.shutdown(), 0, 'systemd-nspawn exit status')



if __name__ == '__main__':
    if len(sys.argv) != 2 or not sys.argv[1].endswith('.deb'):
        print('usage: test_deb_install.py PATH/TO/hellod_VERSION_ARCH.deb', file=sys.stderr)
        sys.exit(2)
    S.deb = os.path.abspath(sys.argv[1])
    nspawn.main(run, 'test_deb_install', lambda: S.box)
