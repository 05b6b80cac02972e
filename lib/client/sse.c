#include "client/sse.h"

#include "client/buf.h"
#include "client/chunked.h"
#include "client/curlglobal.h"
#include "client/http.h"
#include "proto/clock.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SSE_DEFAULT_CONNECT_MS 10000
#define SSE_EPOLL_BATCH 256

struct sse_stream {
	struct sse_pool *pool;
	struct sse_stream *prev, *next;	/* all streams of the pool */
	struct sse_stream *next_q;	/* pending-add queue */
	struct sse_stream *next_dead;	/* graveyard queue */
	CURL *easy;
	struct curl_slist *req_headers;
	void *ud;
	struct sse_parser parser;
	struct chunked_dec dec;
	struct cbuf hdrs;
	struct cbuf body;		/* non-2xx body, or the raw capture */
	bool capture;			/* keep 2xx stream bytes in body */
	long status;
	bool headers_done, is_2xx, chunked;
	bool in_multi, ended, removed;
	char tail[4];			/* last bytes of the current chunk's data */
	size_t tail_len;
	struct sse_stats stats;
	const char *error;		/* failbuf or errbuf once the stream failed */
	char failbuf[96];		/* our own failure text */
	char errbuf[CURL_ERROR_SIZE];	/* libcurl's (CURLOPT_ERRORBUFFER) */
};

struct sse_pool {
	struct sse_pool_cfg cfg;
	CURLM *multi;
	int ep;
	int wakefd;
	int64_t timer_deadline;		/* mono ms, -1 when curl wants no timeout */
	struct epoll_event *evs;
	struct sse_stream *streams;
	size_t count;
	struct sse_stream *pending;	/* added during a dispatch */
	struct sse_stream *graveyard;	/* removed during a dispatch */
	bool dispatching;
	int dispatched;
};

/* ---- stream data path ---- */

static void sse_stream_fail(struct sse_stream *s, const char *why)
{
	if (!s->error) {
		snprintf(s->failbuf, sizeof(s->failbuf), "%s", why);
		s->error = s->failbuf;
	}
}

static void sse_parsed_cb(void *ud, const struct sse_event *ev)
{
	struct sse_stream *s = ud;
	struct sse_pool *p = s->pool;

	if (ev->is_comment)
		s->stats.comments++;
	else
		s->stats.events++;
	if (s->removed)
		return;
	p->dispatched++;
	if (p->cfg.on_event)
		p->cfg.on_event(p->cfg.ud, s, s->ud, ev);
}

/* Does the data seen so far in this chunk end with a blank line (an event boundary)? */
static bool sse_tail_is_boundary(const struct sse_stream *s)
{
	size_t n = s->tail_len;

	if (n == 0 || (s->tail[n - 1] != '\n' && s->tail[n - 1] != '\r'))
		return false;
	/* Strip one line terminator (CRLF, LF or CR), then another must precede it. */
	if (n >= 2 && s->tail[n - 1] == '\n' && s->tail[n - 2] == '\r')
		n -= 2;
	else
		n -= 1;
	return n > 0 && (s->tail[n - 1] == '\n' || s->tail[n - 1] == '\r');
}

static void sse_tail_push(struct sse_stream *s, const char *data, size_t n)
{
	if (n >= sizeof(s->tail)) {
		memcpy(s->tail, data + n - sizeof(s->tail), sizeof(s->tail));
		s->tail_len = sizeof(s->tail);
		return;
	}
	if (s->tail_len + n > sizeof(s->tail)) {
		size_t drop = s->tail_len + n - sizeof(s->tail);

		memmove(s->tail, s->tail + drop, s->tail_len - drop);
		s->tail_len -= drop;
	}
	memcpy(s->tail + s->tail_len, data, n);
	s->tail_len += n;
}

/* Decoded body bytes; chunk_end marks the end of a chunk's data. */
static int sse_body_data(void *ud, const char *data, size_t n, bool chunk_end)
{
	struct sse_stream *s = ud;

	s->stats.bytes += n;
	if (!s->is_2xx) {
		/* Error bodies are short; a longer one is simply cut. */
		if (cbuf_add(&s->body, data, n) < 0 && s->body.len < s->body.max)
			cbuf_add(&s->body, data, s->body.max - s->body.len);
		return 0;
	}
	if (s->capture && s->body.len < s->body.max)
		cbuf_add(&s->body, data,
			 n < s->body.max - s->body.len ? n : s->body.max - s->body.len);
	if (s->chunked) {
		sse_tail_push(s, data, n);
		if (chunk_end) {
			s->stats.chunks++;
			/* SSE-12: a chunk holds whole events only. */
			if (!sse_tail_is_boundary(s))
				s->stats.chunks_split++;
			s->tail_len = 0;
		}
	}
	if (n && sse_parser_feed(&s->parser, data, n, sse_parsed_cb, s) < 0) {
		sse_stream_fail(s, "event larger than max_event_bytes");
		return -1;
	}
	return 0;
}

static size_t sse_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sse_stream *s = ud;
	size_t n = size * nmemb;

	if (s->removed)
		return n;
	if (s->chunked) {
		ssize_t used = chunked_feed(&s->dec, ptr, n, sse_body_data, s);

		if (used < 0) {
			sse_stream_fail(s, s->dec.error ? s->dec.error : "bad chunked framing");
			return 0;
		}
		/* Bytes after the last chunk are not part of the body; ignore them. */
		return n;
	}
	if (sse_body_data(s, ptr, n, false) < 0)
		return 0;
	return n;
}

/* "HTTP/1.1 200 ..." -> 200, or 0. */
static long sse_parse_status(const char *line, size_t n)
{
	const char *sp = memchr(line, ' ', n);
	long v = 0;

	if (!sp || (size_t)(sp - line) + 4 > n)
		return 0;
	for (int i = 1; i <= 3; i++) {
		if (sp[i] < '0' || sp[i] > '9')
			return 0;
		v = v * 10 + (sp[i] - '0');
	}
	return v;
}

static bool sse_te_chunked(const char *v, size_t n)
{
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n >= 7 && strncasecmp(v + n - 7, "chunked", 7) == 0;
}

static size_t sse_header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sse_stream *s = ud;
	struct sse_pool *p = s->pool;
	size_t n = size * nmemb;
	const char *te;
	size_t tel;
	long status;

	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
		cbuf_reset(&s->hdrs);
	if (cbuf_add(&s->hdrs, ptr, n) < 0) {
		sse_stream_fail(s, "response headers too large");
		return 0;
	}
	if (!((n == 2 && ptr[0] == '\r' && ptr[1] == '\n') || (n == 1 && ptr[0] == '\n')))
		return n;
	/* End of a header block. */
	status = sse_parse_status(s->hdrs.p, s->hdrs.len);
	if (status >= 100 && status < 200)
		return n; /* interim answer; the final one follows */
	s->status = status;
	s->is_2xx = status >= 200 && status < 300;
	te = http_headers_find(s->hdrs.p, s->hdrs.len, "Transfer-Encoding", &tel);
	s->chunked = te && sse_te_chunked(te, tel);
	s->headers_done = true;
	if (!s->removed && p->cfg.on_open)
		p->cfg.on_open(p->cfg.ud, s, s->ud, status);
	return n;
}

/* ---- pool plumbing ---- */

static int sse_sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct sse_pool *p = userp;
	struct epoll_event ev = { 0 };

	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(p->ep, EPOLL_CTL_DEL, fd, NULL); /* may already be closed */
		return 0;
	}
	ev.data.fd = fd;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev.events |= EPOLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev.events |= EPOLLOUT;
	if (socketp) {
		if (epoll_ctl(p->ep, EPOLL_CTL_MOD, fd, &ev) == 0)
			return 0;
	}
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &ev) < 0 && errno == EEXIST)
		epoll_ctl(p->ep, EPOLL_CTL_MOD, fd, &ev);
	/* Any non-NULL marker: this socket is in the epoll set. */
	curl_multi_assign(p->multi, fd, p);
	return 0;
}

static int sse_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct sse_pool *p = userp;

	p->timer_deadline = timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
	return 0;
}

struct sse_pool *sse_pool_new(const struct sse_pool_cfg *cfg)
{
	struct sse_pool *p;
	struct epoll_event ev = { .events = EPOLLIN };

	if (curlglobal_init() < 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cfg = *cfg;
	if (!p->cfg.max_event_bytes)
		p->cfg.max_event_bytes = SSE_EVENT_MAX_BYTES;
	if (p->cfg.connect_timeout_ms <= 0)
		p->cfg.connect_timeout_ms = SSE_DEFAULT_CONNECT_MS;
	p->ep = -1;
	p->wakefd = -1;
	p->timer_deadline = -1;
	p->evs = calloc(SSE_EPOLL_BATCH, sizeof(*p->evs));
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	p->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->multi = curl_multi_init();
	if (!p->evs || p->ep < 0 || p->wakefd < 0 || !p->multi)
		goto fail;
	ev.data.fd = p->wakefd;
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, p->wakefd, &ev) < 0)
		goto fail;
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, sse_sock_cb);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, sse_timer_cb);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	return p;
fail:
	sse_pool_free(p);
	return NULL;
}

static void sse_stream_destroy(struct sse_pool *p, struct sse_stream *s)
{
	if (s->in_multi)
		curl_multi_remove_handle(p->multi, s->easy);
	if (s->easy)
		curl_easy_cleanup(s->easy);
	curl_slist_free_all(s->req_headers);
	sse_parser_free(&s->parser);
	cbuf_free(&s->hdrs);
	cbuf_free(&s->body);
	free(s);
}

static void sse_unlink(struct sse_pool *p, struct sse_stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		p->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	p->count--;
}

void sse_pool_free(struct sse_pool *p)
{
	struct sse_stream *s, *n;

	if (!p)
		return;
	for (s = p->streams; s; s = n) {
		n = s->next;
		sse_stream_destroy(p, s);
	}
	for (s = p->graveyard; s; s = n) {
		n = s->next_dead;
		sse_stream_destroy(p, s);
	}
	if (p->multi)
		curl_multi_cleanup(p->multi);
	if (p->ep >= 0)
		close(p->ep);
	if (p->wakefd >= 0)
		close(p->wakefd);
	free(p->evs);
	free(p);
}

static struct sse_stream *sse_stream_new(struct sse_pool *p, const char *url,
					 const char *const *headers, const char *source_ip,
					 void *stream_ud, bool capture)
{
	struct sse_stream *s = calloc(1, sizeof(*s));
	bool has_accept = false;
	struct curl_slist *tmp;
	CURL *e;

	if (!s)
		return NULL;
	s->pool = p;
	s->ud = stream_ud;
	s->capture = capture;
	sse_parser_init(&s->parser, p->cfg.max_event_bytes);
	chunked_init(&s->dec);
	cbuf_init(&s->hdrs, SSE_HEADERS_MAX_BYTES);
	cbuf_init(&s->body, SSE_BODY_MAX_BYTES);
	for (const char *const *h = headers; h && *h; h++) {
		if (strncasecmp(*h, "Accept:", 7) == 0 || strncasecmp(*h, "Accept;", 7) == 0)
			has_accept = true;
		tmp = curl_slist_append(s->req_headers, *h);
		if (!tmp)
			goto fail;
		s->req_headers = tmp;
	}
	if (!has_accept) {
		tmp = curl_slist_append(s->req_headers, "Accept: text/event-stream");
		if (!tmp)
			goto fail;
		s->req_headers = tmp;
	}
	s->easy = e = curl_easy_init();
	if (!e)
		goto fail;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, p->cfg.connect_timeout_ms);
	/* We decode chunks ourselves to see their boundaries (SSE-12). */
	curl_easy_setopt(e, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->req_headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sse_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, sse_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	/* A stream is never reused by another transfer. */
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	if (p->cfg.recv_buffer_bytes > 0)
		curl_easy_setopt(e, CURLOPT_BUFFERSIZE, p->cfg.recv_buffer_bytes);
	if (source_ip && *source_ip) {
		char iface[80];

		if (snprintf(iface, sizeof(iface), "host!%s", source_ip) >= (int)sizeof(iface))
			goto fail;
		curl_easy_setopt(e, CURLOPT_INTERFACE, iface); /* copied by libcurl */
	}
	return s;
fail:
	sse_stream_destroy(p, s);
	return NULL;
}

static int sse_stream_start(struct sse_pool *p, struct sse_stream *s)
{
	if (curl_multi_add_handle(p->multi, s->easy) != CURLM_OK) {
		s->ended = true;
		sse_stream_fail(s, "curl_multi_add_handle failed");
		return -1;
	}
	s->in_multi = true;
	return 0;
}

static void sse_link(struct sse_pool *p, struct sse_stream *s)
{
	s->next = p->streams;
	if (p->streams)
		p->streams->prev = s;
	p->streams = s;
	p->count++;
}

static struct sse_stream *sse_pool_add_ex(struct sse_pool *p, const char *url,
					  const char *const *headers, const char *source_ip,
					  void *stream_ud, bool capture)
{
	struct sse_stream *s = sse_stream_new(p, url, headers, source_ip, stream_ud, capture);

	if (!s)
		return NULL;
	sse_link(p, s);
	if (p->dispatching) {
		s->next_q = p->pending;
		p->pending = s;
	} else {
		sse_stream_start(p, s);
	}
	return s;
}

struct sse_stream *sse_pool_add(struct sse_pool *p, const char *url, const char *const *headers,
				const char *source_ip, void *stream_ud)
{
	return sse_pool_add_ex(p, url, headers, source_ip, stream_ud, false);
}

void sse_pool_remove(struct sse_pool *p, struct sse_stream *s)
{
	if (!s || s->removed)
		return;
	s->removed = true;
	sse_unlink(p, s);
	if (p->dispatching) {
		/* curl may be inside this stream's callback: free it after the dispatch. */
		s->next_dead = p->graveyard;
		p->graveyard = s;
		return;
	}
	/* Not yet started streams sit in the pending queue only during a dispatch. */
	sse_stream_destroy(p, s);
}

static void sse_pool_after_dispatch(struct sse_pool *p)
{
	struct sse_stream *s, *n;

	p->dispatching = false;
	s = p->graveyard;
	p->graveyard = NULL;
	for (; s; s = n) {
		n = s->next_dead;
		/* A removed stream may still be queued for start; drop it from there. */
		for (struct sse_stream **pp = &p->pending; *pp; pp = &(*pp)->next_q) {
			if (*pp == s) {
				*pp = s->next_q;
				break;
			}
		}
		sse_stream_destroy(p, s);
	}
	s = p->pending;
	p->pending = NULL;
	for (; s; s = n) {
		n = s->next_q;
		s->next_q = NULL;
		sse_stream_start(p, s);
	}
}

static void sse_pool_reap(struct sse_pool *p)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(p->multi, &left))) {
		struct sse_stream *s = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		if (!s || s->ended)
			continue;
		s->ended = true;
		if (m->data.result != CURLE_OK) {
			if (!s->error) {
				if (!s->errbuf[0])
					snprintf(s->errbuf, sizeof(s->errbuf), "%s",
						 curl_easy_strerror(m->data.result));
				s->error = s->errbuf;
			}
		} else if (s->chunked && !s->dec.done) {
			sse_stream_fail(s, "stream ended inside a chunk");
		}
		/* The transfer is over: take it out of the multi now, it will not be reused. */
		curl_multi_remove_handle(p->multi, s->easy);
		s->in_multi = false;
		if (!s->removed && p->cfg.on_close)
			p->cfg.on_close(p->cfg.ud, s, s->ud, s->status, s->error);
	}
}

int sse_pool_run(struct sse_pool *p, long timeout_ms)
{
	int64_t now = clock_mono_ms();
	long wait = timeout_ms < 0 ? 0 : timeout_ms;
	int n, running, ret = 0;

	if (p->dispatching)
		return -1; /* not re-entrant */
	if (p->timer_deadline >= 0) {
		int64_t t = p->timer_deadline - now;

		if (t < 0)
			t = 0;
		if (t < wait)
			wait = (long)t;
	}
	n = epoll_wait(p->ep, p->evs, SSE_EPOLL_BATCH, (int)wait);
	if (n < 0 && errno != EINTR)
		return -1;
	p->dispatching = true;
	p->dispatched = 0;
	for (int i = 0; i < n; i++) {
		int fd = p->evs[i].data.fd, flags = 0;
		uint32_t e = p->evs[i].events;

		if (fd == p->wakefd) {
			uint64_t v;

			if (read(p->wakefd, &v, sizeof(v)) < 0) {
				/* EAGAIN: already drained */
			}
			continue;
		}
		if (e & EPOLLIN)
			flags |= CURL_CSELECT_IN;
		if (e & EPOLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (e & (EPOLLERR | EPOLLHUP))
			flags |= CURL_CSELECT_ERR;
		if (curl_multi_socket_action(p->multi, fd, flags, &running) != CURLM_OK)
			ret = -1;
	}
	if (p->timer_deadline >= 0 && clock_mono_ms() >= p->timer_deadline) {
		p->timer_deadline = -1;
		if (curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running) !=
		    CURLM_OK)
			ret = -1;
	}
	sse_pool_reap(p);
	sse_pool_after_dispatch(p);
	return ret < 0 ? -1 : p->dispatched;
}

void sse_pool_wake(struct sse_pool *p)
{
	uint64_t one = 1;

	if (write(p->wakefd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, a wakeup is pending anyway */
	}
}

size_t sse_pool_count(const struct sse_pool *p)
{
	return p->count;
}

/* ---- accessors ---- */

void *sse_stream_ud(const struct sse_stream *s)
{
	return s->ud;
}

long sse_stream_status(const struct sse_stream *s)
{
	return s->headers_done ? s->status : 0;
}

bool sse_stream_ended(const struct sse_stream *s)
{
	return s->ended;
}

const char *sse_stream_headers(const struct sse_stream *s, size_t *len)
{
	if (!s->headers_done)
		return NULL;
	if (len)
		*len = s->hdrs.len;
	return s->hdrs.p;
}

const char *sse_stream_header(const struct sse_stream *s, const char *name, size_t *len)
{
	if (!s->headers_done)
		return NULL;
	return http_headers_find(s->hdrs.p, s->hdrs.len, name, len);
}

int sse_stream_header_count(const struct sse_stream *s, const char *name)
{
	if (!s->headers_done)
		return 0;
	return http_headers_count(s->hdrs.p, s->hdrs.len, name);
}

bool sse_stream_chunked(const struct sse_stream *s)
{
	return s->chunked;
}

struct sse_stats sse_stream_stats(const struct sse_stream *s)
{
	return s->stats;
}

const char *sse_stream_body(const struct sse_stream *s, size_t *len)
{
	if (len)
		*len = s->body.len;
	return s->body.p ? s->body.p : "";
}

const char *sse_stream_error(const struct sse_stream *s)
{
	return s->error;
}

/* ---- blocking single stream ---- */

struct sse_qnode {
	struct sse_qnode *next;
	struct sse_event_copy ev;
};

struct sse_conn {
	struct sse_pool *pool;
	struct sse_stream *s;
	struct sse_qnode *head, *tail;
	bool oom;
};

void sse_event_copy_free(struct sse_event_copy *ev)
{
	if (!ev)
		return;
	free(ev->data);
	free(ev->id);
	memset(ev, 0, sizeof(*ev));
}

static void sse_conn_on_event(void *pool_ud, struct sse_stream *s, void *stream_ud,
			      const struct sse_event *ev)
{
	struct sse_conn *c = pool_ud;
	struct sse_qnode *q = calloc(1, sizeof(*q));

	if (!q)
		goto oom;
	q->ev.data = malloc(ev->data_len + 1);
	if (!q->ev.data)
		goto oom;
	memcpy(q->ev.data, ev->data, ev->data_len);
	q->ev.data[ev->data_len] = '\0';
	q->ev.data_len = ev->data_len;
	if (ev->has_id) {
		q->ev.id = malloc(ev->id_len + 1);
		if (!q->ev.id)
			goto oom;
		memcpy(q->ev.id, ev->id, ev->id_len);
		q->ev.id[ev->id_len] = '\0';
		q->ev.id_len = ev->id_len;
		q->ev.has_id = true;
	}
	q->ev.is_comment = ev->is_comment;
	q->ev.recv_ns = clock_mono_ns();
	if (c->tail)
		c->tail->next = q;
	else
		c->head = q;
	c->tail = q;
	return;
oom:
	if (q)
		sse_event_copy_free(&q->ev);
	free(q);
	c->oom = true;
}

struct sse_conn *sse_open_ex(const char *url, const char *const *headers, const char *source_ip,
			     long timeout_ms, char *err, size_t errcap)
{
	struct sse_pool_cfg cfg = { .on_event = sse_conn_on_event };
	struct sse_conn *c = calloc(1, sizeof(*c));
	int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : SSE_DEFAULT_CONNECT_MS);
	const char *why = "out of memory";

	if (!c)
		goto fail;
	cfg.ud = c;
	cfg.connect_timeout_ms = timeout_ms > 0 ? timeout_ms : SSE_DEFAULT_CONNECT_MS;
	c->pool = sse_pool_new(&cfg);
	if (!c->pool)
		goto fail;
	c->s = sse_pool_add_ex(c->pool, url, headers, source_ip, NULL, true);
	if (!c->s)
		goto fail;
	for (;;) {
		int64_t left;

		if (c->s->headers_done && (c->s->is_2xx || c->s->ended))
			return c;
		if (c->s->ended) {
			why = c->s->error ? c->s->error : "stream ended before its headers";
			goto fail;
		}
		left = deadline - clock_mono_ms();
		if (left <= 0) {
			why = c->s->headers_done ? "timeout reading the error body"
						 : "timeout waiting for response headers";
			goto fail;
		}
		if (sse_pool_run(c->pool, left > 100 ? 100 : (long)left) < 0) {
			why = "epoll/curl failure";
			goto fail;
		}
	}
fail:
	if (err && errcap)
		snprintf(err, errcap, "%s", why);
	sse_close(c);
	return NULL;
}

static int sse_pop(struct sse_conn *c, struct sse_event_copy *ev, bool skip_comments)
{
	while (c->head) {
		struct sse_qnode *q = c->head;

		c->head = q->next;
		if (!c->head)
			c->tail = NULL;
		if (skip_comments && q->ev.is_comment) {
			sse_event_copy_free(&q->ev);
			free(q);
			continue;
		}
		*ev = q->ev;
		free(q);
		return 1;
	}
	return 0;
}

static int sse_next_impl(struct sse_conn *c, struct sse_event_copy *ev, long timeout_ms,
			 bool skip_comments)
{
	int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		int64_t left;

		if (sse_pop(c, ev, skip_comments))
			return 1;
		if (c->s->ended || !c->s->is_2xx || c->oom)
			return -1;
		left = deadline - clock_mono_ms();
		if (left < 0)
			left = 0;
		if (sse_pool_run(c->pool, left > 100 ? 100 : (long)left) < 0)
			return -1;
		if (left == 0 && !c->head && !c->s->ended)
			return 0;
	}
}

int sse_next(struct sse_conn *c, struct sse_event_copy *ev, long timeout_ms)
{
	return sse_next_impl(c, ev, timeout_ms, false);
}

int sse_next_event(struct sse_conn *c, struct sse_event_copy *ev, long timeout_ms)
{
	return sse_next_impl(c, ev, timeout_ms, true);
}

int sse_wait_end(struct sse_conn *c, long timeout_ms)
{
	int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		int64_t left;

		if (c->s->ended)
			return 1;
		left = deadline - clock_mono_ms();
		if (left <= 0)
			return 0;
		if (sse_pool_run(c->pool, left > 100 ? 100 : (long)left) < 0)
			return 0;
	}
}

long sse_conn_status(const struct sse_conn *c)
{
	return sse_stream_status(c->s);
}

const char *sse_conn_headers(const struct sse_conn *c, size_t *len)
{
	return sse_stream_headers(c->s, len);
}

const char *sse_conn_header(const struct sse_conn *c, const char *name, size_t *len)
{
	return sse_stream_header(c->s, name, len);
}

int sse_conn_header_count(const struct sse_conn *c, const char *name)
{
	return sse_stream_header_count(c->s, name);
}

bool sse_conn_chunked(const struct sse_conn *c)
{
	return sse_stream_chunked(c->s);
}

struct sse_stats sse_conn_stats(const struct sse_conn *c)
{
	return sse_stream_stats(c->s);
}

const char *sse_conn_raw(const struct sse_conn *c, size_t *len)
{
	return sse_stream_body(c->s, len);
}

const char *sse_conn_error(const struct sse_conn *c)
{
	return sse_stream_error(c->s);
}

void sse_close(struct sse_conn *c)
{
	struct sse_qnode *q, *n;

	if (!c)
		return;
	for (q = c->head; q; q = n) {
		n = q->next;
		sse_event_copy_free(&q->ev);
		free(q);
	}
	sse_pool_free(c->pool); /* frees the stream too */
	free(c);
}
