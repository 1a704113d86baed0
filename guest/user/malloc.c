/* A simple allocator for the key-value store: blocks of 2^k bytes (k = 5..30)
 * with a 16-byte header naming the class, one free list per class, new
 * blocks carved from the top of the region. */
#include "guest.h"
#include "kv.h"

#define MINSHIFT 5
#define MAXSHIFT 30
#define HDR 16

uint64_t heap_start, heap_size, heap_inuse;
static uint64_t brk;
static void *freel[MAXSHIFT + 1];

void heap_init(uint64_t start, uint64_t size)
{
	heap_start = brk = start;
	heap_size = size;
}

static int cls(size_t n)
{
	int k = MINSHIFT;
	while (((size_t)1 << k) < n + HDR) {
		if (++k > MAXSHIFT)
			return -1;
	}
	return k;
}

void *xmalloc(size_t n)
{
	int k = cls(n);
	if (k < 0)
		return 0;
	uint8_t *b = freel[k];
	if (b) {
		freel[k] = *(void **)(b + HDR);
	} else {
		uint64_t sz = 1ull << k;
		if (brk + sz > heap_start + heap_size)
			return 0;
		b = (uint8_t *)brk;
		brk += sz;
	}
	*(uint64_t *)b = (uint64_t)k;
	heap_inuse += 1ull << k;
	return b + HDR;
}

void xfree(void *p)
{
	if (!p)
		return;
	uint8_t *b = (uint8_t *)p - HDR;
	int k = (int)*(uint64_t *)b;
	*(void **)p = freel[k];
	freel[k] = b;
	heap_inuse -= 1ull << k;
}

void *xrealloc(void *p, size_t n)
{
	if (!p)
		return xmalloc(n);
	int k = (int)*(uint64_t *)((uint8_t *)p - HDR);
	if (n + HDR <= (1ull << k))
		return p;
	void *q = xmalloc(n);
	if (!q)
		return 0;
	memcpy(q, p, (1ull << k) - HDR);
	xfree(p);
	return q;
}
