/* SPDX-License-Identifier: ISC */
/*
 * Values of the configuration: parsing durations, sizes, numbers, worker
 * counts and listen addresses (pure functions of their text, for
 * config_keys.c's setters and the unit tests), and comparing and copying
 * the values a reload cannot change (addresses, user).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hellod.h"

/* Fill *cause with a message (config_cause() is this, then -1). */
void
config_causef(char **cause, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;		/* the caller says out of memory */
	va_end(ap);
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

/* Parse a plain number. */
int
config_parse_uint(const char *s, uint64_t *n)
{
	return (config_parse_units(s, config_plain_units, n));
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
 * Split `host:port` or `[host]:port` into host (a buffer of hsize) and
 * the port's text; *v6 says which form it was.
 */
static int
config_listen_split(const char *s, char *host, size_t hsize,
    const char **port, int *v6, char **cause)
{
	const char	*end;
	size_t		 hlen;

	*v6 = (*s == '[');
	if (*v6) {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return (config_cause(cause, "bad address '%s': "
			    "expected [IPv6]:port", s));
		hlen = (size_t)(end - s - 1);
		*port = end + 2;
		s++;
	} else {
		if ((end = strrchr(s, ':')) == NULL)
			return (config_cause(cause, "bad address '%s': "
			    "expected address:port", s));
		hlen = (size_t)(end - s);
		*port = end + 1;
	}
	if (hlen == 0 || hlen >= hsize)
		return (config_cause(cause, "bad address '%s'", s));
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	return (0);
}

/* Parse a port number, 0 to 65535. */
static int
config_listen_port(const char *port, uint16_t *out, char **cause)
{
	unsigned long	 pnum;
	char		*ep;

	if (*port < '0' || *port > '9')
		return (config_cause(cause, "bad port '%s'", port));
	errno = 0;
	pnum = strtoul(port, &ep, 10);
	if (*ep != '\0')
		return (config_cause(cause, "bad port '%s'", port));
	if (errno == ERANGE || pnum > 65535)
		return (config_cause(cause, "port %s out of range (0 to "
		    "65535)", port));
	*out = (uint16_t)pnum;
	return (0);
}

/*
 * Parse `127.0.0.1:7878`, `[::1]:7878` or `0.0.0.0:8080`. Host names are
 * refused: a daemon should not depend on the resolver to start.
 */
int
config_parse_listen(const char *s, struct listen_addr *la, char **cause)
{
	char			 host[INET6_ADDRSTRLEN + 1];
	const char		*port = NULL;
	uint16_t		 pnum;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	int			 v6;

	memset(la, 0, sizeof *la);
	if (config_listen_split(s, host, sizeof host, &port, &v6,
	    cause) == -1 || config_listen_port(port, &pnum, cause) == -1)
		return (-1);
	if (v6) {
		sin6 = (struct sockaddr_in6 *)&la->la_ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return (config_cause(cause, "bad IPv6 address '%s'",
			    host));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(pnum);
		la->la_len = sizeof *sin6;
	} else {
		sin = (struct sockaddr_in *)&la->la_ss;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return (config_cause(cause, "bad IPv4 address '%s' "
			    "(host names are not accepted)", host));
		sin->sin_family = AF_INET;
		sin->sin_port = htons(pnum);
		la->la_len = sizeof *sin;
	}
	if ((la->la_text = strdup(s)) == NULL) {
		*cause = strdup("out of memory");
		return (-1);
	}
	return (0);
}

/* Whether two parsed addresses are the same (the text may differ). */
int
config_same_addr(const struct listen_addr *a, const struct listen_addr *b)
{
	return (a->la_len == b->la_len &&
	    memcmp(&a->la_ss, &b->la_ss, a->la_len) == 0);
}

/* Free a single address (metrics_listen); NULL is fine. */
void
config_free_addr(struct listen_addr *la)
{
	if (la != NULL) {
		free(la->la_text);
		free(la);
	}
}

/* Make dst a deep copy of src. Returns -1 if out of memory. */
static int
config_dup_addr(struct listen_addr *dst, const struct listen_addr *src)
{
	*dst = *src;
	return ((dst->la_text = strdup(src->la_text)) == NULL ? -1 : 0);
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

/*
 * Where a key of cf was set, for a message about its value: "FILE:LINE",
 * or "-o key=value" for a command-line override (line 0).
 */
const char *
config_where(const struct config *cf, unsigned int line, const char *key,
    const char *value, char *buf, size_t size)
{
	if (line == 0)
		(void)snprintf(buf, size, "-o %s=%s", key, value);
	else
		(void)snprintf(buf, size, "%s:%u", cf->cf_path, line);
	return (buf);
}
