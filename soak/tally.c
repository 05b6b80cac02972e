#include "tally.h"

#include <stdlib.h>
#include <string.h>

void tally_init(struct tally *t)
{
	memset(t, 0, sizeof(*t));
}

void tally_merge(struct tally *dst, const struct tally *src)
{
	dst->sent += src->sent;
	dst->accepted += src->accepted;
	dst->rejected += src->rejected;
	dst->errors += src->errors;
	dst->expected += src->expected;
	dst->delivered += src->delivered;
	dst->duplicated += src->duplicated;
	dst->out_of_order += src->out_of_order;
	dst->decrypt_failed += src->decrypt_failed;
	dst->unexpected += src->unexpected;
	dst->verified += src->verified;
	dst->reconnects += src->reconnects;
	for (size_t i = 0; i < sizeof(dst->by_status) / sizeof(dst->by_status[0]); i++)
		dst->by_status[i] += src->by_status[i];
}

void tally_reject(struct tally *t, long status)
{
	t->rejected++;
	if (status >= TALLY_STATUS_MIN && status <= TALLY_STATUS_MAX)
		t->by_status[status - TALLY_STATUS_MIN]++;
}

uint64_t tally_missing(const struct tally *t)
{
	return t->expected > t->delivered ? t->expected - t->delivered : 0;
}

bool tally_exact_ok(const struct tally *t)
{
	return t->rejected == 0 && t->errors == 0 && t->accepted == t->sent &&
	       tally_missing(t) == 0 && t->delivered == t->expected && t->duplicated == 0 &&
	       t->out_of_order == 0 && t->decrypt_failed == 0 && t->unexpected == 0;
}

/* ---- tracker ---- */

int track_init(struct track *t, uint32_t senders, uint32_t per_sender)
{
	uint64_t bits = (uint64_t)senders * per_sender;

	memset(t, 0, sizeof(*t));
	t->senders = senders;
	t->per_sender = per_sender;
	t->last_seq = -1;
	t->seen = calloc((size_t)(bits / 8 + 1), 1);
	t->last_idx = malloc((senders ? senders : 1) * sizeof(*t->last_idx));
	if (!t->seen || !t->last_idx) {
		track_free(t);
		return -1;
	}
	for (uint32_t i = 0; i < senders; i++)
		t->last_idx[i] = -1;
	return 0;
}

void track_free(struct track *t)
{
	free(t->seen);
	free(t->last_idx);
	t->seen = NULL;
	t->last_idx = NULL;
}

enum track_result track_note(struct track *t, uint32_t sender, uint32_t idx, int64_t seq)
{
	uint64_t bit;

	if (sender >= t->senders || idx >= t->per_sender)
		return TRACK_RANGE;
	bit = (uint64_t)sender * t->per_sender + idx;
	if (t->seen[bit >> 3] & (1u << (bit & 7))) {
		t->duplicated++;
		return TRACK_DUP;
	}
	t->seen[bit >> 3] |= (uint8_t)(1u << (bit & 7));
	t->delivered++;
	/* ROOM-23: seqs rise strictly per subscriber, and one sender's messages (posted one
	 * after another) arrive in the order they were sent. */
	if (seq <= t->last_seq || (int64_t)idx < t->last_idx[sender])
		t->out_of_order++;
	if (seq > t->last_seq)
		t->last_seq = seq;
	if ((int64_t)idx > t->last_idx[sender])
		t->last_idx[sender] = (int32_t)idx;
	return TRACK_NEW;
}

/* ---- latency recorder ---- */

int latrec_init(struct latrec *l)
{
	memset(l, 0, sizeof(*l));
	l->total = hist_new();
	l->interval = hist_new();
	if (!l->total || !l->interval || pthread_mutex_init(&l->mu, NULL) != 0) {
		hist_free(l->total);
		hist_free(l->interval);
		l->total = l->interval = NULL;
		return -1;
	}
	return 0;
}

void latrec_free(struct latrec *l)
{
	if (!l->total)
		return;
	pthread_mutex_destroy(&l->mu);
	hist_free(l->total);
	hist_free(l->interval);
	l->total = l->interval = NULL;
}

void latrec_record(struct latrec *l, int64_t ns)
{
	pthread_mutex_lock(&l->mu);
	hist_record(l->total, ns);
	hist_record(l->interval, ns);
	pthread_mutex_unlock(&l->mu);
}

void latrec_take_interval(struct latrec *l, struct hist *out)
{
	pthread_mutex_lock(&l->mu);
	hist_reset(out);
	hist_merge(out, l->interval);
	hist_reset(l->interval);
	pthread_mutex_unlock(&l->mu);
}

void latrec_merge_total(struct latrec *l, struct hist *out)
{
	pthread_mutex_lock(&l->mu);
	hist_merge(out, l->total);
	pthread_mutex_unlock(&l->mu);
}
