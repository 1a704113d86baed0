/* What lwIP (NO_SYS) needs from the platform: a millisecond clock, random
 * numbers, assertion failures, atoi. */
#include "guest.h"
#include "lwip/sys.h"

u32_t sys_now(void)
{
	return (u32_t)(clock_ns() / 1000000);
}

static uint64_t rand_state;
unsigned lwip_rand(void)
{
	if (!rand_state) {
		uint32_t lo, hi;
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		rand_state = (((uint64_t)hi << 32) | lo) | 1;
	}
	rand_state ^= rand_state << 13;
	rand_state ^= rand_state >> 7;
	rand_state ^= rand_state << 17;
	return (unsigned)(rand_state >> 11);
}

void lwip_assert_fail(const char *msg, const char *file, int line)
{
	fail(EXIT_FAILED, "lwip assertion \"%s\" failed at %s:%d", msg, file, line);
}

int atoi(const char *s)
{
	int v = 0, neg = 0;
	while (*s == ' ')
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return neg ? -v : v;
}
