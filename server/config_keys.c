/* SPDX-License-Identifier: ISC */
/*
 * The configuration keys: one table (config_table[]) with each key's type,
 * bounds, default and help, and one setter per type that parses a value
 * (with config_value.c) and stores it. The table drives the file parser
 * (config.c), the defaults, `hellod -h` and the documentation test.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hellod.h"

#define HOUR_MS		(3600ULL * 1000)

#define OFF(f)		offsetof(struct config, f)

/* Sorted by name; `hellod -h` and hellod.conf(5) follow this order. */
static const struct config_key config_table[] = {
	{ "access_log", CONF_ACCESSLOG, 0, 0, "stderr", OFF(cf_access_log),
	  "one line per response: off, stderr (or on), or a file path "
	  "(absolute, or with a / and relative to the config file's "
	  "directory); SIGUSR1 reopens the file" },
	{ "header_timeout", CONF_DURATION, 1, HOUR_MS, "10s",
	  OFF(cf_header_timeout),
	  "deadline for a complete request head; 408 after it" },
	{ "keepalive_timeout", CONF_DURATION, 0, HOUR_MS, "5s",
	  OFF(cf_keepalive_timeout),
	  "close idle keep-alive connections after this; 0 disables "
	  "keep-alive" },
	{ "listen", CONF_LISTEN, 0, 0, "127.0.0.1:7878", OFF(cf_listen),
	  "address:port to serve on; repeat for more ([::1]:7878 for IPv6)" },
	{ "log_level", CONF_LOGLEVEL, 0, LOG_LEVEL_DEBUG, "info",
	  OFF(cf_log_level), "error, warn, info or debug" },
	{ "max_connections", CONF_UINT, 1, 1000000, "10000",
	  OFF(cf_max_connections),
	  "open connections at most; idle ones are closed first, then "
	  "accepting pauses" },
	{ "max_header_size", CONF_SIZE, 256, 1024 * 1024, "8KiB",
	  OFF(cf_max_header_size),
	  "largest request head; 431 (414 for the request line) above it" },
	{ "metrics_listen", CONF_ADDR, 0, 0, "-", OFF(cf_metrics),
	  "address:port of a separate listener answering GET /metrics "
	  "(Prometheus); unset (-), none; needs a restart" },
	{ "root", CONF_PATH, 0, 0, HELLOD_ROOT, OFF(cf_root),
	  "directory holding hello.html and 404.html; relative to the "
	  "config file's directory" },
	{ "shutdown_timeout", CONF_DURATION, 0, HOUR_MS, "10s",
	  OFF(cf_shutdown_timeout),
	  "on SIGTERM, how long in-flight requests may take to finish" },
	{ "sleep", CONF_DURATION, 0, HOUR_MS, "5s", OFF(cf_sleep),
	  "how long GET /sleep waits before answering" },
	{ "stall_warn", CONF_DURATION, 0, HOUR_MS, "100ms",
	  OFF(cf_stall_warn),
	  "warn when a worker's event loop runs a timer this late (a "
	  "stall); 0 disables the check" },
	{ "user", CONF_USER, 0, 0, "-", OFF(cf_user),
	  "started as root, serve as this account (root: stay root); "
	  "unset (-), refuse to run as root" },
	{ "workers", CONF_WORKERS, 1, HELLOD_MAX_WORKERS, "auto",
	  OFF(cf_workers),
	  "worker threads, each with its own event loop; auto is one per "
	  "CPU; needs a restart" },
	{ "write_timeout", CONF_DURATION, 1, HOUR_MS, "10s",
	  OFF(cf_write_timeout),
	  "close a client that reads none of its response for this long" },
};
#define CONFIG_NKEYS	(sizeof config_table / sizeof config_table[0])
_Static_assert(CONFIG_NKEYS <= CONFIG_MAX_KEYS, "raise CONFIG_MAX_KEYS");

/* The setter of each type: parse value and store it in cf, or fail. */
typedef int (*config_setter)(struct config *, const struct config_key *,
    const char *, const struct config_src *, char **);

static int	config_set_duration(struct config *, const struct config_key *,
		    const char *, const struct config_src *, char **);
static int	config_set_size(struct config *, const struct config_key *,
		    const char *, const struct config_src *, char **);
static int	config_set_uint(struct config *, const struct config_key *,
		    const char *, const struct config_src *, char **);
static int	config_set_listen(struct config *, const struct config_key *,
		    const char *, const struct config_src *, char **);
static int	config_set_path(struct config *, const struct config_key *,
		    const char *, const struct config_src *, char **);
static int	config_set_loglevel(struct config *,
		    const struct config_key *, const char *,
		    const struct config_src *, char **);
static int	config_set_bool(struct config *, const struct config_key *,
		    const char *, const struct config_src *, char **);
static int	config_set_workers(struct config *, const struct config_key *,
		    const char *, const struct config_src *, char **);
static int	config_set_user(struct config *, const struct config_key *,
		    const char *, const struct config_src *, char **);
static int	config_set_addr(struct config *, const struct config_key *,
		    const char *, const struct config_src *, char **);
static int	config_set_accesslog(struct config *,
		    const struct config_key *, const char *,
		    const struct config_src *, char **);

/* Indexed by enum conf_type. */
static const config_setter config_setters[] = {
	[CONF_DURATION] = config_set_duration,
	[CONF_SIZE] = config_set_size,
	[CONF_UINT] = config_set_uint,
	[CONF_LISTEN] = config_set_listen,
	[CONF_PATH] = config_set_path,
	[CONF_LOGLEVEL] = config_set_loglevel,
	[CONF_BOOL] = config_set_bool,
	[CONF_WORKERS] = config_set_workers,
	[CONF_USER] = config_set_user,
	[CONF_ADDR] = config_set_addr,
	[CONF_ACCESSLOG] = config_set_accesslog,
};

/* The key table, for -h and the docs. */
const struct config_key *
config_keys(size_t *n)
{
	*n = CONFIG_NKEYS;
	return (config_table);
}

/* Find a key in the sorted table; NULL if there is none of that name. */
const struct config_key *
config_key_find(const char *name)
{
	size_t	lo = 0, hi = CONFIG_NKEYS, mid;
	int	c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcmp(name, config_table[mid].k_name);
		if (c == 0)
			return (&config_table[mid]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (NULL);
}

/* Forget every listen address (a new source of them replaces the old). */
void
config_clear_listen(struct config *cf)
{
	while (cf->cf_nlisten > 0)
		free(cf->cf_listen[--cf->cf_nlisten].la_text);
}

/*
 * A relative path is taken relative to the directory of base (the config
 * file); with no base (-o, a default) it stays relative to the current
 * directory.
 */
static char *
config_resolve(const char *base, const char *path)
{
	const char	*slash;
	char		*out;

	if (path[0] == '/' || base == NULL ||
	    (slash = strrchr(base, '/')) == NULL)
		return (strdup(path));
	if (asprintf(&out, "%.*s/%s", (int)(slash - base), base, path) == -1)
		return (NULL);
	return (out);
}

/* Where k stores its number in cf. */
static uint64_t *
config_slot(struct config *cf, const struct config_key *k)
{
	return ((uint64_t *)(void *)((char *)cf + k->k_offset));
}

/* A duration key, in milliseconds, within the key's bounds. */
static int
config_set_duration(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	uint64_t	v;

	(void)src;
	if (config_parse_duration(value, &v) == -1)
		return (config_cause(cause, "bad duration '%s' (use e.g. "
		    "500ms, 5s, 2m)", value));
	if (v < k->k_min || v > k->k_max)
		return (config_cause(cause, "%s out of range: must be between "
		    "%llums and %llus", value, (unsigned long long)k->k_min,
		    (unsigned long long)(k->k_max / 1000)));
	*config_slot(cf, k) = v;
	return (0);
}

/* A size key, in bytes, within the key's bounds. */
static int
config_set_size(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	uint64_t	v;

	(void)src;
	if (config_parse_size(value, &v) == -1)
		return (config_cause(cause, "bad size '%s' (use e.g. 8KiB, "
		    "4096)", value));
	if (v < k->k_min || v > k->k_max)
		return (config_cause(cause, "%s out of range: must be between "
		    "%llu and %llu bytes", value, (unsigned long long)k->k_min,
		    (unsigned long long)k->k_max));
	*config_slot(cf, k) = v;
	return (0);
}

/* A plain number within the key's bounds. */
static int
config_set_uint(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	uint64_t	v;

	(void)src;
	if (config_parse_uint(value, &v) == -1)
		return (config_cause(cause, "bad number '%s'", value));
	if (v < k->k_min || v > k->k_max)
		return (config_cause(cause, "%s out of range: must be between "
		    "%llu and %llu", value, (unsigned long long)k->k_min,
		    (unsigned long long)k->k_max));
	*config_slot(cf, k) = v;
	return (0);
}

/* `workers`: auto or a number. */
static int
config_set_workers(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	uint64_t	v;

	(void)src;
	if (config_parse_workers(value, &v) == -1)
		return (config_cause(cause, "expected auto or a number between "
		    "%llu and %llu, not '%s'", (unsigned long long)k->k_min,
		    (unsigned long long)k->k_max, value));
	*config_slot(cf, k) = v;
	return (0);
}

/* on or off. */
static int
config_set_bool(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	(void)src;
	if (strcmp(value, "on") == 0)
		*config_slot(cf, k) = 1;
	else if (strcmp(value, "off") == 0)
		*config_slot(cf, k) = 0;
	else
		return (config_cause(cause, "expected on or off, not '%s'",
		    value));
	return (0);
}

/* `log_level`: one of log_level_name()'s names. */
static int
config_set_loglevel(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	uint64_t	v;

	(void)src;
	for (v = 0; v <= LOG_LEVEL_DEBUG; v++) {
		if (strcmp(value, log_level_name((int)v)) == 0) {
			*config_slot(cf, k) = v;
			return (0);
		}
	}
	return (config_cause(cause, "expected error, warn, info or debug, "
	    "not '%s'", value));
}

/* `root`: a directory, resolved against the config file's. */
static int
config_set_path(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	char	*path;

	(void)k;
	if ((path = config_resolve(src->cs_base, value)) == NULL)
		return (config_cause(cause, "out of memory"));
	free(cf->cf_root);
	cf->cf_root = path;
	return (0);
}

/* `user`: looked up now, so that -t and reloads catch a bad name. */
static int
config_set_user(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	char	*name;

	(void)k;
	if ((name = strdup(value)) == NULL)
		return (config_cause(cause, "out of memory"));
	if (priv_lookup(value, &cf->cf_uid, &cf->cf_gid, cause) == -1) {
		free(name);
		return (-1);
	}
	free(cf->cf_user);
	cf->cf_user = name;
	cf->cf_user_line = src->cs_line;
	return (0);
}

/* `metrics_listen`: one address. */
static int
config_set_addr(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	struct listen_addr	*la;

	(void)k;
	(void)src;
	if ((la = calloc(1, sizeof *la)) == NULL)
		return (config_cause(cause, "out of memory"));
	if (config_parse_listen(value, la, cause) == -1) {
		free(la);
		return (-1);
	}
	config_free_addr(cf->cf_metrics);
	cf->cf_metrics = la;
	return (0);
}

/* `listen`: one more address, unless it is already there. */
static int
config_set_listen(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	struct listen_addr	 la, *nl;
	size_t			 i;

	(void)k;
	(void)src;
	if (config_parse_listen(value, &la, cause) == -1)
		return (-1);
	for (i = 0; i < cf->cf_nlisten; i++) {
		if (config_same_addr(&cf->cf_listen[i], &la)) {
			free(la.la_text);
			return (config_cause(cause, "listen %s given twice",
			    value));
		}
	}
	nl = reallocarray(cf->cf_listen, cf->cf_nlisten + 1, sizeof *nl);
	if (nl == NULL) {
		free(la.la_text);
		return (config_cause(cause, "out of memory"));
	}
	cf->cf_listen = nl;
	cf->cf_listen[cf->cf_nlisten++] = la;
	return (0);
}

/*
 * `access_log`: off, stderr (or on), or a path. A path needs a '/', so
 * that a typo of a keyword (yes, onn) is an error rather than a file next
 * to the config.
 */
static int
config_set_accesslog(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	char	*path = NULL;

	if (strcmp(value, "off") == 0)
		*config_slot(cf, k) = ACCESS_LOG_OFF;
	else if (strcmp(value, "stderr") == 0 || strcmp(value, "on") == 0)
		*config_slot(cf, k) = ACCESS_LOG_STDERR;
	else if (strchr(value, '/') == NULL)
		return (config_cause(cause, "expected off, stderr or a file "
		    "path (absolute, or relative with a /, e.g. "
		    "./access.log), not '%s'", value));
	else if ((path = config_resolve(src->cs_base, value)) == NULL)
		return (config_cause(cause, "out of memory"));
	else
		*config_slot(cf, k) = ACCESS_LOG_FILE;
	free(cf->cf_access_path);
	cf->cf_access_path = path;
	cf->cf_access_line = src->cs_line;
	return (0);
}

/*
 * Set key k of cf from its text value, as written at src. On failure
 * returns -1 and *cause says why (NULL: out of memory), without the key's
 * name.
 */
int
config_key_set(struct config *cf, const struct config_key *k,
    const char *value, const struct config_src *src, char **cause)
{
	*cause = NULL;
	return (config_setters[k->k_type](cf, k, value, src, cause));
}

/*
 * Set every key of a zeroed cf to its default from the table; "-" is
 * unset, which the zeroed struct already says. Returns -1 if out of
 * memory.
 */
int
config_key_defaults(struct config *cf)
{
	static const struct config_src	 src = { NULL, 0 };
	char				*cause;
	size_t				 i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_table[i].k_default, "-") == 0)
			continue;
		if (config_key_set(cf, &config_table[i],
		    config_table[i].k_default, &src, &cause) == -1) {
			free(cause);
			return (-1);
		}
	}
	return (0);
}

/*
 * Print the key table for -h: one line per key (name, default, help), the
 * columns as wide as their longest entry, so that a configured default
 * (root is a path) never runs into the help.
 */
void
config_usage(FILE *f)
{
	size_t	i, nw = 0, dw = 0;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strlen(config_table[i].k_name) > nw)
			nw = strlen(config_table[i].k_name);
		if (strlen(config_table[i].k_default) > dw)
			dw = strlen(config_table[i].k_default);
	}
	fprintf(f, "Configuration keys:\n");
	for (i = 0; i < CONFIG_NKEYS; i++) {
		fprintf(f, "  %-*s  %-*s  %s\n", (int)nw,
		    config_table[i].k_name, (int)dw,
		    config_table[i].k_default, config_table[i].k_help);
	}
}
