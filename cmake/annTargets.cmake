# Defines the imported targets `ann::ann` (shared) and `ann::ann_static` (static) for a libann
# that cargo built. Shared by the installed package (annConfig.cmake) and by the source tree's
# CMakeLists.txt (add_subdirectory), so users who install and users who vendor link the same
# targets with the same properties.

# The system libraries Rust's staticlib needs, from
#   cargo rustc --lib --crate-type staticlib -- --print native-static-libs
# (without -lc, which every C and C++ link adds itself). tests/cmake/run.sh fails when rustc's
# list drifts from this one. Read by cmake/install.cmake for ann.pc's Libs.private too.
set(ANN_NATIVE_STATIC_LIBS gcc_s util rt pthread m dl)

# ann_define_targets(<include dir> <shared library> <its SONAME> <static library> [GLOBAL])
# Skips a target that already exists, so a second find_package in one project is harmless.
function(ann_define_targets include_dir shared_library soname static_library)
  set(scope ${ARGN})
  if(NOT TARGET ann::ann)
    add_library(ann::ann SHARED IMPORTED ${scope})
    set_target_properties(ann::ann PROPERTIES
      IMPORTED_LOCATION "${shared_library}"
      IMPORTED_SONAME "${soname}"
      INTERFACE_INCLUDE_DIRECTORIES "${include_dir}")
  endif()
  if(NOT TARGET ann::ann_static)
    add_library(ann::ann_static STATIC IMPORTED ${scope})
    set_target_properties(ann::ann_static PROPERTIES
      IMPORTED_LOCATION "${static_library}"
      IMPORTED_LINK_INTERFACE_LANGUAGES "C"
      INTERFACE_INCLUDE_DIRECTORIES "${include_dir}"
      INTERFACE_LINK_LIBRARIES "${ANN_NATIVE_STATIC_LIBS}")
  endif()
endfunction()
