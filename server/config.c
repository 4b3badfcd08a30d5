/* SPDX-License-Identifier: ISC */
/*
 * The configuration file: `key = value` lines, `#` comments, blank lines;
 * then the command line's `-o key=value` overrides, each applied as if it
 * were one more line of the file; then the pages under `root`.
 *
 * The key table (config_keys.c) says what each key takes. Parsing never
 * stops at the first error: every error is collected as `PATH:LINE:
 * message` (`-o KEY=VALUE: message` for an override) and the whole
 * configuration is rejected if there was any.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"

#define CONF_MAX_LINE	4096	/* longest line we report verbatim */
#define CONF_MAX_FILE	(1024 * 1024)
#define CONF_MAX_SHOWN	64	/* of an -o, in its messages */

/* One parse in progress. */
struct config_parse {
	const char	*p_path;
	unsigned int	 p_line;	/* in the file */
	char *const	*p_overrides;	/* NULL-terminated -o list, or NULL */
	const char	*p_override;	/* the -o being applied, or NULL */
	unsigned int	 p_onum;	/* its number, from 1 */
	unsigned int	 p_errors;
	char		*p_msgs;	/* accumulated "PATH:LINE: msg\n" */
	size_t		 p_msglen;
	unsigned int	 p_seen[CONFIG_MAX_KEYS];	/* line, or 0 */
	unsigned int	 p_oseen[CONFIG_MAX_KEYS];	/* -o number, or 0 */
	int		 p_listen_set;	/* listen given by this source */
};

static void	config_error(struct config_parse *, const char *, ...)
		    printflike(2, 3);

/* Append `loc: msg` to the errors. */
static void
config_add_error(struct config_parse *p, const char *loc, const char *msg)
{
	char	*line, *nmsgs;
	int	 n;

	p->p_errors++;
	if ((n = asprintf(&line, "%s: %s\n", loc, msg)) == -1)
		return;
	if ((nmsgs = realloc(p->p_msgs, p->p_msglen + (size_t)n + 1)) ==
	    NULL) {
		free(line);
		return;
	}
	p->p_msgs = nmsgs;
	memcpy(p->p_msgs + p->p_msglen, line, (size_t)n + 1);
	p->p_msglen += (size_t)n;
	free(line);
}

/* Record one error at the current line, or at the current -o. */
static void
config_error(struct config_parse *p, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[CONF_MAX_LINE + 256], *loc;
	int	 n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	if (p->p_override != NULL)
		n = asprintf(&loc, "-o %.*s", CONF_MAX_SHOWN, p->p_override);
	else
		n = asprintf(&loc, "%s:%u", p->p_path, p->p_line);
	if (n == -1) {
		p->p_errors++;
		return;
	}
	config_add_error(p, loc, msg);
	free(loc);
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

/*
 * Whether k may be set now: once in the file, once more with -o (which
 * then wins). Remembers where it was set.
 */
static int
config_once(struct config_parse *p, const struct config_key *k)
{
	size_t			 n, idx;
	const struct config_key	*keys = config_keys(&n);

	idx = (size_t)(k - keys);
	if (p->p_override != NULL) {
		if (k->k_type != CONF_LISTEN && p->p_oseen[idx] != 0) {
			config_error(p, "%s given twice with -o", k->k_name);
			return (0);
		}
		p->p_oseen[idx] = p->p_onum;
		return (1);
	}
	if (k->k_type != CONF_LISTEN && p->p_seen[idx] != 0) {
		config_error(p, "%s already set on line %u", k->k_name,
		    p->p_seen[idx]);
		return (0);
	}
	p->p_seen[idx] = p->p_line;
	return (1);
}

/* Parse one line of the file, or one -o. */
static void
config_line(struct config_parse *p, struct config *cf, char *line)
{
	char			*eq, *name, *value, *cause;
	const char		*why = NULL;
	const struct config_key	*k;
	struct config_src	 src;

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
	if ((k = config_key_find(name)) == NULL) {
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
	if (!config_once(p, k))
		return;
	if (k->k_type == CONF_LISTEN && !p->p_listen_set) {
		/* The first listen replaces the default (or the file's). */
		config_clear_listen(cf);
		p->p_listen_set = 1;
	}
	/* A relative path in an -o is relative to the current directory. */
	src.cs_base = p->p_override != NULL ? NULL : p->p_path;
	src.cs_line = p->p_override != NULL ? 0 : p->p_line;
	if (config_key_set(cf, k, value, &src, &cause) == -1) {
		config_error(p, "%s: %s", k->k_name,
		    cause != NULL ? cause : "out of memory");
		free(cause);
	}
}

/* Parse a whole file's text into cf, collecting errors in p. */
static void
config_parse_text(struct config_parse *p, struct config *cf,
    const char *text, size_t len)
{
	const char	*s, *nl, *end = text + len;
	char		*line;
	size_t		 n;

	for (s = text; s < end; s = nl + 1) {
		p->p_line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		n = (size_t)(nl - s);
		if (memchr(s, '\0', n) != NULL) {
			config_error(p, "NUL byte in line");
			continue;
		}
		if (n > CONF_MAX_LINE) {
			config_error(p, "line longer than %d bytes",
			    CONF_MAX_LINE);
			continue;
		}
		if ((line = strndup(s, n)) == NULL) {
			config_error(p, "out of memory");
			break;
		}
		config_line(p, cf, line);
		free(line);
	}
}

/* Copy a NULL-terminated list of strings; NULL is an empty list. */
static char **
config_dup_list(char *const *list)
{
	char	**out;
	size_t	  i, n = 0;

	while (list != NULL && list[n] != NULL)
		n++;
	if ((out = calloc(n + 1, sizeof *out)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if ((out[i] = strdup(list[i])) == NULL) {
			while (i-- > 0)
				free(out[i]);
			free(out);
			return (NULL);
		}
	}
	return (out);
}

/*
 * Apply the -o overrides on top of the file, as lines of their own: a key
 * given with -o replaces the file's value (every -o listen together
 * replace the file's addresses). cf keeps a copy, for reloads.
 */
static void
config_apply_overrides(struct config_parse *p, struct config *cf,
    char *const *overrides)
{
	char		*line;
	const char	*o;
	size_t		 i;

	if ((cf->cf_overrides = config_dup_list(overrides)) == NULL) {
		config_error(p, "out of memory");
		return;
	}
	p->p_overrides = cf->cf_overrides;
	p->p_listen_set = 0;
	for (i = 0; (o = cf->cf_overrides[i]) != NULL; i++) {
		p->p_override = o;
		p->p_onum = (unsigned int)i + 1;
		if (strchr(o, '=') == NULL || o[strspn(o, " \t")] == '#') {
			config_error(p, "expected KEY=VALUE");
			continue;
		}
		if ((line = strdup(o)) == NULL) {
			config_error(p, "out of memory");
			break;
		}
		config_line(p, cf, line);
		free(line);
	}
	p->p_override = NULL;
}

/*
 * The absolute form of a relative path, for messages: the current
 * directory in front, `.` and `..` folded away (as text: a symlink
 * followed by `..` may not lead there). NULL if out of memory.
 */
static char *
config_shown_path(const char *path)
{
	char	 cwd[PATH_MAX], *full, *out, *seg, *save, *o;
	size_t	 len;

	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return (strdup(path));
	if (asprintf(&full, "%s/%s", cwd, path) == -1)
		return (NULL);
	if ((out = malloc(strlen(full) + 2)) == NULL) {
		free(full);
		return (NULL);
	}
	o = out;
	for (seg = strtok_r(full, "/", &save); seg != NULL;
	    seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			while (o > out && *--o != '/')
				;
			continue;
		}
		len = strlen(seg);
		*o++ = '/';
		memcpy(o, seg, len);
		o += len;
	}
	if (o == out)
		*o++ = '/';
	*o = '\0';
	free(full);
	return (out);
}

/*
 * pages_load()'s cause for root, with root made absolute when it is
 * relative: "/srv/x/hello.html: No such file or directory". NULL if out
 * of memory.
 */
static char *
config_root_cause(const char *root, const char *cause)
{
	size_t	 rlen = strlen(root);
	char	*shown, *out;

	if (root[0] == '/' || strncmp(cause, root, rlen) != 0 ||
	    cause[rlen] != '/')
		return (strdup(cause));
	if ((shown = config_shown_path(root)) == NULL)
		return (NULL);
	if (asprintf(&out, "%s%s", strcmp(shown, "/") == 0 ? "" : shown,
	    cause + rlen) == -1)
		out = NULL;
	free(shown);
	return (out);
}

/*
 * Load the pages under root, so that a bad root is reported with the
 * other errors: at its line, or its -o, or as the default. Returns the
 * pages, or NULL with the error counted.
 */
static struct pages *
config_load_root(struct config_parse *p, struct config *cf)
{
	const struct config_key	*keys, *k = config_key_find("root");
	struct pages		*ps;
	char			*cause, *why = NULL, *line;
	const char		*msg;
	size_t			 n, idx;

	if (cf->cf_root == NULL) {		/* out of memory */
		p->p_errors++;
		return (NULL);
	}
	if ((ps = pages_load(cf->cf_root, &cause)) != NULL)
		return (ps);
	keys = config_keys(&n);
	idx = (size_t)(k - keys);
	if (cause != NULL)
		why = config_root_cause(cf->cf_root, cause);
	msg = why != NULL ? why : "out of memory";
	if (p->p_oseen[idx] != 0) {
		p->p_override = p->p_overrides[p->p_oseen[idx] - 1];
		config_error(p, "root: %s", msg);
		p->p_override = NULL;
	} else if (p->p_seen[idx] != 0) {
		p->p_line = p->p_seen[idx];
		config_error(p, "root: %s", msg);
	} else if (asprintf(&line, "root (not set: the default): %s",
	    msg) == -1)
		p->p_errors++;
	else {
		config_add_error(p, p->p_path, line);	/* no line to name */
		free(line);
	}
	free(why);
	free(cause);
	return (NULL);
}

/* A config with every key at its default; NULL if out of memory. */
static struct config *
config_new(const char *path)
{
	struct config	*cf;

	if ((cf = calloc(1, sizeof *cf)) == NULL)
		return (NULL);
	if ((cf->cf_path = strdup(path)) == NULL ||
	    config_key_defaults(cf) == -1) {
		config_free(cf);
		return (NULL);
	}
	return (cf);
}

/* cf if p saw no error; otherwise NULL, with every error in *errors. */
static struct config *
config_finish(struct config_parse *p, struct config *cf, char **errors)
{
	if (p->p_errors != 0) {
		*errors = p->p_msgs;
		if (*errors == NULL)
			*errors = strdup("out of memory\n");
		config_free(cf);
		return (NULL);
	}
	free(p->p_msgs);
	return (cf);
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

	*errors = NULL;
	memset(&p, 0, sizeof p);
	p.p_path = path;
	if ((cf = config_new(path)) == NULL) {
		*errors = strdup("out of memory\n");
		return (NULL);
	}
	config_parse_text(&p, cf, text, len);
	return (config_finish(&p, cf, errors));
}

/* Read a whole file (NUL-terminated); NULL with *errors set if it can't. */
static char *
config_read(const char *path, size_t *len, char **errors)
{
	FILE	*f;
	char	*buf;
	int	 saved;

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
	*len = fread(buf, 1, CONF_MAX_FILE + 1, f);
	if (ferror(f)) {
		saved = errno;
		if (asprintf(errors, "%s: %s\n", path, strerror(saved)) == -1)
			*errors = NULL;
		free(buf);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	if (*len > CONF_MAX_FILE) {
		if (asprintf(errors, "%s: larger than %d bytes\n", path,
		    CONF_MAX_FILE) == -1)
			*errors = NULL;
		free(buf);
		return (NULL);
	}
	return (buf);
}

/*
 * Read and parse a file, apply the overrides (a NULL-terminated list of
 * "KEY=VALUE", or NULL), then load the pages under root. Errors as for
 * config_parse(), from all three in one list. The config keeps the
 * overrides, for a reload to apply them again. With psp, a config comes
 * with its pages in *psp (read once: the daemon serves these); without,
 * they are only checked.
 */
struct config *
config_load(const char *path, char *const *overrides, struct pages **psp,
    char **errors)
{
	struct config_parse	 p;
	struct config		*cf;
	struct pages		*ps;
	char			*buf;
	size_t			 len;

	if (psp != NULL)
		*psp = NULL;

	*errors = NULL;
	if ((buf = config_read(path, &len, errors)) == NULL)
		return (NULL);
	memset(&p, 0, sizeof p);
	p.p_path = path;
	if ((cf = config_new(path)) == NULL) {
		free(buf);
		*errors = strdup("out of memory\n");
		return (NULL);
	}
	config_parse_text(&p, cf, buf, len);
	free(buf);
	config_apply_overrides(&p, cf, overrides);
	ps = config_load_root(&p, cf);
	if ((cf = config_finish(&p, cf, errors)) == NULL || psp == NULL)
		pages_free(ps);
	else
		*psp = ps;
	return (cf);
}

/* Free a config; NULL is fine. */
void
config_free(struct config *cf)
{
	size_t	i;

	if (cf == NULL)
		return;
	config_clear_listen(cf);
	free(cf->cf_listen);
	config_free_addr(cf->cf_metrics);
	free(cf->cf_root);
	free(cf->cf_access_path);
	free(cf->cf_user);
	free(cf->cf_path);
	for (i = 0; cf->cf_overrides != NULL && cf->cf_overrides[i] != NULL;
	    i++)
		free(cf->cf_overrides[i]);
	free(cf->cf_overrides);
	free(cf);
}
