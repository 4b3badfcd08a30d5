/* SPDX-License-Identifier: ISC */
/*
 * Fuzz harness for the config parser (server/config.c), driven as the
 * unit tests drive it: config_parse() on the text of a file, here named
 * FUZZ_CONFIG_PATH.
 *
 * Either a config or errors, never both. Errors are one
 * `PATH:LINE: message` per line, LINE within the input's lines and in
 * order, messages free of control characters but tabs (they end up in the
 * log and in systemd's status line). A config holds every key within its
 * bounds. Parsing twice gives the same, and so does the text with a
 * comment line added at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define FUZZ_CONFIG_PATH	"/fuzz/conf.d/hellod.conf"
#define FUZZ_CONFIG_TAIL	"\n# the end\n"

/* The number of lines config_parse() counts in text. */
static unsigned long
fuzz_config_lines(const uint8_t *data, size_t size)
{
	unsigned long	n = 0;
	size_t		i;

	for (i = 0; i < size; i++) {
		if (data[i] == '\n')
			n++;
	}
	if (size > 0 && data[size - 1] != '\n')
		n++;
	return (n);
}

/* Every error line is PATH:LINE: message, LINE in 1..nlines, in order. */
static void
fuzz_config_check_errors(const char *errors, unsigned long nlines)
{
	const char	*p = errors, *eol, *m;
	size_t		 plen = strlen(FUZZ_CONFIG_PATH);
	unsigned long	 line, last = 0;
	char		*end;

	FUZZ_CHECK(*p != '\0', "empty errors");
	while (*p != '\0') {
		eol = strchr(p, '\n');
		FUZZ_CHECK(eol != NULL, "error without a newline: '%s'", p);
		FUZZ_CHECK(strncmp(p, FUZZ_CONFIG_PATH ":", plen + 1) == 0,
		    "error without the path: '%.*s'", (int)(eol - p), p);
		p += plen + 1;
		FUZZ_CHECK(*p >= '1' && *p <= '9', "error without a line: "
		    "'%.*s'", (int)(eol - p), p);
		line = strtoul(p, &end, 10);
		FUZZ_CHECK(end[0] == ':' && end[1] == ' ' && end + 2 < eol,
		    "error without a message: '%.*s'", (int)(eol - p), p);
		FUZZ_CHECK(line >= 1 && line <= nlines, "line %lu of %lu",
		    line, nlines);
		FUZZ_CHECK(line >= last, "line %lu after line %lu", line,
		    last);
		last = line;
		for (m = end + 2; m < eol; m++) {
			FUZZ_CHECK(((unsigned char)*m >= 0x20 || *m == '\t') &&
			    *m != 0x7f,
			    "control character %#x in '%.*s'",
			    (unsigned char)*m, (int)(eol - p), p);
		}
		p = eol + 1;
	}
}

/* Every value of a config is one its key allows. */
static void
fuzz_config_check(const struct config *cf)
{
	const struct config_key	*keys, *k;
	size_t			 nkeys, i, j;
	uint64_t		 v;

	FUZZ_CHECK(strcmp(cf->cf_path, FUZZ_CONFIG_PATH) == 0, "path '%s'",
	    cf->cf_path);
	FUZZ_CHECK(cf->cf_root != NULL && cf->cf_root[0] == '/',
	    "root '%s' not absolute", cf->cf_root != NULL ? cf->cf_root :
	    "(null)");
	FUZZ_CHECK(cf->cf_nlisten >= 1, "no listen address");
	for (i = 0; i < cf->cf_nlisten; i++) {
		FUZZ_CHECK(cf->cf_listen[i].la_text != NULL &&
		    (cf->cf_listen[i].la_ss.ss_family == AF_INET ||
		    cf->cf_listen[i].la_ss.ss_family == AF_INET6),
		    "listen %zu", i);
		for (j = 0; j < i; j++) {
			FUZZ_CHECK(cf->cf_listen[i].la_len !=
			    cf->cf_listen[j].la_len ||
			    memcmp(&cf->cf_listen[i].la_ss,
			    &cf->cf_listen[j].la_ss,
			    cf->cf_listen[i].la_len) != 0,
			    "listen %s twice", cf->cf_listen[i].la_text);
		}
	}

	keys = config_keys(&nkeys);
	for (i = 0; i < nkeys; i++) {
		k = &keys[i];
		v = *(const uint64_t *)(const void *)((const char *)cf +
		    k->k_offset);
		switch (k->k_type) {
		case CONF_DURATION:
		case CONF_SIZE:
		case CONF_UINT:
			FUZZ_CHECK(v >= k->k_min && v <= k->k_max,
			    "%s = %llu", k->k_name, (unsigned long long)v);
			break;
		case CONF_BOOL:
			FUZZ_CHECK(v <= 1, "%s = %llu", k->k_name,
			    (unsigned long long)v);
			break;
		case CONF_LOGLEVEL:
			FUZZ_CHECK(v <= LOG_LEVEL_DEBUG, "%s = %llu",
			    k->k_name, (unsigned long long)v);
			break;
		case CONF_WORKERS:
			FUZZ_CHECK(v <= HELLOD_MAX_WORKERS, "%s = %llu",
			    k->k_name, (unsigned long long)v);
			break;
		case CONF_USER:
			FUZZ_CHECK(cf->cf_user == NULL || (cf->cf_user[0] !=
			    '\0' && cf->cf_user_line > 0), "user '%s' line %u",
			    cf->cf_user, cf->cf_user_line);
			break;
		case CONF_ADDR:
			FUZZ_CHECK(cf->cf_metrics == NULL ||
			    (cf->cf_metrics->la_text != NULL &&
			    cf->cf_metrics->la_len > 0), "metrics_listen");
			break;
		case CONF_ACCESSLOG:
			FUZZ_CHECK(v <= ACCESS_LOG_FILE &&
			    (v == ACCESS_LOG_FILE) ==
			    (cf->cf_access_path != NULL) &&
			    (cf->cf_access_path == NULL ||
			    cf->cf_access_path[0] == '/'), "%s = %llu '%s'",
			    k->k_name, (unsigned long long)v,
			    cf->cf_access_path != NULL ? cf->cf_access_path :
			    "(null)");
			break;
		case CONF_LISTEN:
		case CONF_PATH:
			break;
		}
	}
}

/* Parse text; return the config or the errors, as a string to compare. */
static char *
fuzz_config_parse(const uint8_t *data, size_t size)
{
	struct config	*cf;
	char		*errors = NULL, *out;

	cf = config_parse(FUZZ_CONFIG_PATH, (const char *)data, size, &errors);
	FUZZ_CHECK((cf == NULL) != (errors == NULL), "config %p, errors %p",
	    (void *)cf, (void *)errors);
	if (cf == NULL) {
		fuzz_config_check_errors(errors, fuzz_config_lines(data,
		    size));
		return (errors);
	}
	fuzz_config_check(cf);
	if (asprintf(&out, "ok sleep=%llu header=%llu keepalive=%llu "
	    "write=%llu shutdown=%llu max=%llu head=%llu log=%llu access=%llu "
	    "workers=%llu root=%s listen=%s/%zu user=%s", (unsigned long long)
	    cf->cf_sleep, (unsigned long long)cf->cf_header_timeout,
	    (unsigned long long)cf->cf_keepalive_timeout,
	    (unsigned long long)cf->cf_write_timeout,
	    (unsigned long long)cf->cf_shutdown_timeout,
	    (unsigned long long)cf->cf_max_connections,
	    (unsigned long long)cf->cf_max_header_size,
	    (unsigned long long)cf->cf_log_level,
	    (unsigned long long)cf->cf_access_log,
	    (unsigned long long)cf->cf_workers, cf->cf_root,
	    cf->cf_listen[0].la_text, cf->cf_nlisten,
	    cf->cf_user != NULL ? cf->cf_user : "-") == -1)
		abort();
	config_free(cf);
	return (out);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*a, *b, *c;
	uint8_t	*more;
	size_t	 tail = strlen(FUZZ_CONFIG_TAIL);

	a = fuzz_config_parse(data, size);
	b = fuzz_config_parse(data, size);
	FUZZ_CHECK(strcmp(a, b) == 0, "two parses differ:\n%s\n%s", a, b);

	/* A comment line at the end changes nothing. */
	if ((more = malloc(size + tail)) == NULL)
		abort();
	memcpy(more, data, size);
	memcpy(more + size, FUZZ_CONFIG_TAIL, tail);
	c = fuzz_config_parse(more, size + tail);
	FUZZ_CHECK(strcmp(a, c) == 0, "a comment at the end changes:\n%s\n%s",
	    a, c);
	free(more);
	free(a);
	free(b);
	free(c);
	return (0);
}
