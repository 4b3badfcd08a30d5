/* SPDX-License-Identifier: ISC */
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

/* What the command line asks for. */
struct main_args {
	const char	 *ma_path;	/* -c */
	char		**ma_overrides;	/* -o, NULL-terminated */
	size_t		  ma_noverrides;
	int		  ma_test;	/* -t */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: hellod [-c FILE] [-o KEY=VALUE]... [-t] [-h] [-V]\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -o, --option KEY=VALUE\n"
	    "                     set a configuration key as if at the end of "
	    "the file,\n"
	    "                     again on each reload; repeat for more keys "
	    "(several\n"
	    "                     -o listen= replace the file's addresses); a "
	    "relative\n"
	    "                     path is taken from the current directory\n"
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

/* Add an -o to the list; -1 if out of memory. */
static int
main_add_override(struct main_args *ma, char *o)
{
	char	**nl;

	nl = reallocarray(ma->ma_overrides, ma->ma_noverrides + 2,
	    sizeof *nl);
	if (nl == NULL)
		return (-1);
	nl[ma->ma_noverrides++] = o;
	nl[ma->ma_noverrides] = NULL;
	ma->ma_overrides = nl;
	return (0);
}

/*
 * Read the command line into ma. Returns -1 to go on, or the exit status
 * (0 after -h or -V).
 */
static int
main_args(int argc, char **argv, struct main_args *ma)
{
	static const struct option	 longopts[] = {
		{ "config",	required_argument,	NULL,	'c' },
		{ "option",	required_argument,	NULL,	'o' },
		{ "test",	no_argument,		NULL,	't' },
		{ "help",	no_argument,		NULL,	'h' },
		{ "version",	no_argument,		NULL,	'V' },
		{ NULL,		0,			NULL,	0 }
	};
	int				 ch;

	while ((ch = getopt_long(argc, argv, "c:o:thV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			ma->ma_path = optarg;
			break;
		case 'o':
			if (main_add_override(ma, optarg) == -1) {
				fprintf(stderr, "hellod: out of memory\n");
				return (HELLOD_EXIT_OSERR);
			}
			break;
		case 't':
			ma->ma_test = 1;
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
	return (-1);
}

/* Print the errors of a configuration, then that it has errors. */
static int
main_config_errors(const char *path, const char *errors)
{
	log_plain(LOG_LEVEL_ERROR, "%s", errors != NULL ? errors :
	    "out of memory");
	log_plain(LOG_LEVEL_ERROR, "hellod: configuration %s has errors",
	    path);
	return (HELLOD_EXIT_CONFIG);
}

/*
 * Load the config (file, -o, then the pages under root), and refuse
 * root without `user` (here, so that -t says so too). Returns 0,
 * or the exit status with nothing left to free.
 */
static int
main_load(const struct main_args *ma, struct config **cfp,
    struct pages **psp)
{
	struct config	*cf;
	struct pages	*ps;
	char		*errors, *cause;
	int		 status;

	if ((cf = config_load(ma->ma_path, ma->ma_overrides, &ps,
	    &errors)) == NULL) {
		status = main_config_errors(ma->ma_path, errors);
		free(errors);
		return (status);
	}
	if (priv_check(cf, &cause) == -1) {
		status = main_config_errors(ma->ma_path, cause);
		free(cause);
		pages_free(ps);
		config_free(cf);
		return (status);
	}
	*cfp = cf;
	*psp = ps;
	return (0);
}

/*
 * Bind (or adopt) the sockets, drop root, open the access log and tell
 * systemd. Returns 0 or the exit status; the caller frees s either way.
 */
static int
main_start(struct server *s, const char *path)
{
	char	*cause;
	int	 status;

	if ((status = sockets_listen(s, &cause)) != 0) {
		log_error("%s", cause != NULL ? cause : "out of memory");
		free(cause);
		return (status);
	}
	/* Sockets bound, pages loaded, no worker thread yet: drop root. */
	if (priv_drop(s->s_snap->sn_cf, &cause) == -1) {
		log_error("cannot drop privileges: %s",
		    cause != NULL ? cause : "out of memory");
		free(cause);
		return (HELLOD_EXIT_OSERR);
	}
	/* As the user that reopens it on SIGUSR1: see server_open_log(). */
	if (server_open_log(s, &cause) == -1) {
		status = main_config_errors(path, cause);
		free(cause);
		return (status);
	}
	if (server_ready(s) == -1) {
		log_error("cannot set up the watchdog timer");
		return (HELLOD_EXIT_OSERR);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	struct main_args	 ma;
	struct config		*cf = NULL;
	struct pages		*ps = NULL;
	struct server		 s;
	int			 status;

	memset(&ma, 0, sizeof ma);
	ma.ma_path = HELLOD_CONFIG_FILE;
	if ((status = main_args(argc, argv, &ma)) != -1)
		goto out;

	/* Writing to a closed connection must be an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	log_init();
	log_set_journal_sender(systemd_journal_send);

	if ((status = main_load(&ma, &cf, &ps)) != 0)
		goto out;
	if (ma.ma_test) {
		log_plain(LOG_LEVEL_INFO, "hellod: configuration %s ok",
		    ma.ma_path);
		pages_free(ps);
		config_free(cf);
		goto out;
	}

	if (server_init(&s, cf, ps) == -1) {
		log_error("cannot set up the event loop");
		status = HELLOD_EXIT_OSERR;
	} else if ((status = main_start(&s, ma.ma_path)) == 0 &&
	    server_run(&s) == -1) {
		log_error("event loop failed");
		status = 1;
	}
	server_free(&s);
	if (status == 0)
		log_info("exited cleanly");
out:
	free(ma.ma_overrides);
	return (status);
}
