#include "client/http.h"

#include "client/buf.h"
#include "client/curlglobal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct http_client {
	CURL *easy;
	char *interface;	/* "host!ADDR" or NULL */
	struct cbuf body;
	struct cbuf hdrs;
	char errbuf[CURL_ERROR_SIZE];
};

struct http_client *http_client_new(const char *source_ip)
{
	struct http_client *c;

	if (curlglobal_init() < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->easy = curl_easy_init();
	if (!c->easy)
		goto fail;
	if (source_ip && *source_ip) {
		/* "host!" forces a local address instead of an interface name lookup. */
		if (asprintf(&c->interface, "host!%s", source_ip) < 0) {
			c->interface = NULL;
			goto fail;
		}
	}
	cbuf_init(&c->body, HTTP_BODY_MAX_BYTES);
	cbuf_init(&c->hdrs, HTTP_HEADERS_MAX_BYTES);
	return c;
fail:
	if (c->easy)
		curl_easy_cleanup(c->easy);
	free(c);
	return NULL;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->easy);
	free(c->interface);
	cbuf_free(&c->body);
	cbuf_free(&c->hdrs);
	free(c);
}

const char *http_client_error(const struct http_client *c)
{
	return c->errbuf;
}

static size_t http_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_client *c = ud;
	size_t n = size * nmemb;

	if (cbuf_add(&c->body, ptr, n) < 0)
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	return n;
}

static size_t http_header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_client *c = ud;
	size_t n = size * nmemb;

	/* A new status line starts a new header block (1xx interim answers): keep only the
	 * final one. */
	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
		cbuf_reset(&c->hdrs);
	if (cbuf_add(&c->hdrs, ptr, n) < 0)
		return 0;
	return n;
}

static bool http_has_header(const char *const *headers, const char *name)
{
	size_t nl = strlen(name);

	for (; headers && *headers; headers++) {
		if (strncasecmp(*headers, name, nl) == 0 &&
		    ((*headers)[nl] == ':' || (*headers)[nl] == ';'))
			return true;
	}
	return false;
}

int http_do(struct http_client *c, const char *method, const char *url,
	    const char *const *headers, const char *body, size_t body_len, long timeout_ms,
	    struct http_resp *out)
{
	CURL *e = c->easy;
	struct curl_slist *list = NULL, *tmp;
	CURLcode rc;
	long status = 0;
	double total = 0;
	bool head = strcmp(method, "HEAD") == 0;
	int ret = -1;

	c->errbuf[0] = '\0';
	cbuf_reset(&c->body);
	cbuf_reset(&c->hdrs);
	/* Reset options but keep the connection cache, so keep-alive survives. */
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* CLIENT-9 */
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	if (c->interface)
		curl_easy_setopt(e, CURLOPT_INTERFACE, c->interface);
	if (timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);

	if (head) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") == 0 && !body) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		if (body) {
			/* The size first, so COPYPOSTFIELDS copies exactly body_len bytes. */
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
			curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
		} else if (strcmp(method, "POST") == 0) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		}
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}

	for (const char *const *h = headers; h && *h; h++) {
		tmp = curl_slist_append(list, *h);
		if (!tmp) {
			snprintf(c->errbuf, sizeof(c->errbuf), "out of memory");
			goto out;
		}
		list = tmp;
	}
	if (body && !http_has_header(headers, "Content-Type")) {
		/* Remove libcurl's application/x-www-form-urlencoded default (HTTP-11 cases
		 * need a body without a type). */
		tmp = curl_slist_append(list, "Content-Type:");
		if (!tmp)
			goto out;
		list = tmp;
	}
	if (!http_has_header(headers, "Expect")) {
		tmp = curl_slist_append(list, "Expect:");
		if (!tmp)
			goto out;
		list = tmp;
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);

	rc = curl_easy_perform(e);
	if (rc != CURLE_OK) {
		if (!c->errbuf[0])
			snprintf(c->errbuf, sizeof(c->errbuf), "%s", curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &total);

	memset(out, 0, sizeof(*out));
	out->status = status;
	out->total_s = total;
	out->body = cbuf_take(&c->body, &out->body_len);
	out->headers = cbuf_take(&c->hdrs, &out->headers_len);
	if (!out->body || !out->headers) {
		http_resp_free(out);
		snprintf(c->errbuf, sizeof(c->errbuf), "out of memory");
		goto out;
	}
	ret = 0;
out:
	/* The slist must outlive the transfer only; detach it before freeing. */
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(list);
	return ret;
}

const char *http_headers_find(const char *block, size_t len, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *p = block, *end = block + len;
	bool first = true;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		const char *next = eol ? eol + 1 : end;

		if (le > p && le[-1] == '\r')
			le--;
		/* The first line is the status line; skip it. */
		if (!first && (size_t)(le - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			const char *v = p + nl + 1, *ve = le;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (vlen)
				*vlen = (size_t)(ve - v);
			return v;
		}
		if (!first && le == p)
			break; /* blank line: end of the block */
		first = false;
		p = next;
	}
	return NULL;
}

int http_headers_count(const char *block, size_t len, const char *name)
{
	int n = 0;
	size_t vlen;
	const char *v;

	while ((v = http_headers_find(block, len, name, &vlen))) {
		n++;
		/* Continue after this line: restart the scan on a block whose first line is the
		 * rest of the matched one, which the finder skips as a "status line". */
		len -= (size_t)(v + vlen - block);
		block = v + vlen;
	}
	return n;
}

const char *http_header(const struct http_resp *r, const char *name, size_t *len)
{
	if (!r->headers)
		return NULL;
	return http_headers_find(r->headers, r->headers_len, name, len);
}

int http_header_count(const struct http_resp *r, const char *name)
{
	if (!r->headers)
		return 0;
	return http_headers_count(r->headers, r->headers_len, name);
}

bool http_header_is(const struct http_resp *r, const char *name, const char *value)
{
	size_t n;
	const char *v = http_header(r, name, &n);

	return v && n == strlen(value) && memcmp(v, value, n) == 0;
}

void http_resp_free(struct http_resp *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}
