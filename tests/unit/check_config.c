/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for config.c: the key table, value parsers (durations,
 * sizes, listen addresses), the file parser with its PATH:LINE: errors,
 * and config_load().
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "unit.h"

#define TPATH	"/etc/hellod/test.conf"

/* Stands for "not touched" when checking that errors is set to NULL. */
static char	 untouched[] = "untouched";

/* Parse text as if read from TPATH. */
static struct config *
parse(const char *text, char **errors)
{
	*errors = untouched;
	return (config_parse(TPATH, text, strlen(text), errors));
}

/* Parse text that must be valid. */
static struct config *
parse_ok(const char *text)
{
	struct config	*cf;
	char		*errors;

	cf = parse(text, &errors);
	ck_assert_msg(cf != NULL, "config rejected:\n%s\nerrors:\n%s", text,
	    errors == NULL || errors == untouched ? "(none)" : errors);
	ck_assert_msg(errors == NULL, "errors not set to NULL on success");
	return (cf);
}

/* Parse text that must be invalid; return the malloc'd errors. */
static char *
parse_fail(const char *text)
{
	struct config	*cf;
	char		*errors;

	cf = parse(text, &errors);
	ck_assert_msg(cf == NULL, "config accepted:\n%s", text);
	ck_assert_msg(errors != NULL && errors != untouched,
	    "no errors for:\n%s", text);
	ck_assert_msg(*errors != '\0', "empty errors for:\n%s", text);
	return (errors);
}

/*
 * Is there an error line starting with "path:line:" that contains kw1 or
 * kw2 (kw2 may be NULL; kw1 NULL matches any message)?
 */
static int
has_error_in(const char *errors, const char *path, unsigned int line,
    const char *kw1, const char *kw2)
{
	char		 prefix[256];
	const char	*p, *eol;
	char		*copy;
	size_t		 len;
	int		 found = 0;

	snprintf(prefix, sizeof prefix, "%s:%u:", path, line);
	for (p = errors; *p != '\0' && !found; p = eol) {
		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p);
		len = eol - p;
		if (*eol == '\n')
			eol++;
		if (len < strlen(prefix) ||
		    strncmp(p, prefix, strlen(prefix)) != 0)
			continue;
		if ((copy = strndup(p, len)) == NULL)
			ck_abort_msg("strndup failed");
		if (kw1 == NULL || strstr(copy, kw1) != NULL ||
		    (kw2 != NULL && strstr(copy, kw2) != NULL))
			found = 1;
		free(copy);
	}
	return (found);
}

static int
has_error(const char *errors, unsigned int line, const char *kw1,
    const char *kw2)
{
	return (has_error_in(errors, TPATH, line, kw1, kw2));
}

/* Number of lines in errors; every one must end with a newline. */
static size_t
count_lines(const char *errors)
{
	size_t	 n = 0;

	for (; *errors != '\0'; errors++) {
		if (*errors == '\n')
			n++;
	}
	return (n);
}

/* Check a file with one bad line (line 3) gives that error, and only it. */
static void
check_one_error(const char *line, const char *kw1, const char *kw2)
{
	char	 text[512];
	char	*errors;

	snprintf(text, sizeof text, "# test\n\n%s\n# end\n", line);
	errors = parse_fail(text);
	ck_assert_msg(has_error(errors, 3, kw1, kw2),
	    "line \"%s\": want " TPATH ":3: with \"%s\"%s%s, got:\n%s", line,
	    kw1 == NULL ? "" : kw1, kw2 == NULL ? "" : " or ", kw2 == NULL ?
	    "" : kw2, errors);
	ck_assert_msg(count_lines(errors) == 1,
	    "line \"%s\": want exactly one error line, got:\n%s", line, errors);
	ck_assert_msg(errors[strlen(errors) - 1] == '\n',
	    "errors must end with a newline:\n%s", errors);
	free(errors);
}

static const struct config_key *
find_key(const char *name)
{
	const struct config_key	*keys;
	size_t			 n, i;

	keys = config_keys(&n);
	for (i = 0; i < n; i++) {
		if (strcmp(keys[i].k_name, name) == 0)
			return (&keys[i]);
	}
	return (NULL);
}

static uint64_t
field(const struct config *cf, const struct config_key *k)
{
	uint64_t	 v;

	memcpy(&v, (const char *)cf + k->k_offset, sizeof v);
	return (v);
}

static void
check_inet(const struct listen_addr *la, const char *text, const char *addr,
    unsigned int port)
{
	const struct sockaddr_in	*sin;
	struct in_addr			 want;

	ck_assert_str_eq(la->la_text, text);
	ck_assert_int_eq(la->la_ss.ss_family, AF_INET);
	ck_assert_uint_eq(la->la_len, sizeof(struct sockaddr_in));
	sin = (const struct sockaddr_in *)&la->la_ss;
	ck_assert_int_eq(inet_pton(AF_INET, addr, &want), 1);
	ck_assert_uint_eq(sin->sin_addr.s_addr, want.s_addr);
	ck_assert_uint_eq(ntohs(sin->sin_port), port);
}

static void
check_inet6(const struct listen_addr *la, const char *text, const char *addr,
    unsigned int port)
{
	const struct sockaddr_in6	*sin6;
	struct in6_addr			 want;

	ck_assert_str_eq(la->la_text, text);
	ck_assert_int_eq(la->la_ss.ss_family, AF_INET6);
	ck_assert_uint_eq(la->la_len, sizeof(struct sockaddr_in6));
	sin6 = (const struct sockaddr_in6 *)&la->la_ss;
	ck_assert_int_eq(inet_pton(AF_INET6, addr, &want), 1);
	ck_assert(memcmp(&sin6->sin6_addr, &want, sizeof want) == 0);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), port);
}

/* Make a temporary directory; the caller removes it. */
static void
make_tmpdir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/check_config.XXXXXX");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f;

	ck_assert_msg((f = fopen(path, "w")) != NULL, "%s: %s", path,
	    strerror(errno));
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
}

/* Make dir/sub with the two page files in it. */
static void
make_pages(const char *dir, const char *sub)
{
	char	path[512];

	snprintf(path, sizeof path, "%s/%s", dir, sub);
	ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %s", path,
	    strerror(errno));
	snprintf(path, sizeof path, "%s/%s/hello.html", dir, sub);
	write_file(path, "<p>hello</p>\n");
	snprintf(path, sizeof path, "%s/%s/404.html", dir, sub);
	write_file(path, "<p>not found</p>\n");
}

/* rm -rf dir (a mkdtemp() one: no quote in its name). */
static void
remove_tree(const char *dir)
{
	char	cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A malloc'd, NULL-terminated copy of a list of strings, for -o lists. */
static char **
strv(const char *const *src)
{
	char	**v;
	size_t	  i, n = 0;

	while (src[n] != NULL)
		n++;
	ck_assert_ptr_nonnull(v = calloc(n + 1, sizeof *v));
	for (i = 0; i < n; i++)
		ck_assert_ptr_nonnull(v[i] = strdup(src[i]));
	return (v);
}

static void
strv_free(char **v)
{
	size_t	i;

	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Whether errors has exactly this line. */
static int
has_line(const char *errors, const char *line)
{
	const char	*p;
	size_t		 len = strlen(line);

	for (p = errors; (p = strstr(p, line)) != NULL; p++) {
		if ((p == errors || p[-1] == '\n') && p[len] == '\n')
			return (1);
	}
	return (0);
}

/* --- key table --- */

static const char *const all_keys[] = {
	"listen", "root", "sleep", "header_timeout", "keepalive_timeout",
	"write_timeout", "shutdown_timeout", "max_connections",
	"max_header_size", "log_level", "access_log", "workers", "user",
	"metrics_listen", "stall_warn",
};
#define NALL_KEYS	(sizeof all_keys / sizeof all_keys[0])

START_TEST(test_keys_table)
{
	const struct config_key	*keys;
	size_t			 n, i, j;

	keys = config_keys(&n);
	ck_assert_ptr_nonnull(keys);
	ck_assert_uint_eq(n, NALL_KEYS);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(keys[i].k_name);
		ck_assert_msg(keys[i].k_help != NULL && *keys[i].k_help != '\0',
		    "key %s has no help", keys[i].k_name);
		ck_assert_msg(keys[i].k_default != NULL &&
		    *keys[i].k_default != '\0', "key %s has no default",
		    keys[i].k_name);
		ck_assert_msg(keys[i].k_min <= keys[i].k_max ||
		    keys[i].k_type == CONF_LISTEN || keys[i].k_type ==
		    CONF_PATH || keys[i].k_type == CONF_LOGLEVEL ||
		    keys[i].k_type == CONF_BOOL, "key %s: min > max",
		    keys[i].k_name);
		for (j = 0; j < i; j++) {
			ck_assert_msg(strcmp(keys[i].k_name,
			    keys[j].k_name) != 0, "key %s twice",
			    keys[i].k_name);
		}
	}
	for (i = 0; i < NALL_KEYS; i++) {
		ck_assert_msg(find_key(all_keys[i]) != NULL, "key %s missing",
		    all_keys[i]);
	}
}
END_TEST

START_TEST(test_keys_types)
{
	ck_assert_int_eq(find_key("listen")->k_type, CONF_LISTEN);
	ck_assert_int_eq(find_key("root")->k_type, CONF_PATH);
	ck_assert_int_eq(find_key("sleep")->k_type, CONF_DURATION);
	ck_assert_int_eq(find_key("header_timeout")->k_type, CONF_DURATION);
	ck_assert_int_eq(find_key("keepalive_timeout")->k_type,
	    CONF_DURATION);
	ck_assert_int_eq(find_key("write_timeout")->k_type, CONF_DURATION);
	ck_assert_int_eq(find_key("shutdown_timeout")->k_type, CONF_DURATION);
	ck_assert_int_eq(find_key("max_connections")->k_type, CONF_UINT);
	ck_assert_int_eq(find_key("max_header_size")->k_type, CONF_SIZE);
	ck_assert_int_eq(find_key("log_level")->k_type, CONF_LOGLEVEL);
	ck_assert_int_eq(find_key("access_log")->k_type, CONF_ACCESSLOG);
	ck_assert_int_eq(find_key("workers")->k_type, CONF_WORKERS);
	ck_assert_int_eq(find_key("user")->k_type, CONF_USER);
	ck_assert_int_eq(find_key("metrics_listen")->k_type, CONF_ADDR);
	ck_assert_int_eq(find_key("stall_warn")->k_type, CONF_DURATION);
}
END_TEST

/* A file made of "name = default" for every key parses to the defaults. */
START_TEST(test_keys_defaults_roundtrip)
{
	const struct config_key	*keys;
	struct config		*def, *cf;
	char			*text, *p;
	size_t			 n, i, size = 1;

	keys = config_keys(&n);
	for (i = 0; i < n; i++)
		size += strlen(keys[i].k_name) + strlen(keys[i].k_default) + 4;
	ck_assert_ptr_nonnull(text = malloc(size));
	p = text;
	*p = '\0';
	for (i = 0; i < n; i++) {
		/* user's and metrics_listen's "-" say "not set"; it is no
		 * value to write. */
		if (keys[i].k_type == CONF_USER ||
		    keys[i].k_type == CONF_ADDR) {
			ck_assert_str_eq(keys[i].k_default, "-");
			continue;
		}
		p += sprintf(p, "%s = %s\n", keys[i].k_name, keys[i].k_default);
	}

	def = parse_ok("");
	cf = parse_ok(text);
	ck_assert_uint_eq(cf->cf_nlisten, def->cf_nlisten);
	ck_assert_str_eq(cf->cf_listen[0].la_text, def->cf_listen[0].la_text);
	ck_assert_str_eq(cf->cf_root, def->cf_root);
	ck_assert_ptr_null(cf->cf_user);
	ck_assert_ptr_null(def->cf_user);
	ck_assert_ptr_null(cf->cf_metrics);
	ck_assert_ptr_null(def->cf_metrics);
	for (i = 0; i < n; i++) {
		if (keys[i].k_type == CONF_LISTEN ||
		    keys[i].k_type == CONF_PATH || keys[i].k_type == CONF_USER ||
		    keys[i].k_type == CONF_ADDR)
			continue;
		ck_assert_msg(field(cf, &keys[i]) == field(def, &keys[i]),
		    "%s = %s gives %llu, default is %llu", keys[i].k_name,
		    keys[i].k_default,
		    (unsigned long long)field(cf, &keys[i]),
		    (unsigned long long)field(def, &keys[i]));
	}
	config_free(cf);
	config_free(def);
	free(text);
}
END_TEST

/* The table's k_offset points at the right struct config field. */
START_TEST(test_keys_offsets)
{
	struct config	*cf;

	cf = parse_ok("sleep = 1ms\nheader_timeout = 2ms\n"
	    "keepalive_timeout = 3ms\nwrite_timeout = 4ms\n"
	    "shutdown_timeout = 5ms\nmax_connections = 6\n"
	    "max_header_size = 700\nlog_level = debug\naccess_log = off\n");
	ck_assert_uint_eq(field(cf, find_key("sleep")), 1);
	ck_assert_uint_eq(field(cf, find_key("header_timeout")), 2);
	ck_assert_uint_eq(field(cf, find_key("keepalive_timeout")), 3);
	ck_assert_uint_eq(field(cf, find_key("write_timeout")), 4);
	ck_assert_uint_eq(field(cf, find_key("shutdown_timeout")), 5);
	ck_assert_uint_eq(field(cf, find_key("max_connections")), 6);
	ck_assert_uint_eq(field(cf, find_key("max_header_size")), 700);
	ck_assert_uint_eq(field(cf, find_key("log_level")), LOG_LEVEL_DEBUG);
	ck_assert_uint_eq(field(cf, find_key("access_log")), 0);
	config_free(cf);
}
END_TEST

START_TEST(test_usage_lists_keys)
{
	char	*buf = NULL;
	size_t	 len = 0, i;
	FILE	*f;

	ck_assert_ptr_nonnull(f = open_memstream(&buf, &len));
	config_usage(f);
	ck_assert_int_eq(fclose(f), 0);
	for (i = 0; i < NALL_KEYS; i++) {
		ck_assert_msg(strstr(buf, all_keys[i]) != NULL,
		    "config_usage() does not mention %s:\n%s", all_keys[i],
		    buf);
	}
	free(buf);
}
END_TEST

/*
 * In -h, every help starts in one column, at least two blanks after its
 * default (root's default is a configured path).
 */
START_TEST(test_usage_columns)
{
	const struct config_key	*keys;
	char			*buf = NULL, *line, *help, *def;
	size_t			 len = 0, i, n, col = 0;
	FILE			*f;

	ck_assert_ptr_nonnull(f = open_memstream(&buf, &len));
	config_usage(f);
	ck_assert_int_eq(fclose(f), 0);
	keys = config_keys(&n);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(line = strstr(buf, keys[i].k_name));
		ck_assert_ptr_nonnull(help = strstr(line, keys[i].k_help));
		ck_assert_ptr_nonnull(def = strstr(line + strlen(
		    keys[i].k_name), keys[i].k_default));
		ck_assert_msg(def + strlen(keys[i].k_default) + 2 <= help,
		    "%s: default runs into the help:\n%s", keys[i].k_name,
		    buf);
		ck_assert_msg(help[-1] == ' ' && help[-2] == ' ', "%s", buf);
		if (i == 0)
			col = (size_t)(help - line);
		ck_assert_msg((size_t)(help - line) == col,
		    "%s: help not in the column of the others:\n%s",
		    keys[i].k_name, buf);
	}
	free(buf);
}
END_TEST

START_TEST(test_free_null)
{
	config_free(NULL);
}
END_TEST

/* --- value parsers --- */

static const struct {
	const char	*text;
	uint64_t	 ms;
} durations_ok[] = {
	{ "500ms", 500 },
	{ "5s", 5000 },
	{ "2m", 120000 },
	{ "3", 3000 },
	{ "0", 0 },
	{ "0ms", 0 },
	{ "0s", 0 },
	{ "1ms", 1 },
	{ "3600s", 3600000 },
	{ "60m", 3600000 },
	{ "10", 10000 },
	{ "1000ms", 1000 },
};

START_TEST(test_duration_ok)
{
	uint64_t	 v = 12345;

	ck_assert_msg(config_parse_duration(durations_ok[_i].text, &v) == 0,
	    "duration \"%s\" rejected", durations_ok[_i].text);
	ck_assert_msg(v == durations_ok[_i].ms, "duration \"%s\" = %llu, "
	    "want %llu", durations_ok[_i].text, (unsigned long long)v,
	    (unsigned long long)durations_ok[_i].ms);
}
END_TEST

static const char *const durations_bad[] = {
	"5x", "", "-1", "1.5s", " ", "s", "ms", "m", "5ss", "5sm", "x5s",
	"-5s", "5h",
	"99999999999999999999999",		/* overflows uint64_t */
	"18446744073709551616ms",		/* 2^64 */
	"18446744073709551615s",		/* * 1000 overflows */
	"307445734561825861m",			/* * 60000 overflows */
	"18446744073709551615",			/* bare seconds overflow */
};

START_TEST(test_duration_bad)
{
	uint64_t	 v;

	ck_assert_msg(config_parse_duration(durations_bad[_i], &v) == -1,
	    "duration \"%s\" accepted", durations_bad[_i]);
}
END_TEST

static const struct {
	const char	*text;
	uint64_t	 bytes;
} sizes_ok[] = {
	{ "8KiB", 8192 },
	{ "8K", 8192 },
	{ "1MiB", 1048576 },
	{ "1M", 1048576 },
	{ "512B", 512 },
	{ "4096", 4096 },
	{ "0", 0 },
	{ "256B", 256 },
	{ "1K", 1024 },
	{ "1024KiB", 1048576 },
	{ "3M", 3145728 },
};

START_TEST(test_size_ok)
{
	uint64_t	 v = 12345;

	ck_assert_msg(config_parse_size(sizes_ok[_i].text, &v) == 0,
	    "size \"%s\" rejected", sizes_ok[_i].text);
	ck_assert_msg(v == sizes_ok[_i].bytes, "size \"%s\" = %llu, "
	    "want %llu", sizes_ok[_i].text, (unsigned long long)v,
	    (unsigned long long)sizes_ok[_i].bytes);
}
END_TEST

static const char *const sizes_bad[] = {
	"8X", "", "-1", "1.5K", " ", "B", "K", "KiB", "MiB", "8KB",
	"8Ki", "x8", "-8K", "8G",
	"99999999999999999999",			/* overflows uint64_t */
	"18446744073709551616B",		/* 2^64 */
	"18446744073709551615K",		/* * 1024 overflows */
	"17592186044416M",			/* 2^44 * 2^20 = 2^64 */
};

START_TEST(test_size_bad)
{
	uint64_t	 v;

	ck_assert_msg(config_parse_size(sizes_bad[_i], &v) == -1,
	    "size \"%s\" accepted", sizes_bad[_i]);
}
END_TEST

START_TEST(test_listen_parse_ok)
{
	struct listen_addr	 la;
	char			*cause = NULL;

	memset(&la, 0, sizeof la);
	ck_assert_int_eq(config_parse_listen("127.0.0.1:7878", &la, &cause),
	    0);
	check_inet(&la, "127.0.0.1:7878", "127.0.0.1", 7878);
	free(la.la_text);

	memset(&la, 0, sizeof la);
	ck_assert_int_eq(config_parse_listen("0.0.0.0:8080", &la, &cause), 0);
	check_inet(&la, "0.0.0.0:8080", "0.0.0.0", 8080);
	free(la.la_text);

	memset(&la, 0, sizeof la);
	ck_assert_int_eq(config_parse_listen("[::1]:7878", &la, &cause), 0);
	check_inet6(&la, "[::1]:7878", "::1", 7878);
	free(la.la_text);

	memset(&la, 0, sizeof la);
	ck_assert_int_eq(config_parse_listen("[::]:0", &la, &cause), 0);
	check_inet6(&la, "[::]:0", "::", 0);
	free(la.la_text);

	memset(&la, 0, sizeof la);
	ck_assert_int_eq(config_parse_listen("10.1.2.3:0", &la, &cause), 0);
	check_inet(&la, "10.1.2.3:0", "10.1.2.3", 0);
	free(la.la_text);

	memset(&la, 0, sizeof la);
	ck_assert_int_eq(config_parse_listen("127.0.0.1:65535", &la, &cause),
	    0);
	check_inet(&la, "127.0.0.1:65535", "127.0.0.1", 65535);
	free(la.la_text);

	memset(&la, 0, sizeof la);
	ck_assert_int_eq(config_parse_listen("[fe80::1:2]:1", &la, &cause), 0);
	check_inet6(&la, "[fe80::1:2]:1", "fe80::1:2", 1);
	free(la.la_text);

	ck_assert_ptr_null(cause);
}
END_TEST

static const struct {
	const char	*text;
	const char	*kw1;		/* NULL: any message */
	const char	*kw2;
} listens_bad[] = {
	{ "127.0.0.1:65536", "port", NULL },
	{ "127.0.0.1:99999999999999999999", "port", NULL },
	{ "127.0.0.1:-1", "port", NULL },
	{ "127.0.0.1:80x", "port", NULL },
	{ "[::1]:65536", "port", NULL },
	{ "localhost:7878", "address", NULL },
	{ "example.com:80", "address", NULL },
	{ "256.0.0.1:80", "address", NULL },
	{ "1.2.3:80", "address", NULL },
	{ "[::g]:80", "address", NULL },
	{ "7878", NULL, NULL },
	{ "127.0.0.1", NULL, NULL },
	{ "127.0.0.1:", NULL, NULL },
	{ "[::1]", NULL, NULL },
	{ "[::1]7878", NULL, NULL },
	{ ":7878", NULL, NULL },
	{ "", NULL, NULL },
};

START_TEST(test_listen_parse_bad)
{
	struct listen_addr	 la;
	char			*cause = NULL;
	const char		*kw1 = listens_bad[_i].kw1;

	memset(&la, 0, sizeof la);
	ck_assert_msg(config_parse_listen(listens_bad[_i].text, &la,
	    &cause) == -1, "listen \"%s\" accepted", listens_bad[_i].text);
	ck_assert_msg(cause != NULL && *cause != '\0',
	    "listen \"%s\": no cause", listens_bad[_i].text);
	if (kw1 != NULL) {
		ck_assert_msg(strstr(cause, kw1) != NULL,
		    "listen \"%s\": cause \"%s\" lacks \"%s\"",
		    listens_bad[_i].text, cause, kw1);
	}
	free(cause);
}
END_TEST

/* --- the file parser --- */

START_TEST(test_parse_defaults)
{
	struct config	*cf;

	cf = parse_ok("");
	ck_assert_str_eq(cf->cf_path, TPATH);
	ck_assert_uint_eq(cf->cf_nlisten, 1);
	check_inet(&cf->cf_listen[0], "127.0.0.1:7878", "127.0.0.1", 7878);
	ck_assert_str_eq(cf->cf_root, find_key("root")->k_default);
	ck_assert_msg(cf->cf_root[0] == '/', "default root %s not absolute",
	    cf->cf_root);
	ck_assert_uint_eq(cf->cf_sleep, 5000);
	ck_assert_uint_eq(cf->cf_header_timeout, 10000);
	ck_assert_uint_eq(cf->cf_keepalive_timeout, 5000);
	ck_assert_uint_eq(cf->cf_write_timeout, 10000);
	ck_assert_uint_eq(cf->cf_shutdown_timeout, 10000);
	ck_assert_uint_eq(cf->cf_max_connections, 10000);
	ck_assert_uint_eq(cf->cf_max_header_size, 8192);
	ck_assert_uint_eq(cf->cf_log_level, LOG_LEVEL_INFO);
	ck_assert_uint_eq(cf->cf_access_log, 1);
	ck_assert_ptr_null(cf->cf_user);
	config_free(cf);
}
END_TEST

START_TEST(test_parse_comments_only)
{
	struct config	*cf;

	cf = parse_ok("# a comment\n\n   \n\t\n#sleep = 1s\n  # indented\n");
	ck_assert_uint_eq(cf->cf_sleep, 5000);
	ck_assert_uint_eq(cf->cf_nlisten, 1);
	config_free(cf);
}
END_TEST

START_TEST(test_parse_every_key)
{
	struct config	*cf;

	cf = parse_ok(
	    "listen = 0.0.0.0:8080\n"
	    "root = /srv/hellod\n"
	    "sleep = 250ms\n"
	    "header_timeout = 2s\n"
	    "keepalive_timeout = 0\n"
	    "write_timeout = 1m\n"
	    "shutdown_timeout = 7\n"
	    "max_connections = 42\n"
	    "max_header_size = 16KiB\n"
	    "log_level = debug\n"
	    "access_log = off\n");
	ck_assert_uint_eq(cf->cf_nlisten, 1);
	check_inet(&cf->cf_listen[0], "0.0.0.0:8080", "0.0.0.0", 8080);
	ck_assert_str_eq(cf->cf_root, "/srv/hellod");
	ck_assert_uint_eq(cf->cf_sleep, 250);
	ck_assert_uint_eq(cf->cf_header_timeout, 2000);
	ck_assert_uint_eq(cf->cf_keepalive_timeout, 0);
	ck_assert_uint_eq(cf->cf_write_timeout, 60000);
	ck_assert_uint_eq(cf->cf_shutdown_timeout, 7000);
	ck_assert_uint_eq(cf->cf_max_connections, 42);
	ck_assert_uint_eq(cf->cf_max_header_size, 16384);
	ck_assert_uint_eq(cf->cf_log_level, LOG_LEVEL_DEBUG);
	ck_assert_uint_eq(cf->cf_access_log, 0);
	config_free(cf);
}
END_TEST

/* `user` is looked up: its uid and primary gid, and the line it is on. */
START_TEST(test_parse_user)
{
	struct config	*cf;
	char		*errors;

	cf = parse_ok("sleep = 1s\nuser = root\n");
	ck_assert_str_eq(cf->cf_user, "root");
	ck_assert_uint_eq(cf->cf_uid, 0);
	ck_assert_uint_eq(cf->cf_gid, 0);
	ck_assert_uint_eq(cf->cf_user_line, 2);
	config_free(cf);

	cf = parse_ok("user = \"nobody\"  # quoted\n");
	ck_assert_str_eq(cf->cf_user, "nobody");
	ck_assert_uint_eq(cf->cf_uid, 65534);
	ck_assert_uint_ne(cf->cf_gid, 0);
	config_free(cf);

	errors = parse_fail("sleep = 1s\n\nuser = no-such-user-hellod\n"
	    "header_timeout = 2x\n");
	ck_assert_msg(has_error(errors, 3, "unknown user "
	    "'no-such-user-hellod'", NULL), "%s", errors);
	ck_assert_msg(has_error(errors, 4, "duration", NULL), "%s", errors);
	ck_assert_uint_eq(count_lines(errors), 2);
	free(errors);

	/* Names only: "-" (what -h shows for "not set") and uids are not. */
	errors = parse_fail("user = -\n");
	ck_assert_msg(has_error(errors, 1, "unknown user", NULL), "%s", errors);
	free(errors);
	errors = parse_fail("user = 0\n");
	ck_assert_msg(has_error(errors, 1, "unknown user", NULL), "%s", errors);
	free(errors);
}
END_TEST

/* metrics_listen: one address, off by default, errors at its line. */
START_TEST(test_parse_metrics)
{
	struct config	*cf;
	char		*errors;

	cf = parse_ok("sleep = 1s\nmetrics_listen = 127.0.0.1:9178\n"
	    "stall_warn = 250ms\n");
	ck_assert_ptr_nonnull(cf->cf_metrics);
	check_inet(cf->cf_metrics, "127.0.0.1:9178", "127.0.0.1", 9178);
	ck_assert_uint_eq(cf->cf_stall_warn, 250);
	config_free(cf);

	cf = parse_ok("metrics_listen = [::1]:0\nstall_warn = 0\n");
	ck_assert_ptr_nonnull(cf->cf_metrics);
	ck_assert_int_eq(cf->cf_metrics->la_ss.ss_family, AF_INET6);
	ck_assert_uint_eq(cf->cf_stall_warn, 0);
	config_free(cf);

	cf = parse_ok("");
	ck_assert_ptr_null(cf->cf_metrics);
	ck_assert_uint_eq(cf->cf_stall_warn, 100);
	config_free(cf);

	errors = parse_fail("sleep = 1s\nmetrics_listen = localhost:9178\n"
	    "metrics_listen = 127.0.0.1:1\nstall_warn = 2h\n");
	ck_assert_msg(has_error(errors, 2, "metrics_listen: bad IPv4 "
	    "address 'localhost'", NULL), "%s", errors);
	ck_assert_msg(has_error(errors, 3, "already set on line 2", NULL),
	    "%s", errors);
	ck_assert_msg(has_error(errors, 4, "stall_warn", "out of range"),
	    "%s", errors);
	ck_assert_uint_eq(count_lines(errors), 3);
	free(errors);
	errors = parse_fail("metrics_listen = -\n");
	ck_assert_msg(has_error(errors, 1, "metrics_listen", NULL), "%s",
	    errors);
	free(errors);
}
END_TEST

START_TEST(test_same_metrics)
{
	struct config	*a, *b, *c, *d;

	a = parse_ok("metrics_listen = 127.0.0.1:9178\n");
	b = parse_ok("sleep = 2s\nmetrics_listen = 127.0.0.1:9178\n");
	c = parse_ok("metrics_listen = 127.0.0.1:9179\n");
	d = parse_ok("");
	ck_assert_int_ne(config_same_metrics(a, b), 0);
	ck_assert_int_eq(config_same_metrics(a, c), 0);
	ck_assert_int_eq(config_same_metrics(a, d), 0);
	ck_assert_int_eq(config_same_metrics(d, a), 0);
	ck_assert_int_ne(config_same_metrics(d, d), 0);
	ck_assert_int_eq(config_copy_metrics(c, a), 0);
	ck_assert_str_eq(c->cf_metrics->la_text, "127.0.0.1:9178");
	ck_assert_int_ne(config_same_metrics(a, c), 0);
	ck_assert_int_eq(config_copy_metrics(c, d), 0);
	ck_assert_ptr_null(c->cf_metrics);
	ck_assert_int_eq(config_copy_metrics(d, a), 0);
	ck_assert_int_ne(config_same_metrics(a, d), 0);
	config_free(a);
	config_free(b);
	config_free(c);
	config_free(d);
}
END_TEST

START_TEST(test_same_user)
{
	struct config	*a, *b, *c, *d;

	a = parse_ok("user = nobody\nsleep = 1s\n");
	b = parse_ok("sleep = 2s\nuser = nobody\n");
	c = parse_ok("user = root\n");
	d = parse_ok("");
	ck_assert_int_ne(config_same_user(a, b), 0);
	ck_assert_int_eq(config_same_user(a, c), 0);
	ck_assert_int_eq(config_same_user(a, d), 0);
	ck_assert_int_eq(config_same_user(d, a), 0);
	ck_assert_int_ne(config_same_user(d, d), 0);

	ck_assert_int_eq(config_copy_user(c, a), 0);
	ck_assert_str_eq(c->cf_user, "nobody");
	ck_assert_uint_eq(c->cf_uid, 65534);
	ck_assert_uint_eq(c->cf_user_line, 1);
	ck_assert_int_ne(config_same_user(a, c), 0);
	ck_assert_int_eq(config_copy_user(c, d), 0);
	ck_assert_ptr_null(c->cf_user);
	ck_assert_int_ne(config_same_user(c, d), 0);
	config_free(a);
	config_free(b);
	config_free(c);
	config_free(d);
}
END_TEST

START_TEST(test_parse_whitespace)
{
	struct config	*cf;

	cf = parse_ok("sleep=3s\n"
	    "  header_timeout   =   4s   \n"
	    "\tkeepalive_timeout\t=\t6s\t\n"
	    "write_timeout =7s\n"
	    "shutdown_timeout= 8s\n"
	    "max_connections = 5");		/* no final newline */
	ck_assert_uint_eq(cf->cf_sleep, 3000);
	ck_assert_uint_eq(cf->cf_header_timeout, 4000);
	ck_assert_uint_eq(cf->cf_keepalive_timeout, 6000);
	ck_assert_uint_eq(cf->cf_write_timeout, 7000);
	ck_assert_uint_eq(cf->cf_shutdown_timeout, 8000);
	ck_assert_uint_eq(cf->cf_max_connections, 5);
	config_free(cf);
}
END_TEST

START_TEST(test_parse_trailing_comment)
{
	struct config	*cf;

	cf = parse_ok("sleep = 2s # two seconds\n"
	    "log_level = warn\t# tab then comment\n"
	    "root = /srv/x # the root\n"
	    "listen = [::1]:7878 # loopback v6\n");
	ck_assert_uint_eq(cf->cf_sleep, 2000);
	ck_assert_uint_eq(cf->cf_log_level, LOG_LEVEL_WARN);
	ck_assert_str_eq(cf->cf_root, "/srv/x");
	ck_assert_uint_eq(cf->cf_nlisten, 1);
	check_inet6(&cf->cf_listen[0], "[::1]:7878", "::1", 7878);
	config_free(cf);
}
END_TEST

/* '#' not after whitespace is part of the value. */
START_TEST(test_parse_hash_in_value)
{
	struct config	*cf;
	char		*errors;

	check_one_error("sleep = 2s#x", "duration", NULL);

	cf = parse_ok("root = /srv/a#b\n");
	ck_assert_str_eq(cf->cf_root, "/srv/a#b");
	config_free(cf);

	errors = parse_fail("sleep = 1s\nmax_header_size = 8KiB#x\n");
	ck_assert_msg(has_error(errors, 2, "size", NULL), "%s", errors);
	free(errors);
}
END_TEST

START_TEST(test_parse_quoted)
{
	struct config	*cf;

	cf = parse_ok("root = \"/srv/my root\"\n"
	    "log_level = \"error\"\n"
	    "sleep = \"3s\"\n"
	    "max_header_size = \"4KiB\"   # quoted\n"
	    "listen = \"127.0.0.1:9000\"\n"
	    "access_log = \"off\"\n");
	ck_assert_str_eq(cf->cf_root, "/srv/my root");
	ck_assert_uint_eq(cf->cf_log_level, LOG_LEVEL_ERROR);
	ck_assert_uint_eq(cf->cf_sleep, 3000);
	ck_assert_uint_eq(cf->cf_max_header_size, 4096);
	ck_assert_uint_eq(cf->cf_nlisten, 1);
	check_inet(&cf->cf_listen[0], "127.0.0.1:9000", "127.0.0.1", 9000);
	ck_assert_uint_eq(cf->cf_access_log, 0);
	config_free(cf);
}
END_TEST

/* Only len bytes of the text are parsed. */
START_TEST(test_parse_len)
{
	static const char	 text[] = "sleep = 2s\nGARBAGE LINE\n";
	struct config		*cf;
	char			*errors = untouched;

	cf = config_parse(TPATH, text, strlen("sleep = 2s\n"), &errors);
	ck_assert_msg(cf != NULL, "text past len was parsed: %s",
	    errors == NULL || errors == untouched ? "" : errors);
	ck_assert_ptr_null(errors);
	ck_assert_uint_eq(cf->cf_sleep, 2000);
	config_free(cf);

	/* And the last line need not end within len. */
	errors = untouched;
	cf = config_parse(TPATH, text, strlen("sleep = 2s"), &errors);
	ck_assert_ptr_nonnull(cf);
	ck_assert_ptr_null(errors);
	ck_assert_uint_eq(cf->cf_sleep, 2000);
	config_free(cf);
}
END_TEST

START_TEST(test_parse_log_levels)
{
	static const struct {
		const char	*name;
		int		 level;
	} levels[] = {
		{ "error", LOG_LEVEL_ERROR },
		{ "warn", LOG_LEVEL_WARN },
		{ "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};
	struct config	*cf;
	char		 text[64];
	size_t		 i;

	for (i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		snprintf(text, sizeof text, "log_level = %s\n", levels[i].name);
		cf = parse_ok(text);
		ck_assert_uint_eq(cf->cf_log_level, levels[i].level);
		config_free(cf);
	}
	check_one_error("log_level = verbose", NULL, NULL);
	check_one_error("log_level = warning", NULL, NULL);
	check_one_error("log_level = 2", NULL, NULL);
}
END_TEST

START_TEST(test_parse_access_log)
{
	struct config	*cf;

	cf = parse_ok("access_log = on\n");
	ck_assert_uint_eq(cf->cf_access_log, 1);
	config_free(cf);
	cf = parse_ok("access_log = off\n");
	ck_assert_uint_eq(cf->cf_access_log, 0);
	config_free(cf);
	check_one_error("access_log = yes", NULL, NULL);
	check_one_error("access_log = no", NULL, NULL);
	check_one_error("access_log = true", NULL, NULL);
	check_one_error("access_log = false", NULL, NULL);
	check_one_error("access_log = 1", NULL, NULL);
	check_one_error("access_log = onn", NULL, NULL);
	check_one_error("access_log = access.log", "access_log", "/");
}
END_TEST

/*
 * access_log: off, stderr (on is a synonym), or a file path, relative
 * ones resolved against the config file's directory as root is; the line
 * is kept for messages about the file.
 */
START_TEST(test_parse_access_log_file)
{
	struct config	*cf;
	char		*errors = untouched;
	static const char abs[] = "# log\naccess_log = /var/log/h/a.log\n";
	static const char rel[] = "access_log = ./logs/a.log\n";
	static const char up[] = "\naccess_log = ../a.log\n";
	static const char quoted[] = "access_log = \"/l/with space.log\"\n";
	static const char last[] = "access_log = /x/a.log\n"
	    "access_log = stderr\n";

	cf = parse_ok("access_log = stderr\n");
	ck_assert_uint_eq(cf->cf_access_log, ACCESS_LOG_STDERR);
	ck_assert_ptr_null(cf->cf_access_path);
	config_free(cf);
	cf = parse_ok("access_log = on\n");
	ck_assert_uint_eq(cf->cf_access_log, ACCESS_LOG_STDERR);
	ck_assert_ptr_null(cf->cf_access_path);
	config_free(cf);
	cf = parse_ok("access_log = off\n");
	ck_assert_uint_eq(cf->cf_access_log, ACCESS_LOG_OFF);
	ck_assert_ptr_null(cf->cf_access_path);
	config_free(cf);
	cf = parse_ok("sleep = 1s\n");		/* the default */
	ck_assert_uint_eq(cf->cf_access_log, ACCESS_LOG_STDERR);
	ck_assert_ptr_null(cf->cf_access_path);
	config_free(cf);

	cf = config_parse("/etc/x/h.conf", abs, strlen(abs), &errors);
	ck_assert_ptr_nonnull(cf);
	ck_assert_uint_eq(cf->cf_access_log, ACCESS_LOG_FILE);
	ck_assert_str_eq(cf->cf_access_path, "/var/log/h/a.log");
	ck_assert_uint_eq(cf->cf_access_line, 2);
	config_free(cf);

	cf = config_parse("/etc/x/h.conf", rel, strlen(rel), &errors);
	ck_assert_ptr_nonnull(cf);
	ck_assert_uint_eq(cf->cf_access_log, ACCESS_LOG_FILE);
	ck_assert_str_eq(cf->cf_access_path, "/etc/x/./logs/a.log");
	ck_assert_uint_eq(cf->cf_access_line, 1);
	config_free(cf);

	cf = config_parse("/etc/x/h.conf", up, strlen(up), &errors);
	ck_assert_ptr_nonnull(cf);
	ck_assert_str_eq(cf->cf_access_path, "/etc/x/../a.log");
	config_free(cf);

	cf = config_parse("/etc/x/h.conf", quoted, strlen(quoted), &errors);
	ck_assert_ptr_nonnull(cf);
	ck_assert_str_eq(cf->cf_access_path, "/l/with space.log");
	config_free(cf);

	/* Set twice: an error, like any single-valued key. */
	errors = untouched;
	cf = config_parse("/etc/x/h.conf", last, strlen(last), &errors);
	ck_assert_ptr_null(cf);
	ck_assert_ptr_nonnull(strstr(errors, "/etc/x/h.conf:2: access_log "
	    "already set on line 1"));
	free(errors);

	/* Not a keyword and no '/': a typo, not a file. */
	errors = untouched;
	cf = config_parse("/etc/x/h.conf", "access_log = yes\n", 17, &errors);
	ck_assert_ptr_null(cf);
	ck_assert_ptr_nonnull(strstr(errors, "/etc/x/h.conf:1: access_log: "
	    "expected off, stderr or a file path"));
	free(errors);
}
END_TEST

/* workers: auto (stored as 0) or 1..HELLOD_MAX_WORKERS. */
START_TEST(test_parse_workers)
{
	struct config	*cf;
	uint64_t	 v;

	cf = parse_ok("");
	ck_assert_uint_eq(cf->cf_workers, 0);		/* default: auto */
	ck_assert_uint_eq(config_workers(cf, 2), 2);
	ck_assert_uint_eq(config_workers(cf, 1), 1);
	ck_assert_uint_eq(config_workers(cf, 0), 1);	/* unknown: 1 */
	ck_assert_uint_eq(config_workers(cf, -1), 1);
	ck_assert_uint_eq(config_workers(cf, 1000), HELLOD_MAX_WORKERS);
	config_free(cf);
	cf = parse_ok("workers = auto\n");
	ck_assert_uint_eq(cf->cf_workers, 0);
	ck_assert_uint_eq(config_workers(cf, 8), 8);
	config_free(cf);
	cf = parse_ok("workers = 1\n");
	ck_assert_uint_eq(config_workers(cf, 8), 1);
	config_free(cf);
	cf = parse_ok("workers = 256\n");
	ck_assert_uint_eq(config_workers(cf, 2), 256);
	config_free(cf);

	ck_assert_int_eq(config_parse_workers("4", &v), 0);
	ck_assert_uint_eq(v, 4);
	ck_assert_int_eq(config_parse_workers("auto", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(config_parse_workers("0", &v), -1);
	ck_assert_int_eq(config_parse_workers("257", &v), -1);
	ck_assert_int_eq(config_parse_workers("Auto", &v), -1);
	ck_assert_int_eq(config_parse_workers("-1", &v), -1);
	ck_assert_int_eq(config_parse_workers("2s", &v), -1);
	ck_assert_int_eq(config_parse_workers("", &v), -1);
	check_one_error("workers = 0", NULL, NULL);
	check_one_error("workers = 257", NULL, NULL);
	check_one_error("workers = many", NULL, NULL);
	check_one_error("workers = auto4", NULL, NULL);
}
END_TEST

START_TEST(test_parse_listen_many)
{
	struct config	*cf;

	cf = parse_ok("# listeners\n"
	    "listen = [::1]:7878\n"
	    "listen = 0.0.0.0:8080\n"
	    "\n"
	    "listen = 127.0.0.1:0\n");
	ck_assert_uint_eq(cf->cf_nlisten, 3);
	check_inet6(&cf->cf_listen[0], "[::1]:7878", "::1", 7878);
	check_inet(&cf->cf_listen[1], "0.0.0.0:8080", "0.0.0.0", 8080);
	check_inet(&cf->cf_listen[2], "127.0.0.1:0", "127.0.0.1", 0);
	config_free(cf);

	/* Setting listen replaces the default instead of adding to it. */
	cf = parse_ok("listen = 127.0.0.1:9999\n");
	ck_assert_uint_eq(cf->cf_nlisten, 1);
	check_inet(&cf->cf_listen[0], "127.0.0.1:9999", "127.0.0.1", 9999);
	config_free(cf);

	/* The default address written explicitly is not a repeat. */
	cf = parse_ok("listen = 127.0.0.1:7878\nlisten = [::1]:7878\n");
	ck_assert_uint_eq(cf->cf_nlisten, 2);
	check_inet(&cf->cf_listen[0], "127.0.0.1:7878", "127.0.0.1", 7878);
	check_inet6(&cf->cf_listen[1], "[::1]:7878", "::1", 7878);
	config_free(cf);

	/* Same address, different ports: fine. */
	cf = parse_ok("listen = 127.0.0.1:1\nlisten = 127.0.0.1:2\n");
	ck_assert_uint_eq(cf->cf_nlisten, 2);
	config_free(cf);
}
END_TEST

START_TEST(test_parse_root_relative)
{
	struct config	*cf;
	char		*errors = untouched;
	static const char text[] = "root = ../static\n";
	static const char text2[] = "root = pages\n";
	static const char text3[] = "root = /abs/pages\n";

	cf = config_parse("/etc/x/h.conf", text, strlen(text), &errors);
	ck_assert_ptr_nonnull(cf);
	ck_assert_str_eq(cf->cf_root, "/etc/x/../static");
	config_free(cf);

	cf = config_parse("/etc/x/h.conf", text2, strlen(text2), &errors);
	ck_assert_ptr_nonnull(cf);
	ck_assert_str_eq(cf->cf_root, "/etc/x/pages");
	config_free(cf);

	cf = config_parse("/etc/x/h.conf", text3, strlen(text3), &errors);
	ck_assert_ptr_nonnull(cf);
	ck_assert_str_eq(cf->cf_root, "/abs/pages");
	config_free(cf);

	cf = config_parse("/h.conf", text2, strlen(text2), &errors);
	ck_assert_ptr_nonnull(cf);
	ck_assert_msg(strcmp(cf->cf_root, "/pages") == 0 ||
	    strcmp(cf->cf_root, "//pages") == 0, "root %s", cf->cf_root);
	config_free(cf);
}
END_TEST

/* Bounds of every numeric key, from the spec. */
static const struct {
	const char	*key;
	const char	*min;		/* lowest accepted */
	uint64_t	 minv;
	const char	*max;		/* highest accepted */
	uint64_t	 maxv;
	const char	*below;		/* NULL: min is 0 */
	const char	*above;
} bounds[] = {
	{ "sleep", "0", 0, "3600s", 3600000, NULL, "3601s" },
	{ "sleep", "0ms", 0, "3600000ms", 3600000, NULL, "3600001ms" },
	{ "header_timeout", "1ms", 1, "3600s", 3600000, "0", "3600001ms" },
	{ "header_timeout", "1ms", 1, "60m", 3600000, "0ms", "61m" },
	{ "keepalive_timeout", "0", 0, "3600s", 3600000, NULL, "3601s" },
	{ "write_timeout", "1ms", 1, "3600s", 3600000, "0ms", "3600001ms" },
	{ "shutdown_timeout", "0", 0, "60m", 3600000, NULL, "61m" },
	{ "max_connections", "1", 1, "1000000", 1000000, "0", "1000001" },
	{ "max_header_size", "256", 256, "1MiB", 1048576, "255B", "1048577" },
	{ "max_header_size", "256B", 256, "1024K", 1048576, "255", "2M" },
};

START_TEST(test_parse_bounds)
{
	const struct config_key	*k;
	struct config		*cf;
	char			 line[128];

	ck_assert_ptr_nonnull(k = find_key(bounds[_i].key));

	snprintf(line, sizeof line, "%s = %s\n", bounds[_i].key,
	    bounds[_i].min);
	cf = parse_ok(line);
	ck_assert_uint_eq(field(cf, k), bounds[_i].minv);
	config_free(cf);

	snprintf(line, sizeof line, "%s = %s\n", bounds[_i].key,
	    bounds[_i].max);
	cf = parse_ok(line);
	ck_assert_uint_eq(field(cf, k), bounds[_i].maxv);
	config_free(cf);

	if (bounds[_i].below != NULL) {
		snprintf(line, sizeof line, "%s = %s", bounds[_i].key,
		    bounds[_i].below);
		check_one_error(line, "between", "range");
	}
	snprintf(line, sizeof line, "%s = %s", bounds[_i].key,
	    bounds[_i].above);
	check_one_error(line, "between", "range");
}
END_TEST

/* The key table agrees with the spec's bounds. */
START_TEST(test_keys_bounds)
{
	ck_assert_uint_eq(find_key("sleep")->k_min, 0);
	ck_assert_uint_eq(find_key("sleep")->k_max, 3600000);
	ck_assert_uint_eq(find_key("header_timeout")->k_min, 1);
	ck_assert_uint_eq(find_key("header_timeout")->k_max, 3600000);
	ck_assert_uint_eq(find_key("keepalive_timeout")->k_min, 0);
	ck_assert_uint_eq(find_key("keepalive_timeout")->k_max, 3600000);
	ck_assert_uint_eq(find_key("write_timeout")->k_min, 1);
	ck_assert_uint_eq(find_key("write_timeout")->k_max, 3600000);
	ck_assert_uint_eq(find_key("shutdown_timeout")->k_min, 0);
	ck_assert_uint_eq(find_key("shutdown_timeout")->k_max, 3600000);
	ck_assert_uint_eq(find_key("max_connections")->k_min, 1);
	ck_assert_uint_eq(find_key("max_connections")->k_max, 1000000);
	ck_assert_uint_eq(find_key("max_header_size")->k_min, 256);
	ck_assert_uint_eq(find_key("max_header_size")->k_max, 1048576);
}
END_TEST

/* --- errors, each with its line number --- */

static const struct {
	const char	*line;
	const char	*kw1;		/* NULL: any message */
	const char	*kw2;
} errors_one[] = {
	/* unknown key */
	{ "colour = red", "unknown key", NULL },
	{ "Sleep = 5s", "unknown key", NULL },
	{ "sleep_time = 5s", "unknown key", NULL },
	/* missing '=' */
	{ "sleep 5s", "expected", NULL },
	{ "sleep", "expected", NULL },
	{ "just some words", "expected", NULL },
	/* empty value */
	{ "sleep =", "missing value", "empty" },
	{ "sleep =   ", "missing value", "empty" },
	{ "root =", "missing value", "empty" },
	{ "listen =", "missing value", "empty" },
	{ "log_level = ", "missing value", "empty" },
	/* bad duration */
	{ "sleep = 5x", "duration", NULL },
	{ "header_timeout = 1.5s", "duration", NULL },
	{ "keepalive_timeout = -1", "duration", NULL },
	{ "write_timeout = ten", "duration", NULL },
	{ "shutdown_timeout = 5h", "duration", NULL },
	{ "sleep = 99999999999999999999999", "duration", NULL },
	/* bad size */
	{ "max_header_size = 8X", "size", NULL },
	{ "max_header_size = 1.5K", "size", NULL },
	{ "max_header_size = -1", "size", NULL },
	/* bad number */
	{ "max_connections = abc", NULL, NULL },
	{ "max_connections = -1", NULL, NULL },
	{ "max_connections = 10k", NULL, NULL },
	{ "max_connections = 1.5", NULL, NULL },
	/* out of range */
	{ "sleep = 3601s", "between", "range" },
	{ "max_connections = 0", "between", "range" },
	{ "max_header_size = 2MiB", "between", "range" },
	/* port out of range */
	{ "listen = 127.0.0.1:65536", "port", NULL },
	{ "listen = [::1]:70000", "port", NULL },
	/* bad address */
	{ "listen = localhost:7878", "address", NULL },
	{ "listen = 300.1.1.1:80", "address", NULL },
	{ "listen = 7878", NULL, NULL },
	/* bad enumerations */
	{ "log_level = loud", NULL, NULL },
	{ "access_log = maybe", NULL, NULL },
};

START_TEST(test_error_one)
{
	check_one_error(errors_one[_i].line, errors_one[_i].kw1,
	    errors_one[_i].kw2);
}
END_TEST

START_TEST(test_error_duplicate_key)
{
	char	*errors;

	errors = parse_fail("# dup\nsleep = 1s\nheader_timeout = 2s\n"
	    "sleep = 2s\n");
	ck_assert_msg(has_error(errors, 4, "already set on line 2", NULL),
	    "%s", errors);
	ck_assert_uint_eq(count_lines(errors), 1);
	free(errors);

	/* The same value twice is still twice. */
	errors = parse_fail("root = /a\n\n\nroot = /a\n");
	ck_assert_msg(has_error(errors, 4, "already set on line 1", NULL),
	    "%s", errors);
	free(errors);

	/* Three times: both repeats are reported against the first. */
	errors = parse_fail("log_level = info\nlog_level = warn\n"
	    "log_level = debug\n");
	ck_assert_msg(has_error(errors, 2, "already set on line 1", NULL),
	    "%s", errors);
	ck_assert_msg(has_error(errors, 3, "already set on line 1", NULL),
	    "%s", errors);
	ck_assert_uint_eq(count_lines(errors), 2);
	free(errors);
}
END_TEST

/* Every single-valued key from the table rejects a repeat. */
START_TEST(test_error_duplicate_every_key)
{
	const struct config_key	*keys;
	size_t			 n, i;
	char			 text[512];
	char			*errors;
	const char		*v;

	keys = config_keys(&n);
	for (i = 0; i < n; i++) {
		if (keys[i].k_type == CONF_LISTEN)
			continue;
		v = keys[i].k_type == CONF_USER ? "root" :
		    keys[i].k_type == CONF_ADDR ? "127.0.0.1:9178" :
		    keys[i].k_default;
		snprintf(text, sizeof text, "%s = %s\n# x\n%s = %s\n",
		    keys[i].k_name, v, keys[i].k_name, v);
		errors = parse_fail(text);
		ck_assert_msg(has_error(errors, 3, "already set on line 1",
		    NULL), "key %s: %s", keys[i].k_name, errors);
		ck_assert_uint_eq(count_lines(errors), 1);
		free(errors);
	}
}
END_TEST

START_TEST(test_error_duplicate_listen)
{
	char	*errors;

	errors = parse_fail("listen = 127.0.0.1:8080\nlisten = [::1]:8080\n"
	    "listen = 127.0.0.1:8080\n");
	ck_assert_msg(has_error(errors, 3, "twice", "already"), "%s", errors);
	ck_assert_uint_eq(count_lines(errors), 1);
	free(errors);

	errors = parse_fail("listen = [::1]:1\n\nlisten = [::1]:1\n");
	ck_assert_msg(has_error(errors, 3, "twice", "already"), "%s", errors);
	free(errors);
}
END_TEST

/* Every key of the table rejects an empty value. */
START_TEST(test_error_empty_every_key)
{
	const struct config_key	*keys;
	size_t			 n, i;
	char			 line[128];

	keys = config_keys(&n);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof line, "%s =", keys[i].k_name);
		check_one_error(line, "missing value", "empty");
	}
}
END_TEST

/* All errors of a file are reported, each with its own line. */
START_TEST(test_error_all_reported)
{
	static const char text[] =
	    "# a broken file\n"				/* 1 */
	    "colour = red\n"				/* 2 */
	    "sleep 5s\n"				/* 3 */
	    "sleep = 5x\n"				/* 4 */
	    "\n"					/* 5 */
	    "max_header_size = 8X\n"			/* 6 */
	    "max_connections = 0\n"			/* 7 */
	    "listen = 127.0.0.1:70000\n"		/* 8 */
	    "listen = localhost:80\n"			/* 9 */
	    "header_timeout = 1s\n"			/* 10 */
	    "header_timeout = 2s\n"			/* 11 */
	    "listen = 127.0.0.1:8080\n"			/* 12 */
	    "listen = 127.0.0.1:8080\n"			/* 13 */
	    "root =\n"					/* 14 */
	    "log_level = loud\n"			/* 15 */
	    "access_log = yes\n"			/* 16 */
	    "write_timeout = 2s\n";			/* 17: fine */
	char	*errors;

	errors = parse_fail(text);
	ck_assert_msg(has_error(errors, 2, "unknown key", NULL), "%s", errors);
	ck_assert_msg(has_error(errors, 3, "expected", NULL), "%s", errors);
	ck_assert_msg(has_error(errors, 4, "duration", NULL), "%s", errors);
	ck_assert_msg(has_error(errors, 6, "size", NULL), "%s", errors);
	ck_assert_msg(has_error(errors, 7, "between", "range"), "%s", errors);
	ck_assert_msg(has_error(errors, 8, "port", NULL), "%s", errors);
	ck_assert_msg(has_error(errors, 9, "address", NULL), "%s", errors);
	ck_assert_msg(has_error(errors, 11, "already set on line 10", NULL),
	    "%s", errors);
	ck_assert_msg(has_error(errors, 13, "twice", "already"), "%s",
	    errors);
	ck_assert_msg(has_error(errors, 14, "missing value", "empty"), "%s",
	    errors);
	ck_assert_msg(has_error(errors, 15, NULL, NULL), "%s", errors);
	ck_assert_msg(has_error(errors, 16, NULL, NULL), "%s", errors);
	ck_assert_msg(count_lines(errors) == 12, "want 12 errors, got:\n%s",
	    errors);
	free(errors);
}
END_TEST

/* --- config_load --- */

START_TEST(test_load_ok)
{
	char		 dir[64], path[128], want[128];
	struct config	*cf;
	struct pages	*ps;
	char		*errors = untouched;

	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/hellod.conf", dir);
	write_file(path, "# test\nroot = pages\nsleep = 1s\n"
	    "listen = 127.0.0.1:0\n");
	make_pages(dir, "pages");
	cf = config_load(path, NULL, NULL, &errors);
	ck_assert_msg(cf != NULL, "%s", errors == NULL || errors == untouched ?
	    "" : errors);
	ck_assert_ptr_null(errors);
	ck_assert_str_eq(cf->cf_path, path);
	snprintf(want, sizeof want, "%s/pages", dir);
	ck_assert_str_eq(cf->cf_root, want);
	ck_assert_uint_eq(cf->cf_sleep, 1000);
	ck_assert_uint_eq(cf->cf_nlisten, 1);
	check_inet(&cf->cf_listen[0], "127.0.0.1:0", "127.0.0.1", 0);
	config_free(cf);

	/* Asked for, the pages come with the config: the ones checked. */
	cf = config_load(path, NULL, &ps, &errors);
	ck_assert_ptr_nonnull(cf);
	ck_assert_ptr_nonnull(ps);
	ck_assert_int_eq(pages_get(ps, PAGE_HELLO)->p_status, 200);
	pages_free(ps);
	config_free(cf);

	/* No pages with a config that has errors. */
	write_file(path, "root = pages\nsleep = soon\n");
	ps = (struct pages *)untouched;
	cf = config_load(path, NULL, &ps, &errors);
	ck_assert_ptr_null(cf);
	ck_assert_ptr_null(ps);
	free(errors);
	remove_tree(dir);
}
END_TEST

START_TEST(test_load_errors)
{
	char		 dir[64], path[128];
	struct config	*cf;
	char		*errors = untouched;

	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/bad.conf", dir);
	write_file(path, "sleep = 1s\nbogus = 1\nsleep = 2s\nroot = pages\n");
	make_pages(dir, "pages");
	cf = config_load(path, NULL, NULL, &errors);
	ck_assert_ptr_null(cf);
	ck_assert_ptr_nonnull(errors);
	ck_assert_msg(has_error_in(errors, path, 2, "unknown key", NULL),
	    "%s", errors);
	ck_assert_msg(has_error_in(errors, path, 3, "already set on line 1",
	    NULL), "%s", errors);
	ck_assert_uint_eq(count_lines(errors), 2);
	free(errors);
	remove_tree(dir);
}
END_TEST

START_TEST(test_load_missing)
{
	char		 dir[64], path[128], prefix[160];
	struct config	*cf;
	char		*errors = untouched;

	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/nonexistent.conf", dir);
	cf = config_load(path, NULL, NULL, &errors);
	ck_assert_ptr_null(cf);
	ck_assert_ptr_nonnull(errors);
	ck_assert(errors != untouched);
	snprintf(prefix, sizeof prefix, "%s: ", path);
	ck_assert_msg(strncmp(errors, prefix, strlen(prefix)) == 0,
	    "want \"%s...\", got \"%s\"", prefix, errors);
	free(errors);
	rmdir(dir);
}
END_TEST

/* The documented default file in the source tree is valid. */
START_TEST(test_load_shipped_conf)
{
	const char	*srcdir;
	char		 path[4096], want[4096];
	struct config	*cf;
	char		*errors = untouched;

	if ((srcdir = getenv("HELLOD_SRCDIR")) == NULL)
		return;		/* not run from make check */
	snprintf(path, sizeof path, "%s/conf/hellod.conf", srcdir);
	cf = config_load(path, NULL, NULL, &errors);
	ck_assert_msg(cf != NULL, "%s: %s", path, errors == NULL ||
	    errors == untouched ? "" : errors);
	snprintf(want, sizeof want, "%s/conf/../static", srcdir);
	ck_assert_str_eq(cf->cf_root, want);
	ck_assert_uint_ge(cf->cf_nlisten, 1);
	config_free(cf);
}
END_TEST

START_TEST(test_same_listen)
{
	struct config	*a, *b, *c, *d;

	a = parse_ok("listen = 127.0.0.1:1\nlisten = [::1]:2\nsleep = 1s\n");
	b = parse_ok("listen = 127.0.0.1:1\nlisten = [::1]:2\nsleep = 2s\n");
	c = parse_ok("listen = 127.0.0.1:1\n");
	d = parse_ok("listen = 127.0.0.1:1\nlisten = [::1]:3\n");
	ck_assert_int_ne(config_same_listen(a, b), 0);
	ck_assert_int_ne(config_same_listen(a, a), 0);
	ck_assert_int_eq(config_same_listen(a, c), 0);
	ck_assert_int_eq(config_same_listen(c, a), 0);
	ck_assert_int_eq(config_same_listen(a, d), 0);
	config_free(a);
	config_free(b);
	config_free(c);
	config_free(d);
}
END_TEST

/* --- overrides (-o) and the pages check --- */

/* -o values win over the file's; -o listen lines replace the file's. */
START_TEST(test_load_overrides)
{
	char		 dir[64], path[128], want[128];
	static const char *const ov_src[] = { "sleep=2s",
	    "listen=127.0.0.1:8080", "listen = [::1]:8081", "log_level=debug",
	    NULL };
	struct config	*cf, *again;
	char		*errors = untouched, **ov = strv(ov_src);

	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/hellod.conf", dir);
	write_file(path, "root = pages\nsleep = 1s\nlisten = 127.0.0.1:1\n"
	    "listen = 127.0.0.1:2\nheader_timeout = 3s\n");
	make_pages(dir, "pages");
	cf = config_load(path, ov, NULL, &errors);
	ck_assert_msg(cf != NULL, "%s", errors);
	ck_assert_ptr_null(errors);
	ck_assert_uint_eq(cf->cf_sleep, 2000);
	ck_assert_uint_eq(cf->cf_header_timeout, 3000);
	ck_assert_uint_eq(cf->cf_log_level, LOG_LEVEL_DEBUG);
	ck_assert_uint_eq(cf->cf_nlisten, 2);
	check_inet(&cf->cf_listen[0], "127.0.0.1:8080", "127.0.0.1", 8080);
	check_inet6(&cf->cf_listen[1], "[::1]:8081", "::1", 8081);
	snprintf(want, sizeof want, "%s/pages", dir);
	ck_assert_str_eq(cf->cf_root, want);

	/* Kept, as copies, for a reload to apply again. */
	ck_assert_ptr_nonnull(cf->cf_overrides);
	ck_assert_str_eq(cf->cf_overrides[0], "sleep=2s");
	ck_assert_ptr_ne(cf->cf_overrides[0], ov[0]);
	ck_assert_str_eq(cf->cf_overrides[3], "log_level=debug");
	ck_assert_ptr_null(cf->cf_overrides[4]);
	write_file(path, "root = pages\nsleep = 1s\nheader_timeout = 4s\n");
	again = config_load(path, cf->cf_overrides, NULL, &errors);
	ck_assert_msg(again != NULL, "%s", errors);
	ck_assert_uint_eq(again->cf_sleep, 2000);
	ck_assert_uint_eq(again->cf_header_timeout, 4000);
	ck_assert_uint_eq(again->cf_nlisten, 2);
	config_free(again);
	config_free(cf);

	/* No overrides: an empty list. */
	cf = config_load(path, NULL, NULL, &errors);
	ck_assert_msg(cf != NULL, "%s", errors);
	ck_assert_ptr_nonnull(cf->cf_overrides);
	ck_assert_ptr_null(cf->cf_overrides[0]);
	ck_assert_uint_eq(cf->cf_sleep, 1000);
	config_free(cf);
	strv_free(ov);
	remove_tree(dir);
}
END_TEST

/* A relative path in an -o is relative to the current directory. */
START_TEST(test_load_override_root_cwd)
{
	char		 dir[64], path[128];
	static const char *const ov_src[] = { "root=here", NULL };
	struct config	*cf;
	char		*errors = untouched, **ov = strv(ov_src);

	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/sub", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/sub/hellod.conf", dir);
	write_file(path, "root = ../nothere\n");
	make_pages(dir, "here");
	ck_assert_int_eq(chdir(dir), 0);
	cf = config_load(path, ov, NULL, &errors);
	ck_assert_msg(cf != NULL, "%s", errors);
	ck_assert_str_eq(cf->cf_root, "here");
	config_free(cf);
	strv_free(ov);
	remove_tree(dir);
}
END_TEST

/* Errors in -o come in the same list as the file's, named by the -o. */
START_TEST(test_load_override_errors)
{
	char		 dir[64], path[128];
	static const char *const ov_src[] = { "listen=foo", "nokey=1",
	    "sleep", "sleep=1s", "sleep=2s", "listen=127.0.0.1:80",
	    "listen=127.0.0.1:80", "=1", NULL };
	struct config	*cf;
	char		*errors = untouched, **ov = strv(ov_src);

	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/hellod.conf", dir);
	write_file(path, "root = pages\nbogus = 1\n");
	make_pages(dir, "pages");
	cf = config_load(path, ov, NULL, &errors);
	ck_assert_ptr_null(cf);
	ck_assert_ptr_nonnull(errors);
	ck_assert_msg(has_error_in(errors, path, 2, "unknown key 'bogus'",
	    NULL), "%s", errors);
	ck_assert_msg(has_line(errors, "-o listen=foo: listen: bad address "
	    "'foo': expected address:port"), "%s", errors);
	ck_assert_msg(has_line(errors, "-o nokey=1: unknown key 'nokey'"),
	    "%s", errors);
	ck_assert_msg(has_line(errors, "-o sleep: expected KEY=VALUE"), "%s",
	    errors);
	ck_assert_msg(has_line(errors, "-o sleep=2s: sleep given twice with "
	    "-o"), "%s", errors);
	ck_assert_msg(has_line(errors, "-o listen=127.0.0.1:80: listen: "
	    "listen 127.0.0.1:80 given twice"), "%s", errors);
	ck_assert_msg(has_line(errors, "-o =1: expected a key before '='"),
	    "%s", errors);
	ck_assert_uint_eq(count_lines(errors), 7);
	free(errors);
	strv_free(ov);
	remove_tree(dir);
}
END_TEST

/*
 * A bad root is reported with the other errors, at its line, with a
 * relative path made absolute; from an -o, at the -o.
 */
START_TEST(test_load_root_errors)
{
	char		 dir[64], cwd[4096], want[4200];
	static const char *const ov_src[] = { "root=/nonexistent/x", NULL };
	struct config	*cf;
	char		*errors = untouched, **ov = strv(ov_src);

	make_tmpdir(dir, sizeof dir);
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	ck_assert_int_eq(mkdir("conf", 0755), 0);
	write_file("conf/hellod.conf", "sleep = x\nroot = ../nothere/.\n");
	cf = config_load("conf/hellod.conf", NULL, NULL, &errors);
	ck_assert_ptr_null(cf);
	ck_assert_msg(has_error_in(errors, "conf/hellod.conf", 1,
	    "bad duration", NULL), "%s", errors);
	snprintf(want, sizeof want, "conf/hellod.conf:2: root: "
	    "%s/nothere/hello.html: No such file or directory", cwd);
	ck_assert_msg(has_line(errors, want), "want %s in:\n%s", want,
	    errors);
	ck_assert_uint_eq(count_lines(errors), 2);
	free(errors);

	/* hello.html there, 404.html missing */
	make_pages(dir, "half");
	ck_assert_int_eq(unlink("half/404.html"), 0);
	write_file("conf/hellod.conf", "root = ../half\n");
	cf = config_load("conf/hellod.conf", NULL, NULL, &errors);
	ck_assert_ptr_null(cf);
	snprintf(want, sizeof want, "conf/hellod.conf:1: root: "
	    "%s/half/404.html: No such file or directory", cwd);
	ck_assert_msg(has_line(errors, want), "want %s in:\n%s", want,
	    errors);
	free(errors);

	cf = config_load("conf/hellod.conf", ov, NULL, &errors);
	ck_assert_ptr_null(cf);
	ck_assert_msg(has_line(errors, "-o root=/nonexistent/x: root: "
	    "/nonexistent/x/hello.html: No such file or directory"), "%s",
	    errors);
	ck_assert_uint_eq(count_lines(errors), 1);
	free(errors);
	strv_free(ov);
	remove_tree(dir);
}
END_TEST

/* The default root, when it has no pages, is named as the default. */
START_TEST(test_load_root_default)
{
	char		 dir[64], path[128], want[512];
	struct config	*cf;
	char		*errors = untouched;

	if (access(HELLOD_ROOT "/hello.html", F_OK) == 0 &&
	    access(HELLOD_ROOT "/404.html", F_OK) == 0)
		return;		/* installed: nothing to report */
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/hellod.conf", dir);
	write_file(path, "sleep = 1s\n");
	cf = config_load(path, NULL, NULL, &errors);
	ck_assert_ptr_null(cf);
	snprintf(want, sizeof want, "%s: root (not set: the default): %s/",
	    path, HELLOD_ROOT);
	ck_assert_msg(strncmp(errors, want, strlen(want)) == 0,
	    "want %s... in:\n%s", want, errors);
	ck_assert_uint_eq(count_lines(errors), 1);
	free(errors);
	remove_tree(dir);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("config");

	tc = tcase_create("keys");
	tcase_add_test(tc, test_keys_table);
	tcase_add_test(tc, test_keys_types);
	tcase_add_test(tc, test_keys_bounds);
	tcase_add_test(tc, test_keys_defaults_roundtrip);
	tcase_add_test(tc, test_keys_offsets);
	tcase_add_test(tc, test_usage_lists_keys);
	tcase_add_test(tc, test_usage_columns);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_loop_test(tc, test_duration_ok, 0, NELEM(durations_ok));
	tcase_add_loop_test(tc, test_duration_bad, 0, NELEM(durations_bad));
	tcase_add_loop_test(tc, test_size_ok, 0, NELEM(sizes_ok));
	tcase_add_loop_test(tc, test_size_bad, 0, NELEM(sizes_bad));
	tcase_add_test(tc, test_listen_parse_ok);
	tcase_add_loop_test(tc, test_listen_parse_bad, 0, NELEM(listens_bad));
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_defaults);
	tcase_add_test(tc, test_parse_comments_only);
	tcase_add_test(tc, test_parse_every_key);
	tcase_add_test(tc, test_parse_user);
	tcase_add_test(tc, test_same_user);
	tcase_add_test(tc, test_parse_metrics);
	tcase_add_test(tc, test_same_metrics);
	tcase_add_test(tc, test_parse_whitespace);
	tcase_add_test(tc, test_parse_trailing_comment);
	tcase_add_test(tc, test_parse_hash_in_value);
	tcase_add_test(tc, test_parse_quoted);
	tcase_add_test(tc, test_parse_len);
	tcase_add_test(tc, test_parse_log_levels);
	tcase_add_test(tc, test_parse_access_log);
	tcase_add_test(tc, test_parse_access_log_file);
	tcase_add_test(tc, test_parse_workers);
	tcase_add_test(tc, test_parse_listen_many);
	tcase_add_test(tc, test_parse_root_relative);
	tcase_add_loop_test(tc, test_parse_bounds, 0, NELEM(bounds));
	tcase_add_test(tc, test_same_listen);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_error_one, 0, NELEM(errors_one));
	tcase_add_test(tc, test_error_duplicate_key);
	tcase_add_test(tc, test_error_duplicate_every_key);
	tcase_add_test(tc, test_error_duplicate_listen);
	tcase_add_test(tc, test_error_empty_every_key);
	tcase_add_test(tc, test_error_all_reported);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, test_load_ok);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_load_missing);
	tcase_add_test(tc, test_load_shipped_conf);
	tcase_add_test(tc, test_load_overrides);
	tcase_add_test(tc, test_load_override_root_cwd);
	tcase_add_test(tc, test_load_override_errors);
	tcase_add_test(tc, test_load_root_errors);
	tcase_add_test(tc, test_load_root_default);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (unit_run(config_suite()));
}
