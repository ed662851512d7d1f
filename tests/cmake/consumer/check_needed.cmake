# cmake -DEXE=<program> -DNEEDED=<library or empty> -P check_needed.cmake
# Fails unless the program's only libann dependency (readelf -d, NEEDED) is NEEDED; an empty
# NEEDED means the program must not depend on libann at all.
execute_process(COMMAND readelf -d "${EXE}" OUTPUT_VARIABLE dynamic RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "readelf -d ${EXE} failed")
endif()
string(REGEX MATCHALL "Shared library: \\[libann[^]]*\\]" found "${dynamic}")
string(REGEX REPLACE "Shared library: \\[([^]]*)\\]" "\\1" found "${found}")
if(NOT "${found}" STREQUAL "${NEEDED}")
  message(FATAL_ERROR "${EXE} needs '${found}' of libann, expected '${NEEDED}':\n${dynamic}")
endif()
message(STATUS "${EXE} needs '${found}' of libann, as expected")
