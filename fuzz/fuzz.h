/* fuzz — helpers shared by the libFuzzer targets in this folder (fuzz_*.c).
 *
 * Every target defines LLVMFuzzerTestOneInput() and reads only the bytes it is given: no
 * sockets, no files, no clock-dependent assertions. A broken property aborts through
 * FUZZ_CHECK(), which libFuzzer reports as a crash and saves as an artifact.
 *
 * struct fz splits one input into typed pieces, front to back; a piece asked for past the end
 * is empty or zero, so a target never reads outside the input. Everything here is static
 * inline: each target is a single translation unit.
 */
#ifndef SEALROOM_FUZZ_FUZZ_H
#define SEALROOM_FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                    \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                     \
			abort();                                                            \
		}                                                                           \
	} while (0)

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline struct fz fz_init(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	return f;
}

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = (v << 8) | fz_u8(f);
	return v;
}

static inline uint64_t fz_u64(struct fz *f)
{
	return ((uint64_t)fz_u32(f) << 32) | fz_u32(f);
}

/* The next piece up to (not including) the byte sep, or the rest of the input when sep does
 * not occur; the separator is consumed. Not NUL-terminated. */
static inline const char *fz_until(struct fz *f, uint8_t sep, size_t *len)
{
	const uint8_t *start = f->p;
	const uint8_t *end = memchr(f->p, sep, f->n);
	size_t k = end ? (size_t)(end - start) : f->n;
	*len = k;
	f->p += k;
	f->n -= k;
	if (end) {
		f->p++;
		f->n--;
	}
	return (const char *)start;
}

/* The rest of the input. */
static inline const char *fz_rest(struct fz *f, size_t *len)
{
	const char *s = (const char *)f->p;
	*len = f->n;
	f->p += f->n;
	f->n = 0;
	return s;
}

/* A malloc'd NUL-terminated copy of len bytes at s (aborts on allocation failure, which
 * libFuzzer's -rss_limit_mb turns into a report anyway). The copy is exactly len + 1 bytes,
 * so ASan catches any read past the terminator. */
static inline char *fz_strdup(const char *s, size_t len)
{
	char *c = len < SIZE_MAX ? malloc(len + 1) : NULL;
	if (!c)
		abort();
	if (len)
		memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

/* A malloc'd copy of exactly len bytes (no terminator): reads past the end are caught. */
static inline char *fz_memdup(const char *s, size_t len)
{
	char *c = malloc(len ? len : 1);
	if (!c)
		abort();
	if (len)
		memcpy(c, s, len);
	return c;
}

#endif
