#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A connection whose socket the event loop cannot watch (epoll_ctl ADD
fails: ENOMEM, or ENOSPC past fs.epoll.max_user_watches) is closed at once,
not left deaf: with its read event off, a client that leaves during /sleep
is not noticed until the sleep ends, and hellod holds the descriptor that
long (tests/stress/test_abort_flood.py saw one connection outlive its
client by more than 20 s).

The failure is injected by a small LD_PRELOAD library built here with
$HELLOD_CC: every epoll_ctl(EPOLL_CTL_ADD) for a socket whose peer is
UNWATCHED_PEER fails with ENOMEM. Only this test's clients bind that
address, so hellod's other connections are watched as usual."""

import os
import shlex
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_unwatched', script_timeout=120, case_timeout=60)

CC = shlex.split(os.environ.get('HELLOD_CC') or 'cc')
UNWATCHED_PEER = '127.0.0.9'
SLEEP = 20                  # seconds, far longer than any bound below

SHIM_C = r'''
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	static int (*real)(int, int, int, struct epoll_event *);
	const char *peer = getenv("UNWATCHED_PEER");
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	char buf[INET_ADDRSTRLEN];

	if (real == NULL)
		real = (int (*)(int, int, int, struct epoll_event *))
		    dlsym(RTLD_NEXT, "epoll_ctl");
	if (peer != NULL && op == EPOLL_CTL_ADD &&
	    getpeername(fd, (struct sockaddr *)&sin, &len) == 0 &&
	    sin.sin_family == AF_INET &&
	    inet_ntop(AF_INET, &sin.sin_addr, buf, sizeof buf) != NULL &&
	    strcmp(buf, peer) == 0) {
		errno = ENOMEM;
		return (-1);
	}
	return (real(epfd, op, fd, ev));
}
'''


def build_shim():
    d = ht.make_tempdir('hellod-unwatched-')
    src = os.path.join(d, 'unwatched.c')
    lib = os.path.join(d, 'unwatched.so')
    with open(src, 'w') as f:
        f.write(SHIM_C)
    p = subprocess.run(CC + ['-shared', '-fPIC', '-O2', '-o', lib, src, '-ldl'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check(p.returncode == 0, 'cannot build the epoll_ctl shim with %s: %s'
          % (' '.join(CC), p.stdout[-1500:]))
    return lib


def unwatched_conn(port):
    sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sk.bind((UNWATCHED_PEER, 0))
    sk.settimeout(ht.slow(5))
    sk.connect((ht.HOST, port))
    return sk


@run.case
def unwatched_sleeper_is_closed_at_once():
    lib = build_shim()
    env = {'UNWATCHED_PEER': UNWATCHED_PEER,
           'LD_PRELOAD': ' '.join(p for p in (os.environ.get('LD_PRELOAD'), lib) if p)}
    # As test_bufferevents.py: an ASan build wants its runtime first among
    # the libraries; the preloaded shim, not instrumented, does no harm.
    opts = os.environ.get('ASAN_OPTIONS', '')
    env['ASAN_OPTIONS'] = (opts + ':' if opts else '') + 'verify_asan_link_order=0'
    with ht.Server(sleep='%ds' % SLEEP, options={'workers': '1'}, env=env) as s:
        base = ht.settled_fd_count(s.pid, settle=0.3)
        sk = unwatched_conn(s.port)
        t0 = time.monotonic()
        sk.sendall(b'GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n')
        # The shim must have refused hellod's epoll_ctl for it (libevent
        # warns on stderr), or this test proves nothing.
        check(s.wait_stderr('Epoll ADD', ht.slow(5)),
              'the shim did not refuse epoll_ctl ADD for %s: %s'
              % (UNWATCHED_PEER, s.stderr_tail()))
        try:
            got = sk.recv(4096)
        except ConnectionResetError:
            got = b''
        except socket.timeout:
            got = None
        took = time.monotonic() - t0
        sk.close()
        check(got is not None and took < ht.slow(3),
              'hellod neither answered nor closed a connection it could not '
              'watch within %.1fs (it would wait for the %d s sleep, and not '
              'see its client leave)' % (took, SLEEP))
        check_eq(got, b'', 'what the unwatched connection got before its close')
        check(ht.wait_for(lambda: ht.fd_count(s.pid) <= base, ht.slow(2)),
              'hellod still holds %d more descriptors than before'
              % (ht.fd_count(s.pid) - base))
        ht.note('closed %.3fs after its request; hellod logged: %s'
                % (took, [line for line in s.stderr_text().split('\n')
                          if 'Epoll ADD' in line][:1]))
        # Everyone else is served as before.
        ht.check_page(s.http('GET', '/', timeout=ht.slow(5)), 200, ht.hello_bytes())
        check_eq(s.stop(), 0, 'exit status after SIGTERM')


if __name__ == '__main__':
    run.run()
