#include "ipcount.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024

struct ipc_entry {
	struct ipc_entry *next;
	int64_t n[2];
	char ip[64];
};

struct ipcount {
	pthread_mutex_t mu;
	struct ipc_entry *b[NBUCKETS];
};

static unsigned bucket(const char *ip)
{
	unsigned h = 2166136261u;
	for (; *ip; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h % NBUCKETS;
}

struct ipcount *ipc_new(void)
{
	struct ipcount *t = calloc(1, sizeof(*t));
	if (t)
		pthread_mutex_init(&t->mu, NULL);
	return t;
}

void ipc_free(struct ipcount *t)
{
	if (!t)
		return;
	for (int i = 0; i < NBUCKETS; i++)
		for (struct ipc_entry *e = t->b[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static struct ipc_entry **find(struct ipcount *t, const char *ip)
{
	struct ipc_entry **pp = &t->b[bucket(ip)];
	while (*pp && strcmp((*pp)->ip, ip) != 0)
		pp = &(*pp)->next;
	return pp;
}

bool ipc_take(struct ipcount *t, const char *ip, enum ipc_kind kind, int64_t cap)
{
	bool ok = false;
	pthread_mutex_lock(&t->mu);
	struct ipc_entry **pp = find(t, ip);
	if (!*pp) {
		struct ipc_entry *e = calloc(1, sizeof(*e));
		if (!e)
			goto out;
		strncpy(e->ip, ip, sizeof(e->ip) - 1);
		e->next = t->b[bucket(ip)];
		t->b[bucket(ip)] = e;
		pp = find(t, ip);
	}
	if ((*pp)->n[kind] < cap) {
		(*pp)->n[kind]++;
		ok = true;
	} else if ((*pp)->n[0] == 0 && (*pp)->n[1] == 0) {
		struct ipc_entry *e = *pp; /* cap 0: do not keep an empty entry */
		*pp = e->next;
		free(e);
	}
out:
	pthread_mutex_unlock(&t->mu);
	return ok;
}

void ipc_release(struct ipcount *t, const char *ip, enum ipc_kind kind)
{
	pthread_mutex_lock(&t->mu);
	struct ipc_entry **pp = find(t, ip);
	if (*pp && (*pp)->n[kind] > 0 && --(*pp)->n[kind] == 0 && (*pp)->n[1 - kind] == 0) {
		struct ipc_entry *e = *pp;
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&t->mu);
}

int64_t ipc_get(struct ipcount *t, const char *ip, enum ipc_kind kind)
{
	pthread_mutex_lock(&t->mu);
	struct ipc_entry **pp = find(t, ip);
	int64_t n = *pp ? (*pp)->n[kind] : 0;
	pthread_mutex_unlock(&t->mu);
	return n;
}
