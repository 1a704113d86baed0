/* The key-value store's memory allocator and keyspace. */
#ifndef JG_KV_H
#define JG_KV_H
#include <stddef.h>
#include <stdint.h>

/* malloc.c: power-of-two size classes carved from one region of RAM */
void heap_init(uint64_t start, uint64_t size);
void *xmalloc(size_t n);              /* NULL when the heap is exhausted */
void xfree(void *p);
void *xrealloc(void *p, size_t n);    /* NULL (p untouched) when exhausted */
extern uint64_t heap_start, heap_size, heap_inuse;

/* kv.c */
enum { KV_STR = 1, KV_LIST = 2 };
struct lnode {
	struct lnode *prev, *next;
	uint32_t len;
	char data[];
};
struct ent {
	struct ent *next;
	uint64_t hash;
	uint32_t klen;
	uint8_t type;
	union {
		struct { char *v; uint32_t vlen; } s;
		struct { struct lnode *head, *tail; uint64_t len; } l;
	};
	char key[];
};
extern uint64_t kv_count;
struct ent *kv_find(const char *k, size_t n);
struct ent *kv_create(const char *k, size_t n, int type);   /* key must be absent; NULL = OOM */
void kv_delete(struct ent *e);
void kv_flush(void);
int kv_set_str(struct ent *e, const char *v, size_t n);     /* 0 or -1 (OOM) */
#endif
