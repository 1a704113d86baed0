/* The keyspace: one hash table with chaining, doubled when the load passes 1. */
#include "guest.h"
#include "kv.h"

uint64_t kv_count;
static struct ent **tab;
static uint64_t tabsize;

static uint64_t hash(const char *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)k[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static int grow(void)
{
	uint64_t n = tabsize ? tabsize * 2 : 1024;
	struct ent **t = xmalloc(n * sizeof(*t));
	if (!t)
		return -1;
	memset(t, 0, n * sizeof(*t));
	for (uint64_t i = 0; i < tabsize; i++) {
		struct ent *e = tab[i], *nx;
		for (; e; e = nx) {
			nx = e->next;
			e->next = t[e->hash & (n - 1)];
			t[e->hash & (n - 1)] = e;
		}
	}
	xfree(tab);
	tab = t;
	tabsize = n;
	return 0;
}

struct ent *kv_find(const char *k, size_t n)
{
	if (!tabsize)
		return 0;
	uint64_t h = hash(k, n);
	for (struct ent *e = tab[h & (tabsize - 1)]; e; e = e->next)
		if (e->hash == h && e->klen == n && !memcmp(e->key, k, n))
			return e;
	return 0;
}

struct ent *kv_create(const char *k, size_t n, int type)
{
	if (kv_count >= tabsize && grow() && !tabsize)
		return 0;
	struct ent *e = xmalloc(sizeof(*e) + n);
	if (!e)
		return 0;
	memset(e, 0, sizeof(*e));
	e->hash = hash(k, n);
	e->klen = (uint32_t)n;
	e->type = (uint8_t)type;
	memcpy(e->key, k, n);
	e->next = tab[e->hash & (tabsize - 1)];
	tab[e->hash & (tabsize - 1)] = e;
	kv_count++;
	return e;
}

static void free_value(struct ent *e)
{
	if (e->type == KV_STR) {
		xfree(e->s.v);
	} else {
		struct lnode *l = e->l.head, *nx;
		for (; l; l = nx) {
			nx = l->next;
			xfree(l);
		}
	}
}

void kv_delete(struct ent *e)
{
	struct ent **pp = &tab[e->hash & (tabsize - 1)];
	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	free_value(e);
	xfree(e);
	kv_count--;
}

void kv_flush(void)
{
	for (uint64_t i = 0; i < tabsize; i++) {
		struct ent *e = tab[i], *nx;
		for (; e; e = nx) {
			nx = e->next;
			free_value(e);
			xfree(e);
		}
		tab[i] = 0;
	}
	kv_count = 0;
}

int kv_set_str(struct ent *e, const char *v, size_t n)
{
	char *p = xrealloc(e->s.v, n ? n : 1);
	if (!p)
		return -1;
	memcpy(p, v, n);
	e->s.v = p;
	e->s.vlen = (uint32_t)n;
	return 0;
}
