/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <stdlib.h>

#include "macro.h"
#include "banned.h"

bool greedy_realloc(void **array, size_t *allocated, size_t need, size_t elsz) {
        if (need <= *allocated)
                return true;

        size_t n = MAX(need, *allocated * 2);
        n = MAX(n, (size_t) 8);
        if (n > SIZE_MAX / elsz)
                return false;

        void *p = realloc(*array, n * elsz);
        if (!p)
                return false;
        *array = p;
        *allocated = n;
        return true;
}
