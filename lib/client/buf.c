#include "client/buf.h"

#include <stdlib.h>
#include <string.h>

void cbuf_init(struct cbuf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

int cbuf_reserve(struct cbuf *b, size_t n)
{
	size_t need, nalloc;
	char *np;

	if (n > b->max - b->len)
		return -1;
	need = b->len + n + 1; /* room for the NUL */
	if (need <= b->alloc)
		return 0;
	nalloc = b->alloc ? b->alloc : 256;
	while (nalloc < need)
		nalloc *= 2;
	if (nalloc > b->max + 1)
		nalloc = b->max + 1;
	np = realloc(b->p, nalloc);
	if (!np)
		return -1;
	b->p = np;
	b->alloc = nalloc;
	return 0;
}

int cbuf_add(struct cbuf *b, const void *data, size_t n)
{
	if (cbuf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int cbuf_adds(struct cbuf *b, const char *s)
{
	return cbuf_add(b, s, strlen(s));
}

void cbuf_consume(struct cbuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->p, b->p + n, b->len - n);
		b->len -= n;
	}
	if (b->p)
		b->p[b->len] = '\0';
}

void cbuf_reset(struct cbuf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

char *cbuf_take(struct cbuf *b, size_t *len)
{
	char *p = b->p;

	if (!p)
		p = calloc(1, 1);
	if (len)
		*len = p ? b->len : 0;
	b->p = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

void cbuf_free(struct cbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->alloc = 0;
}
