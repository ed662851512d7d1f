// Two C++17 translation units include the header; linked together, they must not clash.
#include "ann.h"
#include "ann.h"

#include <cstdio>

int metric_count();

int main() {
    ann_index *index = nullptr;
    ann_status status = ann_new(8, ANN_METRIC_ANGULAR, &index);
    std::printf("cpp ok: %s, %d metrics, abi %u\n", ann_status_name(status), metric_count(),
                ann_abi_version());
    ann_free(index);
    return status == ANN_STATUS_OK ? 0 : 1;
}
