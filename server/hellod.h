/* SPDX-License-Identifier: ISC */
/*
 * hellod: the Rust async book's /sleep server, done properly in C.
 *
 * This header is the map of the daemon: the limits every file shares,
 * then one header per module, lowest layer first. A file calls only into
 * files below it (tests/layout/callgraph.py draws the calls): main.c ->
 * daemon.c -> sockets.c, metrics.c, worker.c -> listener.c -> serve.c ->
 * conn.c -> the pure parts (http, routes, page, config) -> clock.c,
 * addr.c, log.c, stats.c. The order below is the order of declaration
 * (a module's types before those that hold them).
 */
#ifndef HELLOD_H
#define HELLOD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#ifndef HELLOD_CONFIG_FILE
#define HELLOD_CONFIG_FILE	"/etc/hellod/hellod.conf"
#endif
#ifndef HELLOD_ROOT
#define HELLOD_ROOT		"/usr/share/hellod"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION		"0.0.0"
#endif

#define printflike(a, b)	__attribute__((__format__(printf, a, b)))
#define hellod_dead		__attribute__((__noreturn__))

/* Limits that are not configuration keys. */
#define HELLOD_LISTEN_BACKLOG	4096	/* capped by net.core.somaxconn */
#define HELLOD_MAX_BODY		(1024 * 1024)	/* bytes of discarded body */
#define HELLOD_MAX_OUTPUT	(64 * 1024)	/* queued response bytes before
						   we stop parsing pipelined
						   requests */
#define HELLOD_LINGER_MS	2000	/* lingering close: read and drop
					   input this long after a final
					   response */
#define HELLOD_CLOSE_GRACE_MS	250	/* closing an idle connection
					   (shutdown, max_connections):
					   wait this long for a request
					   on the way, and linger this
					   long after shutting our side */
#define HELLOD_READ_MAX		4096	/* bytes read from a connection
					   at a time */
#define HELLOD_ACCEPT_RETRY_MS	500	/* retry accept after EMFILE */
#define HELLOD_EMFILE_LOG_MS	10000	/* at most one EMFILE warning in */
#define HELLOD_PAGE_MAX		(1024 * 1024)	/* largest page file */
#define HELLOD_MAX_WORKERS	256	/* "workers" upper bound */
#define HELLOD_HEARTBEAT_MS	1000	/* longest worker heartbeat period */

/* Exit statuses (sysexits.h values). */
#define HELLOD_EXIT_USAGE	64
#define HELLOD_EXIT_OSERR	71
#define HELLOD_EXIT_CONFIG	78

#include "log.h"		/* log lines: stderr or the journal */
#include "accesslog.h"		/* access_log = PATH, buffered per worker */
#include "config.h"		/* the configuration: file, -o, keys, values */
#include "priv.h"		/* least privilege: dropping root */
#include "http.h"		/* the request parser (pure) */
#include "page.h"		/* the pages, prebuilt responses, 304 */
#include "addr.h"		/* socket addresses as text */
#include "clock.h"		/* monotonic time, the Date cache */
#include "routes.h"		/* path to route */
#include "stats.h"		/* counters and the metrics text */
#include "listener.h"		/* one listening socket of a worker */
#include "conn.h"		/* a connection: socket, bufferevent, timer */
#include "serve.h"		/* HTTP/1.1 served on a connection */
#include "systemd.h"		/* libsystemd: notify, fds, journal */
#include "snapshot.h"		/* a loaded configuration and its pages */
#include "worker.h"		/* one thread, one event loop */
#include "stall.h"		/* the stall check of a worker's loop */
#include "metrics.h"		/* the metrics_listen endpoint */
#include "notify.h"		/* STATUS= and WATCHDOG=1 while running */
#include "daemon.h"		/* the server: signals, reload, shutdown */
#include "sockets.h"		/* the listening sockets, systemd's store */

#endif /* HELLOD_H */
