/* lwIP's compiler/platform glue for the test guest's ring-3 program:
 * freestanding gcc, x86-64, our own tiny libc (user/libc.c). */
#ifndef JG_LWIP_CC_H
#define JG_LWIP_CC_H
#include <stddef.h>
#include <stdint.h>
typedef long ssize_t;
#define SSIZE_MAX           0x7fffffffffffffffL
#define LWIP_NO_LIMITS_H    1

#define LWIP_NO_INTTYPES_H  1
#define LWIP_NO_CTYPE_H     1
#define LWIP_NO_UNISTD_H    1
#define LWIP_PROVIDE_ERRNO  1
#define BYTE_ORDER          LITTLE_ENDIAN

#define X8_F  "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "lu"

#define lwip_htons(x) __builtin_bswap16(x)
#define lwip_htonl(x) __builtin_bswap32(x)

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lwip_assert_fail(const char *msg, const char *file, int line) __attribute__((noreturn));
unsigned lwip_rand(void);

#define LWIP_PLATFORM_DIAG(x)    do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x)  lwip_assert_fail((x), __FILE__, __LINE__)
#define LWIP_RAND()              lwip_rand()
#endif
