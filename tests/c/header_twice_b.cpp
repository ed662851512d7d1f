// The second translation unit of the C++ header test.
#include "ann.h"

int metric_count() {
    int n = 0;
    for (ann_metric m = ANN_METRIC_ANGULAR; m <= ANN_METRIC_HAMMING; m++) n += ann_metric_name(m) != nullptr;
    return n;
}
