/* For lwIP's #include <string.h>: the ring-3 libc's declarations. */
#include "../../libc.h"
