/* The header compiles as strict C99 (-std=c99 -pedantic -Wall -Wextra -Werror), twice, and
 * its constants are integer constant expressions usable in switch labels. */
#include "ann.h"
#include "ann.h"

int describe(ann_status status);

int describe(ann_status status) {
    switch (status) {
        case ANN_STATUS_OK: return 0;
        case ANN_STATUS_NULL_POINTER:
        case ANN_STATUS_INVALID_ARGUMENT:
        case ANN_STATUS_INVALID_STATE:
        case ANN_STATUS_IO:
        case ANN_STATUS_CORRUPT_FILE:
        case ANN_STATUS_OUT_OF_MEMORY:
        case ANN_STATUS_BUFFER_TOO_SMALL:
        case ANN_STATUS_PANIC: return 1;
        default: return 2;
    }
}
