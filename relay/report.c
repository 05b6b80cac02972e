#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "proto/clock.h"
#include "proto/json.h"
#include "proto/utf16.h"

/* strerror is not thread-safe; strerror_r into a per-thread buffer is. */
static const char *errstr(int e)
{
	static _Thread_local char buf[128];
	return strerror_r(e, buf, sizeof(buf)); /* GNU: returns the message to use */
}

#define UA_UNITS 200

struct bline {
	struct bline *next;
	size_t len;
	char *text;
};

struct bugs {
	char *path, *rotated;     /* NULL: discard (RPT-4) */
	int64_t max_bytes;
	char salt[257];
	FILE *log;
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* queue changed / stop */
	struct bline *head, *tail;
	size_t queued, dropped;
	bool busy, stop, running;
	pthread_t thread;
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* RPT-4: rotate when over the limit, then append one line. Errors are logged, never fatal. */
static void append_line(struct bugs *b, const struct bline *l)
{
	struct stat st;
	if (stat(b->path, &st) == 0 && st.st_size > b->max_bytes && rename(b->path, b->rotated) < 0)
		fprintf(b->log, "sealroom-relay: bugs: cannot rotate %s: %s\n", b->path, errstr(errno));
	int fd = open(b->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(b->log, "sealroom-relay: bugs: cannot open %s: %s\n", b->path, errstr(errno));
		return;
	}
	if (write_all(fd, l->text, l->len) < 0 || write_all(fd, "\n", 1) < 0)
		fprintf(b->log, "sealroom-relay: bugs: cannot write %s: %s\n", b->path, errstr(errno));
	close(fd);
}

static void *writer_main(void *arg)
{
	struct bugs *b = arg;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->head && !b->stop)
			pthread_cond_wait(&b->cv, &b->mu);
		if (!b->head)
			break; /* stopping with nothing left */
		struct bline *l = b->head;
		b->head = l->next;
		if (!b->head)
			b->tail = NULL;
		b->queued--;
		b->busy = true;
		size_t dropped = b->dropped;
		b->dropped = 0;
		pthread_mutex_unlock(&b->mu);
		if (dropped)
			fprintf(b->log, "sealroom-relay: bugs: %zu reports dropped (writer queue full)\n", dropped);
		append_line(b, l);
		free(l->text);
		free(l);
		pthread_mutex_lock(&b->mu);
		b->busy = false;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

struct bugs *bugs_new(const char *path, int64_t max_bytes, const char *salt, FILE *log)
{
	struct bugs *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->max_bytes = max_bytes;
	b->log = log ? log : stderr;
	if (salt && salt[0]) {
		snprintf(b->salt, sizeof(b->salt), "%s", salt);
	} else {
		unsigned char r[16];
		randombytes_buf(r, sizeof(r)); /* RPT-3 (sealroom): random per start */
		sodium_bin2hex(b->salt, sizeof(b->salt), r, sizeof(r));
	}
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	if (path && path[0]) {
		size_t n = strlen(path);
		b->path = strdup(path);
		b->rotated = malloc(n + 3);
		if (!b->path || !b->rotated)
			goto fail;
		memcpy(b->rotated, path, n);
		memcpy(b->rotated + n, ".1", 3);
		if (pthread_create(&b->thread, NULL, writer_main, b) != 0)
			goto fail;
		b->running = true;
	}
	return b;
fail:
	free(b->path);
	free(b->rotated);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
	return NULL;
}

void bugs_free(struct bugs *b)
{
	if (!b)
		return;
	if (b->running) {
		pthread_mutex_lock(&b->mu);
		b->stop = true;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->thread, NULL);
	}
	struct bline *l = b->head;
	while (l) {
		struct bline *n = l->next;
		free(l->text);
		free(l);
		l = n;
	}
	free(b->path);
	free(b->rotated);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
}

int bugs_submit(struct bugs *b, char *line, size_t len)
{
	if (!b->running) {
		free(line); /* RPT-4 (sealroom): BUGS_LOG unset, discard */
		return 0;
	}
	struct bline *l = malloc(sizeof(*l));
	int rc = 0;
	pthread_mutex_lock(&b->mu);
	if (!l || b->queued >= BUGS_QUEUE_MAX) {
		b->dropped++;
		rc = -1;
	} else {
		l->next = NULL;
		l->text = line;
		l->len = len;
		if (b->tail)
			b->tail->next = l;
		else
			b->head = l;
		b->tail = l;
		b->queued++;
		pthread_cond_broadcast(&b->cv);
		line = NULL;
		l = NULL;
	}
	pthread_mutex_unlock(&b->mu);
	free(l);
	free(line);
	return rc;
}

void bugs_flush(struct bugs *b)
{
	if (!b->running)
		return;
	pthread_mutex_lock(&b->mu);
	while (b->head || b->busy)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

void bugs_ip_hash(const struct bugs *b, const char *ip, char out[13])
{
	struct crypto_sha256 h;
	char hex[65];
	crypto_sha256_begin(&h);
	crypto_sha256_update(&h, ip, strlen(ip));
	crypto_sha256_update(&h, "|", 1);
	crypto_sha256_update(&h, b->salt, strlen(b->salt));
	crypto_sha256_final_hex(&h, hex);
	memcpy(out, hex, 12); /* INV-12: truncated salted hash */
	out[12] = '\0';
}

/* RPT-2/3 free text: a string is cut at its first U+0000 (HTTP-17), then truncated to max
 * units; anything else is "". */
static void put_field(struct jw *w, const cJSON *body, const char *key, size_t max)
{
	const char *s = "";
	size_t len = 0;
	if (json_str(json_get(body, key), &s, &len))
		len = u16_truncate(s, u8_cut_nul(s, len), max);
	jw_key(w, key);
	jw_str(w, s, len);
}

bool bugs_what_ok(const cJSON *body)
{
	const char *s;
	size_t len;
	if (!json_str(json_get(body, "what"), &s, &len))
		return false;
	len = u16_truncate(s, u8_cut_nul(s, len), 4000);
	return u16_len(s, len) >= 5;
}

/* A header value is raw bytes: keep valid UTF-8 sequences, replace every other byte with
 * U+FFFD, so the log line stays valid JSON. out needs 3 * n bytes. */
static size_t utf8_sanitize(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
		if (i + k <= n && utf8_valid(s + i, k) && s[i] != '\0') {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		} else {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	return o;
}

char *bugs_entry(const struct bugs *b, const cJSON *body, const char *ua, const char *ip, const char *id,
		 int64_t now_ms, size_t *len)
{
	static const char *const sev[] = {"low", "medium", "high", "critical"};
	char iso[25], hash[13];
	struct jw w;
	const char *sv = "medium", *s;
	size_t sl;

	if (json_str(json_get(body, "severity"), &s, &sl))
		for (size_t i = 0; i < sizeof(sev) / sizeof(sev[0]); i++)
			if (strcmp(s, sev[i]) == 0)
				sv = sev[i];
	size_t ua_in = ua ? strlen(ua) : 0;
	if (ua_in > UA_UNITS * 4)
		ua_in = UA_UNITS * 4; /* 200 units are at most 800 bytes */
	char *uabuf = malloc(ua_in * 3 + 1);
	if (!uabuf)
		return NULL;
	size_t ual = utf8_sanitize(ua ? ua : "", ua_in, uabuf);
	ual = u16_truncate(uabuf, ual, UA_UNITS);
	bugs_ip_hash(b, ip, hash);

	jw_init(&w, 1024, 128 * 1024); /* 10 700 units, <= 6 bytes each escaped */
	jw_obj(&w); /* RPT-3, in this key order */
	jw_key(&w, "id");
	jw_cstr(&w, id);
	jw_key(&w, "ts");
	jw_cstr(&w, clock_iso8601(now_ms, iso));
	put_field(&w, body, "what", 4000);
	put_field(&w, body, "where", 500);
	put_field(&w, body, "repro", 4000);
	put_field(&w, body, "context", 2000);
	put_field(&w, body, "contact", 200);
	jw_key(&w, "severity");
	jw_cstr(&w, sv);
	jw_key(&w, "ua");
	jw_str(&w, uabuf, ual);
	jw_key(&w, "ip_hash");
	jw_cstr(&w, hash);
	jw_obj_end(&w);
	free(uabuf);
	return jw_take(&w, len);
}
