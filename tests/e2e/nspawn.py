# SPDX-License-Identifier: ISC
"""A real systemd as PID 1 for the hellod tests, in a systemd-nspawn container.

    systemd-nspawn --directory=/ --volatile=yes --boot --private-network ...

boots the machine's own /usr read-only on a tmpfs root: nothing is written to
the host.  Container.boot() takes the bind mounts (and optional overlays, for
a writable /usr) that put what is under test into it; Container.run() runs a
command inside it; Container.shutdown() halts it and removes the empty
cgroups nspawn leaves behind when there is no host systemd.  Why each option
is there: ../shared/notes/systemd-testing.md.  Python 3 stdlib only.
"""

import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import hellodtest as ht

BOOT_TIMEOUT = 60
PATH = '/usr/sbin:/usr/bin:/sbin:/bin'


# Capabilities systemd-nspawn needs in our effective set (bit numbers from
# linux/capability.h). Without CAP_NET_ADMIN the container boots, but with
# no loopback in its network namespace, so every case after the boot
# failed; without CAP_SYS_ADMIN it cannot make its namespaces and mounts.
# A container's default set lacks them: Docker's both, systemd-nspawn's
# (without --private-network) CAP_NET_ADMIN.
CAPS_NEEDED = (
    (12, 'CAP_NET_ADMIN', 'the loopback of --private-network'),
    (21, 'CAP_SYS_ADMIN', 'its namespaces and mounts'),
)


def effective_caps():
    """Our effective capability set (CapEff of /proc/self/status), as a mask."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('CapEff:'):
                return int(line.split()[1], 16)
    return 0


def skip_reason():
    """Why a real-systemd test cannot run here, or None: everything missing,
    on one line."""
    if os.geteuid() != 0:
        return 'needs root (systemd-nspawn boots a container)'
    why = []
    missing = [p for p in ('systemd-nspawn', 'nsenter', 'curl', 'systemd-id128')
               if shutil.which(p) is None]
    if missing:
        why.append('missing %s (Debian packages systemd-container, util-linux, curl)'
                   % ', '.join(missing))
    eff = effective_caps()
    caps = [(name, what) for bit, name, what in CAPS_NEEDED if not eff & (1 << bit)]
    if caps:
        why.append('no %s in the effective capability set (systemd-nspawn needs %s; '
                   'run as root outside a container, or in one given %s)'
                   % (' or '.join(n for n, _ in caps),
                      ', '.join('%s for %s' % c for c in caps),
                      ' and '.join(n for n, _ in caps)))
    return '; '.join(why) or None


def skip(name, why):
    """Exit 77 saying why, on one line, or 1 under CI=true, where a skip is
    a failure."""
    if os.environ.get('CI') == 'true':
        print('not ok - %s: cannot run under CI=true: %s' % (name, why), flush=True)
        sys.exit(1)
    print('# SKIP %s: %s' % (name, why), flush=True)
    sys.exit(ht.EX_SKIP)


class Container:
    """One systemd-nspawn container with systemd as PID 1."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.name = 'hellod-test-%d' % os.getpid()
        self.proc = None
        self.pid1 = None
        self.console = os.path.join(workdir, 'console.log')
        self.cgroups = cgroup_dirs()

    def boot(self, binds, overlays=()):
        args = ['systemd-nspawn', '--directory=/', '--volatile=yes', '--boot',
                '--register=no', '--keep-unit', '--private-network',
                '--console=read-only', '--machine=' + self.name,
                '--system-call-filter=bpf']
        machine_id = os.path.join(self.workdir, 'machine-id')
        with open(machine_id, 'w') as f:
            f.write(subprocess.run(['systemd-id128', 'new'], stdout=subprocess.PIPE,
                                   text=True, check=True).stdout)
        os.chmod(machine_id, 0o644)
        # A machine-id avoids first-boot (a prompt, and presets enabling every
        # unit in /usr); the commit unit would then fail, so it is masked.
        args += ['--bind-ro=%s:/etc/machine-id' % machine_id]
        args += ['--bind-ro=%s:%s' % (src, dst) for src, dst in binds]
        # src::dst overlays src with a temporary upper layer (under the
        # host's /var/tmp, removed by nspawn) at dst.
        args += ['--overlay=%s::%s' % (src, dst) for src, dst in overlays]
        args += ['systemd.mask=systemd-machine-id-commit.service']
        with open(self.console, 'wb') as out:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        hostns = os.readlink('/proc/self/ns/pid')
        deadline = time.monotonic() + BOOT_TIMEOUT
        while self.pid1 is None:
            if self.proc.poll() is not None:
                raise ht.TestFailure('systemd-nspawn exited with %d:\n%s'
                                     % (self.proc.returncode, self.console_tail()))
            if time.monotonic() > deadline:
                raise ht.TestFailure('no systemd in the container after %ds:\n%s'
                                     % (BOOT_TIMEOUT, self.console_tail()))
            for pid in children(self.proc.pid):
                try:
                    comm = open('/proc/%d/comm' % pid).read().strip()
                    ns = os.readlink('/proc/%d/ns/pid' % pid)
                except OSError:
                    continue
                if comm == 'systemd' and ns != hostns:
                    self.pid1 = pid
            time.sleep(0.05)
        # The manager takes a moment before it answers on its bus.
        state = ''
        while time.monotonic() < deadline:
            r = self.run(['systemctl', 'is-system-running', '--wait'], timeout=BOOT_TIMEOUT)
            state = r.stdout.strip()
            if state in ('running', 'degraded'):
                break
            time.sleep(0.1)
        if state != 'running':
            failed = self.run(['systemctl', '--failed', '--no-legend']).stdout
            raise ht.TestFailure('container state %r, not running; failed units:\n%s\n%s'
                                 % (state, failed, self.console_tail()))

    def run(self, argv, timeout=30, check_rc=False):
        """Run argv inside the container (all its namespaces), clean env."""
        r = subprocess.run(['nsenter', '-t', str(self.pid1), '-a', 'env', '-i',
                            'PATH=' + PATH, 'SYSTEMD_PAGER=', 'SYSTEMD_COLORS=0'] + argv,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, errors='replace',
                           timeout=timeout)
        if check_rc and r.returncode != 0:
            raise ht.TestFailure('%s: exit %d\n%s%s' % (' '.join(argv), r.returncode,
                                                        r.stdout, r.stderr))
        return r

    def show(self, unit, prop):
        return self.run(['systemctl', 'show', '-p', prop, '--value', unit],
                        check_rc=True).stdout.strip()

    def console_tail(self, n=40):
        try:
            text = open(self.console, errors='replace').read()
        except OSError:
            return ''
        text = re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', text)
        return '\n'.join(text.splitlines()[-n:])

    def shutdown(self):
        """Halt the container (SIGTERM to nspawn), then remove what it leaves."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        # Without a host systemd, nspawn leaves empty "payload" and
        # "supervisor" cgroups under ours in each named hierarchy.
        for base in self.cgroups:
            for leaf in ('payload', 'supervisor'):
                top = os.path.join(base, leaf)
                for d, _, _ in sorted(os.walk(top), key=lambda t: -len(t[0])):
                    try:
                        os.rmdir(d)
                    except OSError:
                        pass
        return self.proc.returncode if self.proc else None


def children(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def cgroup_dirs():
    """Our own cgroup in the systemd and unified hierarchies."""
    dirs = []
    for line in open('/proc/self/cgroup'):
        _, ctrl, path = line.rstrip('\n').split(':', 2)
        if ctrl == 'name=systemd':
            dirs.append('/sys/fs/cgroup/systemd' + path)
        elif ctrl == '':
            base = ('/sys/fs/cgroup/unified' if os.path.isdir('/sys/fs/cgroup/unified')
                    else '/sys/fs/cgroup')
            dirs.append(base + path)
    return dirs


def main(runner, name, box):
    """Run runner's cases, or skip (77; a failure under CI=true) saying why;
    box() returns the live Container, if any, which is shut down on any
    exit."""
    why = skip_reason()
    if why:
        skip(name, why)

    def stop():
        if box() is not None:
            box().shutdown()
    atexit.register(stop)
    runner.run()
