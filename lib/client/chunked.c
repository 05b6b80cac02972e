#include "client/chunked.h"

#include <string.h>

enum {
	CH_SIZE,	/* hex digits of the chunk size */
	CH_EXT,		/* chunk extension, skipped up to CR */
	CH_SIZE_LF,	/* LF after the size line's CR */
	CH_DATA,
	CH_DATA_CR,	/* CR after the data */
	CH_DATA_LF,
	CH_TRAILER,	/* start of a trailer line (or the final empty line) */
	CH_TRAILER_TEXT,
	CH_TRAILER_LF,	/* LF ending a trailer line */
	CH_END_LF,	/* LF of the final empty line */
	CH_DONE,
};

#define CHUNKED_MAX_DIGITS 15

void chunked_init(struct chunked_dec *d)
{
	memset(d, 0, sizeof(*d));
	d->state = CH_SIZE;
}

static int chunked_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static ssize_t chunked_fail(struct chunked_dec *d, const char *why)
{
	d->error = why;
	return -1;
}

ssize_t chunked_feed(struct chunked_dec *d, const char *buf, size_t n, chunked_cb cb, void *ud)
{
	size_t i = 0;

	if (d->error)
		return -1;
	while (i < n && d->state != CH_DONE) {
		char c = buf[i];

		switch (d->state) {
		case CH_SIZE: {
			int h = chunked_hex(c);

			if (h >= 0) {
				if (++d->digits > CHUNKED_MAX_DIGITS)
					return chunked_fail(d, "chunk size too long");
				d->left = d->left * 16 + (uint64_t)h;
			} else if (d->digits == 0) {
				return chunked_fail(d, "chunk size expected");
			} else if (c == ';' || c == ' ' || c == '\t') {
				d->state = CH_EXT;
			} else if (c == '\r') {
				d->state = CH_SIZE_LF;
			} else {
				return chunked_fail(d, "bad chunk size line");
			}
			i++;
			break;
		}
		case CH_EXT:
			if (c == '\r')
				d->state = CH_SIZE_LF;
			else if (c == '\n')
				return chunked_fail(d, "bare LF in chunk size line");
			i++;
			break;
		case CH_SIZE_LF:
			if (c != '\n')
				return chunked_fail(d, "CR without LF in chunk size line");
			i++;
			d->digits = 0;
			d->state = d->left ? CH_DATA : CH_TRAILER;
			break;
		case CH_DATA: {
			size_t take = n - i;

			if (take > d->left)
				take = (size_t)d->left;
			d->left -= take;
			if (d->left == 0)
				d->chunks++;
			if (cb && cb(ud, buf + i, take, d->left == 0) < 0)
				return chunked_fail(d, "callback failed");
			i += take;
			if (d->left == 0)
				d->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
			if (c != '\r')
				return chunked_fail(d, "chunk data longer than its size");
			d->state = CH_DATA_LF;
			i++;
			break;
		case CH_DATA_LF:
			if (c != '\n')
				return chunked_fail(d, "CR without LF after chunk data");
			d->state = CH_SIZE;
			i++;
			break;
		case CH_TRAILER:
			if (c == '\r')
				d->state = CH_END_LF;
			else if (c == '\n')
				return chunked_fail(d, "bare LF in trailer");
			else
				d->state = CH_TRAILER_TEXT;
			i++;
			break;
		case CH_TRAILER_TEXT:
			if (c == '\r')
				d->state = CH_TRAILER_LF;
			i++;
			break;
		case CH_TRAILER_LF:
			if (c != '\n')
				return chunked_fail(d, "CR without LF in trailer");
			d->state = CH_TRAILER;
			i++;
			break;
		case CH_END_LF:
			if (c != '\n')
				return chunked_fail(d, "CR without LF after last chunk");
			d->state = CH_DONE;
			d->done = true;
			i++;
			break;
		default:
			return chunked_fail(d, "internal state");
		}
	}
	return (ssize_t)i;
}
