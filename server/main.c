/*
 * hellod: serve GET / at once and GET /sleep after a delay, without one
 * slow request holding up any other.
 *
 * main() reads the command line, loads the config and pages, opens the
 * listeners (or takes systemd's sockets), drops root if it has it (to the
 * config's `user`, before any worker thread starts), says it is ready and
 * runs the loop until a graceful shutdown. It runs in the foreground and
 * never forks.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hellod.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: hellod [-c FILE] [-t] [-h] [-V]\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -t, --test         check the configuration and pages, then "
	    "exit\n"
	    "  -h, --help         show this help and the configuration keys\n"
	    "  -V, --version      show the version\n"
	    "\n"
	    "Signals: SIGHUP reloads the configuration and pages; SIGUSR1 "
	    "reopens the\n"
	    "access log file; SIGTERM or SIGINT drains in-flight requests and "
	    "exits\n"
	    "(a second one exits at once).\n\n", HELLOD_CONFIG_FILE);
}

int
main(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "config",	required_argument,	NULL,	'c' },
		{ "test",	no_argument,		NULL,	't' },
		{ "help",	no_argument,		NULL,	'h' },
		{ "version",	no_argument,		NULL,	'V' },
		{ NULL,		0,			NULL,	0 }
	};
	const char	*path = HELLOD_CONFIG_FILE;
	struct config	*cf;
	struct pages	*ps;
	struct server	 s;
	char		*errors, *cause;
	int		 ch, status, test = 0;

	while ((ch = getopt_long(argc, argv, "c:thV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'h':
			usage(stdout);
			config_usage(stdout);
			return (0);
		case 'V':
			printf("hellod %s (%csystemd)\n", PACKAGE_VERSION,
			    systemd_available() ? '+' : '-');
			return (0);
		default:
			usage(stderr);
			return (HELLOD_EXIT_USAGE);
		}
	}
	if (optind != argc) {
		usage(stderr);
		return (HELLOD_EXIT_USAGE);
	}

	/* Writing to a closed connection must be an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	log_init();
	log_set_journal_sender(systemd_journal_send);

	if ((cf = config_load(path, &errors)) == NULL) {
		log_plain(LOG_LEVEL_ERROR, "%s",
		    errors != NULL ? errors : "out of memory");
		log_plain(LOG_LEVEL_ERROR, "hellod: configuration %s has errors",
		    path);
		free(errors);
		return (HELLOD_EXIT_CONFIG);
	}
	if ((ps = pages_load(cf->cf_root, &cause)) == NULL) {
		log_plain(LOG_LEVEL_ERROR, "hellod: %s",
		    cause != NULL ? cause : "out of memory");
		free(cause);
		config_free(cf);
		return (HELLOD_EXIT_CONFIG);
	}
	/* Root without `user`: refused here, so that -t says so too. */
	if (priv_check(cf, &cause) == -1) {
		log_plain(LOG_LEVEL_ERROR, "%s",
		    cause != NULL ? cause : "out of memory");
		log_plain(LOG_LEVEL_ERROR, "hellod: configuration %s has errors",
		    path);
		free(cause);
		pages_free(ps);
		config_free(cf);
		return (HELLOD_EXIT_CONFIG);
	}
	if (test) {
		log_plain(LOG_LEVEL_INFO, "hellod: configuration %s ok", path);
		pages_free(ps);
		config_free(cf);
		return (0);
	}

	if (server_init(&s, cf, ps) == -1) {
		log_error("cannot set up the event loop");
		server_free(&s);
		return (HELLOD_EXIT_OSERR);
	}
	if ((status = sockets_listen(&s, &cause)) != 0) {
		log_error("%s", cause != NULL ? cause : "out of memory");
		free(cause);
		server_free(&s);
		return (status);
	}
	/* Sockets bound, pages loaded, no worker thread yet: drop root. */
	if (priv_drop(s.s_snap->sn_cf, &cause) == -1) {
		log_error("cannot drop privileges: %s",
		    cause != NULL ? cause : "out of memory");
		free(cause);
		server_free(&s);
		return (HELLOD_EXIT_OSERR);
	}
	/* As the user that reopens it on SIGUSR1: see server_open_log(). */
	if (server_open_log(&s, &cause) == -1) {
		log_plain(LOG_LEVEL_ERROR, "%s",
		    cause != NULL ? cause : "out of memory");
		log_plain(LOG_LEVEL_ERROR,
		    "hellod: configuration %s has errors", path);
		free(cause);
		server_free(&s);
		return (HELLOD_EXIT_CONFIG);
	}
	if (server_ready(&s) == -1) {
		log_error("cannot set up the watchdog timer");
		server_free(&s);
		return (HELLOD_EXIT_OSERR);
	}
	if (server_run(&s) == -1) {
		log_error("event loop failed");
		server_free(&s);
		return (1);
	}
	server_free(&s);
	log_info("exited cleanly");
	return (0);
}
