/* sealroom-mkvectors — regenerate spec/vectors/crypto.json and spec/vectors/signed_strings.json
 * from the fixed §18.1 seeds (see crypto/vectors.h). Deterministic: the same bytes every run.
 *
 *	sealroom-mkvectors [--check] [DIR]     (DIR defaults to spec/vectors)
 *
 * Without --check the files are (re)written; with --check nothing is written and the exit
 * status is 1 if a file differs from what would be written. Exit 2 on usage or I/O errors.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/vectors.h"

struct mk_file {
	const char *name;
	char *(*make)(void);
};

static const struct mk_file mk_files[] = {
	{ "crypto.json", vectors_crypto_json },
	{ "signed_strings.json", vectors_signed_strings_json },
};

/* Read a whole file into a fresh NUL-terminated heap string; NULL if unreadable. */
static char *mk_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static int mk_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	size_t n = strlen(text);

	if (!f)
		return -1;
	if (fwrite(text, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *dir = "spec/vectors";
	bool check = false;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0) {
			check = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: %s [--check] [DIR]\n"
			       "Write DIR/crypto.json and DIR/signed_strings.json (DIR defaults\n"
			       "to spec/vectors) from the fixed PROTOCOL.md §18.1 seeds.\n"
			       "  --check  write nothing; exit 1 if a file differs\n",
			       argv[0]);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "%s: unknown option %s (try --help)\n", argv[0], argv[i]);
			return 2;
		} else {
			dir = argv[i];
		}
	}
	if (crypto_init() != 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(mk_files) / sizeof(mk_files[0]); i++) {
		char path[4096], *text = mk_files[i].make(), *old;

		if (!text || (size_t)snprintf(path, sizeof(path), "%s/%s", dir, mk_files[i].name) >=
				     sizeof(path)) {
			fprintf(stderr, "%s: cannot build %s\n", argv[0], mk_files[i].name);
			free(text);
			return 2;
		}
		if (check) {
			old = mk_read(path);
			if (!old || strcmp(old, text) != 0) {
				fprintf(stderr, "%s: %s is out of date\n", argv[0], path);
				status = 1;
			}
			free(old);
		} else if (mk_write(path, text) != 0) {
			fprintf(stderr, "%s: cannot write %s\n", argv[0], path);
			free(text);
			return 2;
		} else {
			printf("wrote %s\n", path);
		}
		free(text);
	}
	return status;
}
