/*
 * The configuration file: `key = value` lines, `#` comments, blank lines.
 *
 * One table of keys (config_keys[]) drives the parser, the defaults,
 * `hellod -h` and the documentation test. Parsing never stops at the first
 * error: every error is collected as `PATH:LINE: message` and the whole
 * file is rejected if there was any.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hellod.h"

#define CONF_MAX_LINE	4096	/* longest line we report verbatim */
#define CONF_MAX_FILE	(1024 * 1024)
#define HOUR_MS		(3600ULL * 1000)

#define OFF(f)		offsetof(struct config, f)

/* Sorted by name; `hellod -h` and the README follow this order. */
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

/* One parse in progress. */
struct config_parse {
	const char	*p_path;
	unsigned int	 p_line;
	unsigned int	 p_errors;
	char		*p_msgs;	/* accumulated "PATH:LINE: msg\n" */
	size_t		 p_msglen;
	unsigned int	 p_seen[CONFIG_NKEYS];	/* line where set, or 0 */
	int		 p_listen_set;	/* listen given in the file */
};

static void	config_error(struct config_parse *, const char *, ...)
		    printflike(2, 3);
static int	config_set(struct config_parse *, struct config *,
		    const struct config_key *, const char *);
static int	config_set_default(struct config *, const struct config_key *);
static int	config_add_listen(struct config *, const char *, char **);
static char	*config_resolve(const char *, const char *);

/* The key table, for -h and the docs. */
const struct config_key *
config_keys(size_t *n)
{
	*n = CONFIG_NKEYS;
	return (config_table);
}

/* Record one error at the current line. */
static void
config_error(struct config_parse *p, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[CONF_MAX_LINE + 256], *nmsgs;
	int	 n;
	size_t	 len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	p->p_errors++;
	n = snprintf(NULL, 0, "%s:%u: %s\n", p->p_path, p->p_line, msg);
	if (n < 0)
		return;
	len = (size_t)n;
	if ((nmsgs = realloc(p->p_msgs, p->p_msglen + len + 1)) == NULL)
		return;
	p->p_msgs = nmsgs;
	snprintf(p->p_msgs + p->p_msglen, len + 1, "%s:%u: %s\n", p->p_path,
	    p->p_line, msg);
	p->p_msglen += len;
}

/* A number's unit suffix and what it multiplies by. */
struct config_unit {
	const char	*u_suffix;
	uint64_t	 u_mult;
};

static const struct config_unit config_duration_units[] = {
	{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 },
	{ NULL, 0 }
};
static const struct config_unit config_size_units[] = {
	{ "", 1 }, { "B", 1 }, { "K", 1024 }, { "KiB", 1024 },
	{ "M", 1024 * 1024 }, { "MiB", 1024 * 1024 }, { NULL, 0 }
};
static const struct config_unit config_plain_units[] = {
	{ "", 1 }, { NULL, 0 }
};

/* Parse digits followed by one of units' suffixes; -1 if bad or too big. */
static int
config_parse_units(const char *s, const struct config_unit *units,
    uint64_t *out)
{
	uint64_t	 v = 0;
	const char	*p = s;

	if (*p < '0' || *p > '9')
		return (-1);
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	for (; units->u_suffix != NULL; units++) {
		if (strcmp(p, units->u_suffix) != 0)
			continue;
		if (v > UINT64_MAX / units->u_mult)
			return (-1);
		*out = v * units->u_mult;
		return (0);
	}
	return (-1);
}

/* Parse a duration into milliseconds: 500ms, 5s, 2m, or 5 (seconds). */
int
config_parse_duration(const char *s, uint64_t *ms)
{
	return (config_parse_units(s, config_duration_units, ms));
}

/* Parse a size into bytes: 512, 512B, 8K, 8KiB, 1M, 1MiB. */
int
config_parse_size(const char *s, uint64_t *bytes)
{
	return (config_parse_units(s, config_size_units, bytes));
}

/*
 * Parse a worker count: 1 to HELLOD_MAX_WORKERS, or `auto`, stored as 0
 * (one per online CPU, decided by config_workers() at start-up).
 */
int
config_parse_workers(const char *s, uint64_t *n)
{
	uint64_t	v;

	if (strcmp(s, "auto") == 0) {
		*n = 0;
		return (0);
	}
	if (config_parse_units(s, config_plain_units, &v) == -1 || v < 1 ||
	    v > HELLOD_MAX_WORKERS)
		return (-1);
	*n = v;
	return (0);
}

/*
 * The number of workers cf asks for; `auto` is ncpu (as from
 * sysconf(_SC_NPROCESSORS_ONLN)), kept within 1 and HELLOD_MAX_WORKERS.
 */
unsigned int
config_workers(const struct config *cf, long ncpu)
{
	if (cf->cf_workers != 0)
		return ((unsigned int)cf->cf_workers);
	if (ncpu < 1)
		return (1);
	if (ncpu > HELLOD_MAX_WORKERS)
		return (HELLOD_MAX_WORKERS);
	return ((unsigned int)ncpu);
}

/*
 * Parse `127.0.0.1:7878`, `[::1]:7878` or `0.0.0.0:8080`. Host names are
 * refused: a daemon should not depend on the resolver to start.
 */
int
config_parse_listen(const char *s, struct listen_addr *la, char **cause)
{
	char			 host[INET6_ADDRSTRLEN + 1];
	const char		*port, *end;
	size_t			 hlen;
	unsigned long		 pnum;
	char			*ep;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	int			 v6 = 0;

	memset(la, 0, sizeof *la);
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':') {
			if (asprintf(cause, "bad address '%s': expected "
			    "[IPv6]:port", s) == -1)
				*cause = NULL;
			return (-1);
		}
		hlen = (size_t)(end - s - 1);
		s++;
		port = end + 2;
		v6 = 1;
	} else {
		if ((end = strrchr(s, ':')) == NULL) {
			if (asprintf(cause, "bad address '%s': expected "
			    "address:port", s) == -1)
				*cause = NULL;
			return (-1);
		}
		hlen = (size_t)(end - s);
		port = end + 1;
	}
	if (hlen == 0 || hlen >= sizeof host) {
		if (asprintf(cause, "bad address '%s'", s) == -1)
			*cause = NULL;
		return (-1);
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';

	if (*port < '0' || *port > '9') {
		if (asprintf(cause, "bad port '%s'", port) == -1)
			*cause = NULL;
		return (-1);
	}
	errno = 0;
	pnum = strtoul(port, &ep, 10);
	if (*ep != '\0') {
		if (asprintf(cause, "bad port '%s'", port) == -1)
			*cause = NULL;
		return (-1);
	}
	if (errno == ERANGE || pnum > 65535) {
		if (asprintf(cause, "port %s out of range (0 to 65535)",
		    port) == -1)
			*cause = NULL;
		return (-1);
	}

	if (v6) {
		sin6 = (struct sockaddr_in6 *)&la->la_ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			if (asprintf(cause, "bad IPv6 address '%s'",
			    host) == -1)
				*cause = NULL;
			return (-1);
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pnum);
		la->la_len = sizeof *sin6;
	} else {
		sin = (struct sockaddr_in *)&la->la_ss;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			if (asprintf(cause, "bad IPv4 address '%s' (host "
			    "names are not accepted)", host) == -1)
				*cause = NULL;
			return (-1);
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pnum);
		la->la_len = sizeof *sin;
	}
	if ((la->la_text = strdup(v6 ? s - 1 : s)) == NULL) {
		*cause = strdup("out of memory");
		return (-1);
	}
	return (0);
}

/* Whether two parsed addresses are the same (the text may differ). */
static int
config_same_addr(const struct listen_addr *a, const struct listen_addr *b)
{
	return (a->la_len == b->la_len &&
	    memcmp(&a->la_ss, &b->la_ss, a->la_len) == 0);
}

/* Make dst a deep copy of src. Returns -1 if out of memory. */
static int
config_dup_addr(struct listen_addr *dst, const struct listen_addr *src)
{
	*dst = *src;
	return ((dst->la_text = strdup(src->la_text)) == NULL ? -1 : 0);
}

/* Append a listen address unless it is already there. */
static int
config_add_listen(struct config *cf, const char *text, char **cause)
{
	struct listen_addr	 la, *nl;
	size_t			 i;

	if (config_parse_listen(text, &la, cause) == -1)
		return (-1);
	for (i = 0; i < cf->cf_nlisten; i++) {
		if (config_same_addr(&cf->cf_listen[i], &la)) {
			if (asprintf(cause, "listen %s given twice",
			    la.la_text) == -1)
				*cause = NULL;
			free(la.la_text);
			return (-1);
		}
	}
	nl = reallocarray(cf->cf_listen, cf->cf_nlisten + 1, sizeof *nl);
	if (nl == NULL) {
		free(la.la_text);
		*cause = strdup("out of memory");
		return (-1);
	}
	cf->cf_listen = nl;
	cf->cf_listen[cf->cf_nlisten++] = la;
	return (0);
}

/* A relative path is taken relative to the config file's directory. */
static char *
config_resolve(const char *cfpath, const char *path)
{
	const char	*slash;
	char		*out;

	if (path[0] == '/' || cfpath == NULL ||
	    (slash = strrchr(cfpath, '/')) == NULL)
		return (strdup(path));
	if (asprintf(&out, "%.*s/%s", (int)(slash - cfpath), cfpath,
	    path) == -1)
		return (NULL);
	return (out);
}

/* Free a single address (metrics_listen); NULL is fine. */
static void
config_free_addr(struct listen_addr *la)
{
	if (la != NULL) {
		free(la->la_text);
		free(la);
	}
}

/* Set one key from its text value; report errors against p. */
static int
config_set(struct config_parse *p, struct config *cf,
    const struct config_key *k, const char *value)
{
	uint64_t		 v, *dst = (uint64_t *)(void *)((char *)cf +
				     k->k_offset);
	struct listen_addr	*la = NULL;
	char			*cause = NULL, *path, *name;

	switch (k->k_type) {
	case CONF_DURATION:
		if (config_parse_duration(value, &v) == -1) {
			config_error(p, "%s: bad duration '%s' (use e.g. "
			    "500ms, 5s, 2m)", k->k_name, value);
			return (-1);
		}
		if (v < k->k_min || v > k->k_max) {
			config_error(p, "%s: %s out of range: must be between "
			    "%llums and %llus", k->k_name, value,
			    (unsigned long long)k->k_min,
			    (unsigned long long)(k->k_max / 1000));
			return (-1);
		}
		*dst = v;
		break;
	case CONF_SIZE:
		if (config_parse_size(value, &v) == -1) {
			config_error(p, "%s: bad size '%s' (use e.g. 8KiB, "
			    "4096)", k->k_name, value);
			return (-1);
		}
		if (v < k->k_min || v > k->k_max) {
			config_error(p, "%s: %s out of range: must be between "
			    "%llu and %llu bytes", k->k_name, value,
			    (unsigned long long)k->k_min,
			    (unsigned long long)k->k_max);
			return (-1);
		}
		*dst = v;
		break;
	case CONF_UINT:
		if (config_parse_units(value, config_plain_units, &v) == -1) {
			config_error(p, "%s: bad number '%s'", k->k_name,
			    value);
			return (-1);
		}
		if (v < k->k_min || v > k->k_max) {
			config_error(p, "%s: %s out of range: must be between "
			    "%llu and %llu", k->k_name, value,
			    (unsigned long long)k->k_min,
			    (unsigned long long)k->k_max);
			return (-1);
		}
		*dst = v;
		break;
	case CONF_WORKERS:
		if (config_parse_workers(value, &v) == -1) {
			config_error(p, "%s: expected auto or a number between "
			    "%llu and %llu, not '%s'", k->k_name,
			    (unsigned long long)k->k_min,
			    (unsigned long long)k->k_max, value);
			return (-1);
		}
		*dst = v;
		break;
	case CONF_BOOL:
		if (strcmp(value, "on") == 0)
			*dst = 1;
		else if (strcmp(value, "off") == 0)
			*dst = 0;
		else {
			config_error(p, "%s: expected on or off, not '%s'",
			    k->k_name, value);
			return (-1);
		}
		break;
	case CONF_LOGLEVEL:
		for (v = 0; v <= LOG_LEVEL_DEBUG; v++) {
			if (strcmp(value, log_level_name((int)v)) == 0)
				break;
		}
		if (v > LOG_LEVEL_DEBUG) {
			config_error(p, "%s: expected error, warn, info or "
			    "debug, not '%s'", k->k_name, value);
			return (-1);
		}
		*dst = v;
		break;
	case CONF_PATH:
		if ((path = config_resolve(p->p_path, value)) == NULL) {
			config_error(p, "%s: out of memory", k->k_name);
			return (-1);
		}
		free(cf->cf_root);
		cf->cf_root = path;
		break;
	case CONF_USER:
		/* Looked up now, so that -t and reloads catch a bad name. */
		if ((name = strdup(value)) == NULL) {
			config_error(p, "%s: out of memory", k->k_name);
			return (-1);
		}
		if (priv_lookup(value, &cf->cf_uid, &cf->cf_gid,
		    &cause) == -1) {
			config_error(p, "%s: %s", k->k_name,
			    cause != NULL ? cause : "out of memory");
			free(cause);
			free(name);
			return (-1);
		}
		free(cf->cf_user);
		cf->cf_user = name;
		cf->cf_user_line = p->p_line;
		break;
	case CONF_ADDR:
		if ((la = calloc(1, sizeof *la)) == NULL ||
		    config_parse_listen(value, la, &cause) == -1) {
			config_error(p, "%s: %s", k->k_name,
			    cause != NULL ? cause : "out of memory");
			free(cause);
			free(la);
			return (-1);
		}
		config_free_addr(cf->cf_metrics);
		cf->cf_metrics = la;
		break;
	case CONF_ACCESSLOG:
		/*
		 * A path needs a '/', so that a typo of a keyword (yes, onn)
		 * is an error rather than a file next to the config.
		 */
		path = NULL;
		if (strcmp(value, "off") == 0)
			*dst = ACCESS_LOG_OFF;
		else if (strcmp(value, "stderr") == 0 ||
		    strcmp(value, "on") == 0)
			*dst = ACCESS_LOG_STDERR;
		else if (strchr(value, '/') == NULL) {
			config_error(p, "%s: expected off, stderr or a file "
			    "path (absolute, or relative with a /, e.g. "
			    "./access.log), not '%s'", k->k_name, value);
			return (-1);
		} else if ((path = config_resolve(p->p_path, value)) == NULL) {
			config_error(p, "%s: out of memory", k->k_name);
			return (-1);
		} else
			*dst = ACCESS_LOG_FILE;
		free(cf->cf_access_path);
		cf->cf_access_path = path;
		cf->cf_access_line = p->p_line;
		break;
	case CONF_LISTEN:
		if (!p->p_listen_set) {
			/* The first listen line replaces the default. */
			while (cf->cf_nlisten > 0)
				free(cf->cf_listen[--cf->cf_nlisten].la_text);
			p->p_listen_set = 1;
		}
		if (config_add_listen(cf, value, &cause) == -1) {
			config_error(p, "listen: %s",
			    cause != NULL ? cause : "out of memory");
			free(cause);
			return (-1);
		}
		break;
	}
	return (0);
}

/* Set a key to its default from the table. */
static int
config_set_default(struct config *cf, const struct config_key *k)
{
	struct config_parse	 p;
	int			 rc;

	memset(&p, 0, sizeof p);
	p.p_path = "(default)";
	if (k->k_type == CONF_PATH) {
		free(cf->cf_root);
		return ((cf->cf_root = strdup(k->k_default)) == NULL ? -1 : 0);
	}
	if (k->k_type == CONF_ADDR) {
		/* "-": not set. */
		config_free_addr(cf->cf_metrics);
		cf->cf_metrics = NULL;
		return (0);
	}
	if (k->k_type == CONF_USER) {
		/* "-": not set. */
		free(cf->cf_user);
		cf->cf_user = NULL;
		return (0);
	}
	rc = config_set(&p, cf, k, k->k_default);
	free(p.p_msgs);
	return (rc);
}

/* Free a config; NULL is fine. */
void
config_free(struct config *cf)
{
	size_t	i;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->cf_nlisten; i++)
		free(cf->cf_listen[i].la_text);
	free(cf->cf_listen);
	config_free_addr(cf->cf_metrics);
	free(cf->cf_root);
	free(cf->cf_access_path);
	free(cf->cf_user);
	free(cf->cf_path);
	free(cf);
}

/* Trim leading and trailing blanks in place. */
static char *
config_trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return (s);
}

/* Find a key in the sorted table. */
static const struct config_key *
config_find(const char *name)
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

/*
 * Split the value off a line: strip a trailing comment (a `#` after a
 * blank) and unquote a "double-quoted" value. Returns NULL with *why set
 * on a syntax error.
 */
static char *
config_value(char *v, const char **why)
{
	char	*e;

	v = config_trim(v);
	if (*v == '"') {
		if ((e = strchr(v + 1, '"')) == NULL) {
			*why = "unterminated quoted value";
			return (NULL);
		}
		*e = '\0';
		e = config_trim(e + 1);
		if (*e != '\0' && *e != '#') {
			*why = "unexpected text after quoted value";
			return (NULL);
		}
		return (v + 1);
	}
	for (e = v; *e != '\0'; e++) {
		if (*e == '#' && e > v && (e[-1] == ' ' || e[-1] == '\t')) {
			*e = '\0';
			break;
		}
	}
	return (config_trim(v));
}

/* Parse one line of the file. */
static void
config_line(struct config_parse *p, struct config *cf, char *line)
{
	char			*eq, *name, *value;
	const char		*why = NULL;
	const struct config_key	*k;
	size_t			 idx;

	line = config_trim(line);
	if (*line == '\0' || *line == '#')
		return;
	if (strlen(line) != strcspn(line, "\001\002\003\004\005\006\007\010"
	    "\012\013\014\015\016\017\020\021\022\023\024\025\026\027\030\031"
	    "\032\033\034\035\036\037\177")) {
		config_error(p, "control character in line");
		return;
	}
	if ((eq = strchr(line, '=')) == NULL) {
		config_error(p, "expected 'key = value', got '%.64s'", line);
		return;
	}
	*eq = '\0';
	name = config_trim(line);
	if (*name == '\0') {
		config_error(p, "expected a key before '='");
		return;
	}
	if ((k = config_find(name)) == NULL) {
		config_error(p, "unknown key '%.64s'", name);
		return;
	}
	if ((value = config_value(eq + 1, &why)) == NULL) {
		config_error(p, "%s: %s", k->k_name, why);
		return;
	}
	if (*value == '\0') {
		config_error(p, "%s: missing value", k->k_name);
		return;
	}
	idx = (size_t)(k - config_table);
	if (k->k_type != CONF_LISTEN && p->p_seen[idx] != 0) {
		config_error(p, "%s already set on line %u", k->k_name,
		    p->p_seen[idx]);
		return;
	}
	p->p_seen[idx] = p->p_line;
	config_set(p, cf, k, value);
}

/*
 * Parse a whole file's text. On success returns the config and sets
 * *errors to NULL; otherwise returns NULL and *errors holds every error,
 * one `PATH:LINE: message` per line.
 */
struct config *
config_parse(const char *path, const char *text, size_t len, char **errors)
{
	struct config_parse	 p;
	struct config		*cf;
	const char		*s, *nl, *end = text + len;
	char			*line;
	size_t			 i, n;

	*errors = NULL;
	memset(&p, 0, sizeof p);
	p.p_path = path;

	if ((cf = calloc(1, sizeof *cf)) == NULL ||
	    (cf->cf_path = strdup(path)) == NULL) {
		free(cf);
		*errors = strdup("out of memory\n");
		return (NULL);
	}
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_set_default(cf, &config_table[i]) == -1) {
			config_free(cf);
			*errors = strdup("out of memory\n");
			return (NULL);
		}
	}

	for (s = text; s < end; s = nl + 1) {
		p.p_line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		n = (size_t)(nl - s);
		if (memchr(s, '\0', n) != NULL) {
			config_error(&p, "NUL byte in line");
			continue;
		}
		if (n > CONF_MAX_LINE) {
			config_error(&p, "line longer than %d bytes",
			    CONF_MAX_LINE);
			continue;
		}
		if ((line = strndup(s, n)) == NULL) {
			config_error(&p, "out of memory");
			break;
		}
		config_line(&p, cf, line);
		free(line);
	}

	if (p.p_errors != 0) {
		*errors = p.p_msgs;
		config_free(cf);
		return (NULL);
	}
	free(p.p_msgs);
	return (cf);
}

/* Read and parse a file; errors as for config_parse(). */
struct config *
config_load(const char *path, char **errors)
{
	FILE		*f;
	char		*buf;
	size_t		 len;
	struct config	*cf;
	int		 saved;

	*errors = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		if (asprintf(errors, "%s: %s\n", path, strerror(errno)) == -1)
			*errors = NULL;
		return (NULL);
	}
	if ((buf = malloc(CONF_MAX_FILE + 1)) == NULL) {
		fclose(f);
		*errors = strdup("out of memory\n");
		return (NULL);
	}
	len = fread(buf, 1, CONF_MAX_FILE + 1, f);
	if (ferror(f)) {
		saved = errno;
		if (asprintf(errors, "%s: %s\n", path, strerror(saved)) == -1)
			*errors = NULL;
		free(buf);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	if (len > CONF_MAX_FILE) {
		if (asprintf(errors, "%s: larger than %d bytes\n", path,
		    CONF_MAX_FILE) == -1)
			*errors = NULL;
		free(buf);
		return (NULL);
	}
	cf = config_parse(path, buf, len, errors);
	free(buf);
	return (cf);
}

/* Whether two configs listen on the same addresses in the same order. */
int
config_same_listen(const struct config *a, const struct config *b)
{
	size_t	i;

	if (a->cf_nlisten != b->cf_nlisten)
		return (0);
	for (i = 0; i < a->cf_nlisten; i++) {
		if (!config_same_addr(&a->cf_listen[i], &b->cf_listen[i]))
			return (0);
	}
	return (1);
}

/* Whether two configs name the same metrics_listen (or both none). */
int
config_same_metrics(const struct config *a, const struct config *b)
{
	if (a->cf_metrics == NULL || b->cf_metrics == NULL)
		return (a->cf_metrics == b->cf_metrics);
	return (config_same_addr(a->cf_metrics, b->cf_metrics));
}

/* Make dst's metrics_listen src's (a deep copy). */
int
config_copy_metrics(struct config *dst, const struct config *src)
{
	struct listen_addr	*la = NULL;

	if (src->cf_metrics != NULL) {
		if ((la = malloc(sizeof *la)) == NULL)
			return (-1);
		if (config_dup_addr(la, src->cf_metrics) == -1) {
			free(la);
			return (-1);
		}
	}
	config_free_addr(dst->cf_metrics);
	dst->cf_metrics = la;
	return (0);
}

/* Make dst listen where src does (a deep copy of src's addresses). */
int
config_copy_listen(struct config *dst, const struct config *src)
{
	struct listen_addr	*nl;
	size_t			 i;

	if ((nl = calloc(src->cf_nlisten, sizeof *nl)) == NULL)
		return (-1);
	for (i = 0; i < src->cf_nlisten; i++) {
		if (config_dup_addr(&nl[i], &src->cf_listen[i]) == -1) {
			while (i-- > 0)
				free(nl[i].la_text);
			free(nl);
			return (-1);
		}
	}
	for (i = 0; i < dst->cf_nlisten; i++)
		free(dst->cf_listen[i].la_text);
	free(dst->cf_listen);
	dst->cf_listen = nl;
	dst->cf_nlisten = src->cf_nlisten;
	return (0);
}

/* Whether two configs name the same `user` (or both none). */
int
config_same_user(const struct config *a, const struct config *b)
{
	if (a->cf_user == NULL || b->cf_user == NULL)
		return (a->cf_user == b->cf_user);
	return (strcmp(a->cf_user, b->cf_user) == 0 &&
	    a->cf_uid == b->cf_uid && a->cf_gid == b->cf_gid);
}

/* Make dst's `user` src's (a deep copy). */
int
config_copy_user(struct config *dst, const struct config *src)
{
	char	*user = NULL;

	if (src->cf_user != NULL && (user = strdup(src->cf_user)) == NULL)
		return (-1);
	free(dst->cf_user);
	dst->cf_user = user;
	dst->cf_uid = src->cf_uid;
	dst->cf_gid = src->cf_gid;
	dst->cf_user_line = src->cf_user_line;
	return (0);
}

/* Print the key table for -h. */
void
config_usage(FILE *f)
{
	size_t	i;

	fprintf(f, "Configuration keys:\n");
	for (i = 0; i < CONFIG_NKEYS; i++) {
		fprintf(f, "  %-18s %-15s %s\n", config_table[i].k_name,
		    config_table[i].k_default, config_table[i].k_help);
	}
}
