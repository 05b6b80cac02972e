#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/b64.h"
#include "proto/clock.h"
#include "proto/json.h"
#include "proto/utf16.h"
#include "proto/valid.h"

/* strerror is not thread-safe; strerror_r into a per-thread buffer is. */
static const char *errstr(int e)
{
	static _Thread_local char buf[128];
	return strerror_r(e, buf, sizeof(buf)); /* GNU: returns the message to use */
}

#define IDS_BUCKETS_MIN 256
#define IDS_RENDER_MAX ((size_t)1 << 34) /* far above STATE_FILE_MAX's reach */

struct idstore {
	pthread_rwlock_t lock;         /* table, order */
	unsigned char hkey[crypto_shorthash_KEYBYTES];
	struct identity **b;
	size_t nb;
	struct identity **order;       /* registration order, for the file */
	size_t n, ocap, max;
	_Atomic uint64_t gen;          /* bumped after every change */
	pthread_mutex_t wmu;           /* serialises writers */
	uint64_t written_gen;          /* wmu */
	bool failing;                  /* wmu: last write failed (log transitions only) */
	char *dir, *path, *tmp;        /* NULL: memory only */
	FILE *log;
	/* flusher */
	pthread_t thread;
	pthread_mutex_t fmu;
	pthread_cond_t fcv;
	bool fstop, frunning;
};

static char *dupcat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);
	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

struct idstore *ids_new(size_t max, const char *state_dir, FILE *log)
{
	struct idstore *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->nb = IDS_BUCKETS_MIN;
	s->b = calloc(s->nb, sizeof(*s->b));
	s->max = max;
	s->log = log ? log : stderr;
	if (state_dir && state_dir[0]) {
		s->dir = strdup(state_dir);
		s->path = dupcat(state_dir, "/" IDS_FILE);
		s->tmp = dupcat(state_dir, "/" IDS_FILE ".tmp");
		if (!s->dir || !s->path || !s->tmp)
			goto fail;
	}
	if (!s->b)
		goto fail;
	randombytes_buf(s->hkey, sizeof(s->hkey));
	pthread_rwlock_init(&s->lock, NULL);
	pthread_mutex_init(&s->wmu, NULL);
	pthread_mutex_init(&s->fmu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->fcv, &ca);
	pthread_condattr_destroy(&ca);
	return s;
fail:
	free(s->dir);
	free(s->path);
	free(s->tmp);
	free(s->b);
	free(s);
	return NULL;
}

void ids_record_free(struct identity *rec)
{
	if (!rec)
		return;
	free(rec->bio);
	free(rec);
}

void ids_free(struct idstore *s)
{
	if (!s)
		return;
	ids_flusher_stop(s);
	for (size_t i = 0; i < s->n; i++)
		ids_record_free(s->order[i]);
	free(s->order);
	free(s->b);
	free(s->dir);
	free(s->path);
	free(s->tmp);
	pthread_rwlock_destroy(&s->lock);
	pthread_mutex_destroy(&s->wmu);
	pthread_mutex_destroy(&s->fmu);
	pthread_cond_destroy(&s->fcv);
	free(s);
}

struct identity *ids_make(const char *handle, size_t handle_len, const char *box_pub,
			  const char *sign_pub, int64_t registered_at, bool has_meta, const char *bio,
			  size_t bio_len)
{
	if (handle_len > IDS_HANDLE_MAX || strlen(box_pub) != IDS_KEY_B64 || strlen(sign_pub) != IDS_KEY_B64)
		return NULL;
	struct identity *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->bio = malloc(bio_len + 1);
	if (!r->bio || b64_decode_canonical(sign_pub, IDS_KEY_B64, r->sign_pk, sizeof(r->sign_pk)) != 32) {
		ids_record_free(r);
		return NULL;
	}
	memcpy(r->handle, handle, handle_len);
	r->handle_len = handle_len;
	memcpy(r->box_pub, box_pub, IDS_KEY_B64 + 1);
	memcpy(r->sign_pub, sign_pub, IDS_KEY_B64 + 1);
	r->registered_at = registered_at;
	r->has_meta = has_meta;
	if (bio_len)
		memcpy(r->bio, bio, bio_len);
	r->bio[bio_len] = '\0';
	r->bio_len = bio_len;
	return r;
}

static size_t bucket_of(const struct idstore *s, size_t nb, const char *h, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t v;
	crypto_shorthash(out, (const unsigned char *)h, len, s->hkey);
	memcpy(&v, out, sizeof(v));
	return (size_t)v & (nb - 1);
}

static struct identity *find_locked(struct idstore *s, const char *h, size_t len)
{
	for (struct identity *r = s->b[bucket_of(s, s->nb, h, len)]; r; r = r->hnext)
		if (r->handle_len == len && memcmp(r->handle, h, len) == 0)
			return r;
	return NULL;
}

static void grow_locked(struct idstore *s)
{
	if (s->n < s->nb)
		return;
	size_t nb = s->nb * 2;
	struct identity **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < s->nb; i++) {
		struct identity *r = s->b[i];
		while (r) {
			struct identity *next = r->hnext;
			size_t j = bucket_of(s, nb, r->handle, r->handle_len);
			r->hnext = b[j];
			b[j] = r;
			r = next;
		}
	}
	free(s->b);
	s->b = b;
	s->nb = nb;
}

enum ids_rc ids_add(struct idstore *s, struct identity *rec, struct identity **existing)
{
	enum ids_rc rc = IDS_OK;
	pthread_rwlock_wrlock(&s->lock);
	struct identity *old = find_locked(s, rec->handle, rec->handle_len);
	if (old) {
		if (existing)
			*existing = old;
		rc = IDS_EXISTS;
		goto out;
	}
	if (s->n >= s->max) {
		rc = IDS_CAP; /* ID-REG-2 / CAP-8 */
		goto out;
	}
	if (s->n == s->ocap) {
		size_t ncap = s->ocap ? s->ocap * 2 : 64;
		struct identity **o = realloc(s->order, ncap * sizeof(*o));
		if (!o) {
			rc = IDS_CAP; /* out of memory: refuse like a full cap (INV-11) */
			goto out;
		}
		s->order = o;
		s->ocap = ncap;
	}
	size_t i = bucket_of(s, s->nb, rec->handle, rec->handle_len);
	rec->hnext = s->b[i];
	s->b[i] = rec;
	s->order[s->n++] = rec;
	grow_locked(s);
	atomic_fetch_add(&s->gen, 1);
out:
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

struct identity *ids_get(struct idstore *s, const char *handle, size_t len)
{
	if (len == 0 || len > IDS_HANDLE_MAX)
		return NULL;
	pthread_rwlock_rdlock(&s->lock);
	struct identity *r = find_locked(s, handle, len);
	pthread_rwlock_unlock(&s->lock);
	return r;
}

size_t ids_count(struct idstore *s)
{
	pthread_rwlock_rdlock(&s->lock);
	size_t n = s->n;
	pthread_rwlock_unlock(&s->lock);
	return n;
}

int64_t ids_next_inbox_seq(struct idstore *s, struct identity *id, int64_t now_ms)
{
	int64_t cur = atomic_load(&id->inbox_seq), next;
	do {
		next = (cur > 0 ? cur : now_ms) + 1; /* DM-4 */
	} while (!atomic_compare_exchange_weak(&id->inbox_seq, &cur, next));
	atomic_fetch_add(&s->gen, 1); /* after the change: a snapshot taken later sees it */
	return next;
}

/* ---- persistence ------------------------------------------------------------------------ */

static void render_record(struct jw *w, struct identity *r)
{
	jw_key(w, "handle");
	jw_str(w, r->handle, r->handle_len);
	jw_key(w, "box_pub");
	jw_str(w, r->box_pub, IDS_KEY_B64);
	jw_key(w, "sign_pub");
	jw_str(w, r->sign_pub, IDS_KEY_B64);
	jw_key(w, "registered_at");
	jw_int(w, r->registered_at);
	jw_key(w, "meta");
	jw_obj(w);
	if (r->has_meta) {
		jw_key(w, "bio");
		jw_str(w, r->bio, r->bio_len);
	}
	jw_obj_end(w);
	int64_t seq = atomic_load(&r->inbox_seq);
	if (seq > 0) {
		jw_key(w, "inbox_seq");
		jw_int(w, seq);
	}
}

/* Render under the shared lock; *gen is the generation the snapshot includes. */
static char *render(struct idstore *s, size_t *len, uint64_t *gen)
{
	struct jw w;
	uint64_t g = atomic_load(&s->gen); /* read before the records: later changes bump it again */
	pthread_rwlock_rdlock(&s->lock);
	jw_init(&w, 64 + s->n * 256, IDS_RENDER_MAX);
	jw_obj(&w);
	jw_key(&w, "identities");
	jw_obj(&w);
	for (size_t i = 0; i < s->n; i++) {
		struct identity *r = s->order[i];
		jw_key(&w, r->handle); /* VAL-2 handles are plain ASCII: nothing to escape */
		jw_obj(&w);
		render_record(&w, r);
		jw_obj_end(&w);
	}
	pthread_rwlock_unlock(&s->lock);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_bytes(&w, "\n", 1);
	if (gen)
		*gen = g;
	return jw_take(&w, len);
}

char *ids_render(struct idstore *s, size_t *len)
{
	return render(s, len, NULL);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* STATE-2: temp file in the same directory, fsync, rename, fsync the directory. */
static int write_file(struct idstore *s, const char *data, size_t len, const char **what)
{
	*what = "create";
	int fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && mkdir(s->dir, 0700) == 0)
		fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	*what = "write";
	if (write_all(fd, data, len) < 0)
		goto fail;
	*what = "fsync";
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	*what = "rename";
	if (rename(s->tmp, s->path) < 0)
		goto fail;
	int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* SHOULD: a failure here does not undo the rename */
		close(dfd);
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	int e = errno;
	unlink(s->tmp);
	errno = e;
	return -1;
}

int ids_persist(struct idstore *s)
{
	if (!s->path)
		return 0; /* STATE-1: memory only */
	int rc = 0;
	uint64_t want = atomic_load(&s->gen);
	pthread_mutex_lock(&s->wmu);
	if (s->written_gen >= want && !s->failing)
		goto out; /* another writer already put this change on disk */
	size_t len;
	uint64_t g;
	char *data = render(s, &len, &g);
	const char *what = "render";
	if (data && write_file(s, data, len, &what) == 0) {
		s->written_gen = g;
		if (s->failing)
			fprintf(s->log, "sealroom-relay: state: %s written again\n", s->path);
		s->failing = false;
	} else {
		if (!s->failing) /* log transitions, not every retry */
			fprintf(s->log, "sealroom-relay: state: cannot %s %s: %s\n", what, s->path,
				data ? errstr(errno) : "out of memory");
		s->failing = true;
		rc = -1;
	}
	free(data);
out:
	pthread_mutex_unlock(&s->wmu);
	return rc;
}

static void *flusher_main(void *arg)
{
	struct idstore *s = arg;
	pthread_mutex_lock(&s->fmu);
	while (!s->fstop) {
		struct timespec ts;
		int64_t due = clock_mono_ms() + IDS_FLUSH_MS;
		ts.tv_sec = (time_t)(due / 1000);
		ts.tv_nsec = (long)(due % 1000) * 1000000;
		while (!s->fstop && pthread_cond_timedwait(&s->fcv, &s->fmu, &ts) == 0)
			;
		if (s->fstop)
			break;
		pthread_mutex_unlock(&s->fmu);
		ids_persist(s); /* returns at once when nothing changed */
		pthread_mutex_lock(&s->fmu);
	}
	pthread_mutex_unlock(&s->fmu);
	return NULL;
}

int ids_flusher_start(struct idstore *s)
{
	if (!s->path || s->frunning)
		return 0;
	s->fstop = false;
	if (pthread_create(&s->thread, NULL, flusher_main, s) != 0)
		return -1;
	s->frunning = true;
	return 0;
}

void ids_flusher_stop(struct idstore *s)
{
	if (!s->frunning)
		return;
	pthread_mutex_lock(&s->fmu);
	s->fstop = true;
	pthread_cond_broadcast(&s->fcv);
	pthread_mutex_unlock(&s->fmu);
	pthread_join(s->thread, NULL);
	s->frunning = false;
}

/* ---- loading (STATE-3) ------------------------------------------------------------------ */

static bool key_ok(const cJSON *v)
{
	const char *k;
	size_t n;
	return json_str(v, &k, &n) && b64_canonical(k, n, 32); /* STATE-3 (sealroom: strict) */
}

/* One record; NULL when it must be dropped. */
static struct identity *load_record(const cJSON *rec, int64_t now_ms)
{
	const char *h, *bio = "";
	size_t hl, bl = 0;
	if (!cJSON_IsObject(rec) || !json_str(json_get(rec, "handle"), &h, &hl))
		return NULL;
	if (strcmp(h, rec->string ? rec->string : "") != 0 || !val_handle_strict(h, hl))
		return NULL;
	const cJSON *box = json_get(rec, "box_pub"), *sign = json_get(rec, "sign_pub");
	if (!key_ok(box) || !key_ok(sign))
		return NULL;
	const cJSON *meta = json_get(rec, "meta");
	bool has_meta = false;
	if (cJSON_IsObject(meta) && json_get(meta, "bio")) {
		has_meta = true;
		if (json_str(json_get(meta, "bio"), &bio, &bl)) {
			bl = u8_cut_nul(bio, bl);
			bl = u16_truncate(bio, bl, IDS_BIO_UNITS); /* re-truncate to 280 */
		}
	}
	const cJSON *ra = json_get(rec, "registered_at");
	int64_t at = now_ms; /* a non-numeric registered_at becomes now */
	if (cJSON_IsNumber(ra) && ra->valuedouble > -9.0e15 && ra->valuedouble < 9.0e15)
		at = (int64_t)ra->valuedouble;
	struct identity *r = ids_make(h, hl, box->valuestring, sign->valuestring, at, has_meta, bio, bl);
	if (!r)
		return NULL;
	const cJSON *seq = json_get(rec, "inbox_seq");
	if (cJSON_IsNumber(seq) && seq->valuedouble > 0) /* non-positive becomes 0 */
		atomic_store(&r->inbox_seq, seq->valuedouble < 9.0e15 ? (int64_t)seq->valuedouble : (int64_t)9e15);
	return r;
}

static void reject_file(struct idstore *s, const char *why)
{
	char *aside = dupcat(s->path, ".rejected");
	fprintf(s->log, "sealroom-relay: state: %s %s; starting with an empty identity registry%s%s\n", s->path,
		why, aside ? ", the file is kept as " : "", aside ? aside : "");
	if (aside && rename(s->path, aside) < 0)
		fprintf(s->log, "sealroom-relay: state: cannot rename %s: %s\n", s->path, errstr(errno));
	free(aside);
}

static char *read_file(int fd, size_t len)
{
	char *buf = malloc(len + 1);
	size_t got = 0;
	while (buf && got < len) {
		ssize_t k = read(fd, buf + got, len - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			free(buf);
			return NULL;
		}
		got += (size_t)k;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

struct ids_load_result ids_load(struct idstore *s, int64_t file_max, int64_t now_ms)
{
	struct ids_load_result res = {IDS_LOAD_ABSENT, 0, 0};
	if (!s->path)
		return res;
	int fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT) {
			res.status = IDS_LOAD_IOERR;
			fprintf(s->log, "sealroom-relay: state: cannot open %s: %s; starting with an empty identity registry\n",
				s->path, errstr(errno));
		}
		return res;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		res.status = IDS_LOAD_IOERR;
		fprintf(s->log, "sealroom-relay: state: %s is not a readable file; starting with an empty identity registry\n",
			s->path);
		return res;
	}
	if (st.st_size > file_max) {
		close(fd);
		char why[96];
		snprintf(why, sizeof(why), "is %lld bytes, over STATE_FILE_MAX (%lld)", (long long)st.st_size,
			 (long long)file_max);
		reject_file(s, why); /* STATE-3 */
		res.status = IDS_LOAD_OVERSIZE;
		return res;
	}
	char *buf = read_file(fd, (size_t)st.st_size);
	close(fd);
	if (!buf) {
		res.status = IDS_LOAD_IOERR;
		fprintf(s->log, "sealroom-relay: state: cannot read %s; starting with an empty identity registry\n", s->path);
		return res;
	}
	cJSON *root = json_parse(buf, (size_t)st.st_size, JSON_MAX_DEPTH, true);
	free(buf);
	const cJSON *all = json_get(root, "identities");
	if (!cJSON_IsObject(root) || !cJSON_IsObject(all)) {
		cJSON_Delete(root);
		reject_file(s, "is not a JSON object with an \"identities\" object");
		res.status = IDS_LOAD_CORRUPT;
		return res;
	}
	res.status = IDS_LOAD_OK;
	for (const cJSON *rec = all->child; rec; rec = rec->next) {
		struct identity *r = load_record(rec, now_ms), *old = NULL;
		if (!r) {
			res.dropped++;
			continue;
		}
		enum ids_rc rc = ids_add(s, r, &old);
		if (rc == IDS_EXISTS) {
			/* duplicate key: the last one wins, as for any JSON object (HTTP-16) */
			free(old->bio);
			memcpy(old->box_pub, r->box_pub, sizeof(old->box_pub));
			memcpy(old->sign_pub, r->sign_pub, sizeof(old->sign_pub));
			memcpy(old->sign_pk, r->sign_pk, sizeof(old->sign_pk));
			old->registered_at = r->registered_at;
			old->has_meta = r->has_meta;
			old->bio = r->bio;
			old->bio_len = r->bio_len;
			atomic_store(&old->inbox_seq, atomic_load(&r->inbox_seq));
			free(r);
			res.dropped++;
		} else if (rc != IDS_OK) {
			ids_record_free(r); /* beyond IDENTITIES_MAX */
			res.dropped++;
		} else {
			res.loaded++;
		}
	}
	cJSON_Delete(root);
	s->written_gen = atomic_load(&s->gen); /* what is loaded is what is on disk */
	fprintf(s->log, "sealroom-relay: state: loaded %zu identities from %s, %zu records dropped\n", res.loaded,
		s->path, res.dropped);
	return res;
}
