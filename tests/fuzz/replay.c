/* SPDX-License-Identifier: ISC */
/*
 * main() for a fuzz harness built without libFuzzer (make check): run
 * each input through LLVMFuzzerTestOneInput() once, as a libFuzzer binary
 * does when given files. With no arguments it replays the harness's seed
 * corpus and regression inputs, $HELLOD_SRCDIR/tests/fuzz/corpus/NAME and
 * regress/NAME (NAME is FUZZ_NAME, set at build time); arguments are
 * files or directories to replay instead. A broken invariant aborts;
 * exit 0 means every input passed.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME (http, config, conn) must be defined"
#endif

static int	replay_path(const char *, int, size_t *);

/* Read a whole file into a heap block of exactly its size. */
static uint8_t *
replay_read(const char *path, size_t *len)
{
	FILE		*f;
	struct stat	 st;
	uint8_t		*buf;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	if (fstat(fileno(f), &st) == -1 ||
	    (buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)) == NULL) {
		fclose(f);
		return (NULL);
	}
	*len = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f) || *len != (size_t)st.st_size) {
		free(buf);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	return (buf);
}

/* Replay one file. */
static int
replay_file(const char *path, size_t *count)
{
	uint8_t	*buf;
	size_t	 len;

	if ((buf = replay_read(path, &len)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	(*count)++;
	return (0);
}

/* Replay every file in a directory, in name order, skipping dot files. */
static int
replay_dir(const char *dir, size_t *count)
{
	struct dirent	**names;
	char		 *path;
	int		  n, i, rc = 0;

	if ((n = scandir(dir, &names, NULL, alphasort)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && rc == 0) {
			if (asprintf(&path, "%s/%s", dir,
			    names[i]->d_name) == -1)
				rc = -1;
			else {
				rc = replay_path(path, 0, count);
				free(path);
			}
		}
		free(names[i]);
	}
	free(names);
	return (rc);
}

/* Replay a file or a directory; missing_ok: a missing path is empty. */
static int
replay_path(const char *path, int missing_ok, size_t *count)
{
	struct stat	st;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT && missing_ok)
			return (0);
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if (S_ISDIR(st.st_mode))
		return (replay_dir(path, count));
	return (replay_file(path, count));
}

int
main(int argc, char **argv)
{
	const char	*srcdir;
	char		*corpus, *regress;
	size_t		 ncorpus = 0, nregress = 0, n = 0;
	int		 i;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			if (replay_path(argv[i], 0, &n) == -1)
				return (1);
		}
		printf("replay %s: %zu input(s) ok\n", FUZZ_NAME, n);
		return (0);
	}

	if ((srcdir = getenv("HELLOD_SRCDIR")) == NULL)
		srcdir = ".";
	if (asprintf(&corpus, "%s/tests/fuzz/corpus/%s", srcdir,
	    FUZZ_NAME) == -1 || asprintf(&regress, "%s/tests/fuzz/regress/%s",
	    srcdir, FUZZ_NAME) == -1)
		return (1);
	if (replay_path(corpus, 0, &ncorpus) == -1 ||
	    replay_path(regress, 1, &nregress) == -1)
		return (1);
	if (ncorpus == 0) {
		fprintf(stderr, "replay %s: no input in %s\n", FUZZ_NAME,
		    corpus);
		return (1);
	}
	printf("replay %s: %zu seed and %zu regression input(s) ok\n",
	    FUZZ_NAME, ncorpus, nregress);
	free(corpus);
	free(regress);
	return (0);
}
