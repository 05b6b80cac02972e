/* sse — SSE framing and an incremental parser (PROTOCOL.md §7). See sse.h. */
#include "proto/sse.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SSE_DEFAULT_MAX (1u << 20)
#define SSE_MIN_ALLOC 256
/* A line may exceed max_event_bytes by this much: the field name, ':' and ' '. */
#define SSE_LINE_SLACK 64

size_t sse_frame_len(int64_t id, size_t len)
{
	size_t n = sizeof("data: ") - 1 + len + 2;

	if (id >= 0) {
		char tmp[24];

		n += sizeof("id: ") - 1 + (size_t)snprintf(tmp, sizeof(tmp), "%" PRId64, id) + 1;
	}
	return n;
}

size_t sse_frame(char *out, size_t cap, int64_t id, const char *json, size_t len)
{
	size_t o = 0;
	int k;

	/* A raw CR or LF inside the payload would end the data line early (SSE-9). */
	if (len > 0 && (memchr(json, '\n', len) || memchr(json, '\r', len)))
		return 0;
	if (cap < sse_frame_len(id, len))
		return 0;
	if (id >= 0) {
		k = snprintf(out, cap, "id: %" PRId64 "\n", id);
		o = (size_t)k;
	}
	memcpy(out + o, "data: ", 6);
	o += 6;
	if (len > 0)
		memcpy(out + o, json, len);
	o += len;
	out[o++] = '\n';
	out[o++] = '\n';
	return o;
}

int sse_parser_init(struct sse_parser *p, size_t max_event_bytes)
{
	memset(p, 0, sizeof(*p));
	p->max = max_event_bytes ? max_event_bytes : SSE_DEFAULT_MAX;
	if (p->max > SIZE_MAX / 4)
		p->max = SIZE_MAX / 4; /* so max + slack and buffer doubling cannot overflow */
	return 0;
}

/* Makes room for need bytes (plus a NUL) in *buf, never beyond max (+ NUL). */
static int sse_reserve(char **buf, size_t *cap, size_t need, size_t max)
{
	size_t ncap;
	char *nb;

	if (need > max)
		return -1;
	if (need + 1 <= *cap)
		return 0;
	/* Double from SSE_MIN_ALLOC while <= max / 2, so nothing overflows (max <= SIZE_MAX / 4). */
	ncap = *cap ? *cap : SSE_MIN_ALLOC;
	while (ncap < need + 1 && ncap <= max / 2)
		ncap *= 2;
	if (ncap < need + 1)
		ncap = need + 1;
	nb = realloc(*buf, ncap);
	if (!nb)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
}

static int sse_set(char **buf, size_t *len, size_t *cap, const char *s, size_t n, size_t max)
{
	if (sse_reserve(buf, cap, n, max) < 0)
		return -1;
	if (n)
		memcpy(*buf, s, n);
	(*buf)[n] = '\0';
	*len = n;
	return 0;
}

static void sse_dispatch(struct sse_parser *p, sse_event_cb cb, void *ud)
{
	struct sse_event ev;

	/* WHATWG: an empty data buffer dispatches nothing; the block's fields are dropped. */
	if (p->data_len > 0) {
		p->data_len--; /* the "\n" after the last data line */
		p->data[p->data_len] = '\0';
		ev.data = p->data;
		ev.data_len = p->data_len;
		ev.id = p->has_id ? p->id : "";
		ev.id_len = p->has_id ? p->id_len : 0;
		ev.has_id = p->has_id;
		ev.is_comment = false;
		if (cb)
			cb(ud, &ev);
	}
	p->data_len = 0;
	p->has_id = false;
	p->id_len = 0;
}

static int sse_line(struct sse_parser *p, const char *s, size_t len, sse_event_cb cb, void *ud)
{
	const char *colon, *val;
	size_t flen, vlen;

	if (!p->bom_done) {
		p->bom_done = true;
		if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
			s += 3;
			len -= 3;
		}
	}
	if (len == 0) {
		sse_dispatch(p, cb, ud);
		return 0;
	}
	colon = memchr(s, ':', len);
	if (colon) {
		flen = (size_t)(colon - s);
		val = colon + 1;
		vlen = len - flen - 1;
		if (vlen > 0 && val[0] == ' ') {
			val++;
			vlen--;
		}
	} else {
		flen = len;
		val = s + len;
		vlen = 0;
	}
	if (flen == 0) {
		/* Comment: reported so clients can count keepalives (SSE-11). */
		struct sse_event ev = { .data = val, .data_len = vlen, .id = "", .is_comment = true };

		if (cb)
			cb(ud, &ev);
		return 0;
	}
	if (flen == 4 && memcmp(s, "data", 4) == 0) {
		if (vlen + 1 > p->max - p->data_len ||
		    sse_reserve(&p->data, &p->data_cap, p->data_len + vlen + 1, p->max) < 0)
			return -1;
		memcpy(p->data + p->data_len, val, vlen);
		p->data_len += vlen;
		p->data[p->data_len++] = '\n';
	} else if (flen == 2 && memcmp(s, "id", 2) == 0) {
		if (memchr(val, '\0', vlen))
			return 0; /* WHATWG: an id containing NUL is ignored */
		if (sse_set(&p->id, &p->id_len, &p->id_cap, val, vlen, p->max) < 0 ||
		    sse_set(&p->last_id, &p->last_id_len, &p->last_id_cap, val, vlen, p->max) < 0)
			return -1;
		p->has_id = true;
	}
	/* "event", "retry" and unknown fields: ignored (SSE-9 sends none). */
	return 0;
}

int sse_parser_feed(struct sse_parser *p, const char *buf, size_t n, sse_event_cb cb, void *ud)
{
	size_t i = 0, lmax = p->max + SSE_LINE_SLACK;

	if (p->failed)
		return -1;
	if (p->skip_lf && n > 0) {
		if (buf[0] == '\n')
			i = 1; /* the LF of a CRLF split across feeds */
		p->skip_lf = false;
	}
	while (i < n) {
		size_t j = i;
		int rc;

		while (j < n && buf[j] != '\n' && buf[j] != '\r')
			j++;
		if (j == n) {
			/* Incomplete line: keep it for the next feed. */
			if (n - i > lmax - p->line_len ||
			    sse_reserve(&p->line, &p->line_cap, p->line_len + (n - i), lmax) < 0)
				goto fail;
			memcpy(p->line + p->line_len, buf + i, n - i);
			p->line_len += n - i;
			break;
		}
		if (p->line_len > 0) {
			if (j - i > lmax - p->line_len ||
			    sse_reserve(&p->line, &p->line_cap, p->line_len + (j - i), lmax) < 0)
				goto fail;
			memcpy(p->line + p->line_len, buf + i, j - i);
			p->line_len += j - i;
			rc = sse_line(p, p->line, p->line_len, cb, ud);
			p->line_len = 0;
		} else {
			if (j - i > lmax)
				goto fail;
			rc = sse_line(p, buf + i, j - i, cb, ud);
		}
		if (rc < 0)
			goto fail;
		if (buf[j] == '\r') {
			if (j + 1 < n) {
				if (buf[j + 1] == '\n')
					j++;
			} else {
				p->skip_lf = true;
			}
		}
		i = j + 1;
	}
	return 0;
fail:
	p->failed = true;
	return -1;
}

const char *sse_parser_last_id(const struct sse_parser *p, size_t *len)
{
	*len = p->last_id ? p->last_id_len : 0;
	return p->last_id ? p->last_id : "";
}

void sse_parser_reset(struct sse_parser *p)
{
	p->line_len = 0;
	p->data_len = 0;
	p->id_len = 0;
	p->has_id = false;
	p->last_id_len = 0;
	if (p->last_id)
		p->last_id[0] = '\0';
	p->skip_lf = false;
	p->bom_done = false;
	p->failed = false;
}

void sse_parser_free(struct sse_parser *p)
{
	free(p->line);
	free(p->data);
	free(p->id);
	free(p->last_id);
	sse_parser_init(p, p->max);
}
