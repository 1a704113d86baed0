/* For lwIP's #include <stdlib.h>: nothing from it is used with our options
 * except atoi (netif_find). */
#include "../../libc.h"
int atoi(const char *s);
