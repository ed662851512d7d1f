# Lays out an installed prefix from what `cargo build --release` left in the target directory:
#
#   cmake -DCMAKE_INSTALL_PREFIX=<prefix> [-DANN_TARGET_DIR=<cargo target dir>] -P cmake/install.cmake
#
# <prefix>/include/ann.h, ann.hpp
# <prefix>/lib/libann.so.<version>, libann.so.<abi> -> it (the SONAME), libann.so -> libann.so.<abi>
# <prefix>/lib/libann.a
# <prefix>/lib/cmake/ann/annConfig.cmake, annConfigVersion.cmake, annTargets.cmake
# <prefix>/lib/pkgconfig/ann.pc
#
# Cargo builds; this script only copies and writes small text files, so it runs in script mode
# (no project, no compiler). Everything it writes is relocatable: links are relative, and the
# CMake and pkg-config files find the prefix from their own location.
cmake_minimum_required(VERSION 3.21)

get_filename_component(ann_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

if(NOT DEFINED CMAKE_INSTALL_PREFIX OR CMAKE_INSTALL_PREFIX STREQUAL "")
  set(CMAKE_INSTALL_PREFIX /usr/local)
endif()
get_filename_component(prefix "${CMAKE_INSTALL_PREFIX}" ABSOLUTE BASE_DIR "$ENV{PWD}")
if(NOT DEFINED ANN_TARGET_DIR)
  if(DEFINED ENV{CARGO_TARGET_DIR})
    set(ANN_TARGET_DIR "$ENV{CARGO_TARGET_DIR}")
  else()
    set(ANN_TARGET_DIR "${ann_root}/target")
  endif()
endif()
get_filename_component(built "${ANN_TARGET_DIR}/release" ABSOLUTE BASE_DIR "$ENV{PWD}")

# The version is Cargo.toml's; the ABI version is the header's (the SONAME carries it).
file(READ "${ann_root}/Cargo.toml" cargo_toml)
if(NOT cargo_toml MATCHES "\\[package\\][^[]*\nversion = \"(([0-9]+)\\.([0-9]+)\\.([0-9]+)[^\"]*)\"")
  message(FATAL_ERROR "ann: no [package] version found in ${ann_root}/Cargo.toml")
endif()
set(ANN_VERSION "${CMAKE_MATCH_1}")
set(ANN_VERSION_MINOR "${CMAKE_MATCH_3}")
file(STRINGS "${ann_root}/include/ann.h" abi_line REGEX "^#define ANN_ABI_VERSION [0-9]+$")
if(NOT abi_line MATCHES "([0-9]+)$")
  message(FATAL_ERROR "ann: no ANN_ABI_VERSION in ${ann_root}/include/ann.h")
endif()
set(ANN_ABI_VERSION "${CMAKE_MATCH_1}")
set(soname "libann.so.${ANN_ABI_VERSION}")

foreach(library libann.so libann.a)
  if(NOT EXISTS "${built}/${library}")
    message(FATAL_ERROR "ann: ${built}/${library} is missing: run `cargo build --release` first "
                        "(or pass -DANN_TARGET_DIR=<the cargo target directory>)")
  endif()
endforeach()
file(STRINGS "${built}/libann.so" built_soname REGEX "^libann\\.so\\.[0-9]+$" LIMIT_COUNT 1)
if(NOT built_soname STREQUAL soname)
  message(FATAL_ERROR "ann: ${built}/libann.so has SONAME '${built_soname}', but include/ann.h "
                      "says ABI ${ANN_ABI_VERSION}: the build is stale, run `cargo build --release`")
endif()

# The pointer size the version file checks consumers against, from the library's ELF class.
file(READ "${built}/libann.so" elf_class OFFSET 4 LIMIT 1 HEX)
if(elf_class STREQUAL "02")
  set(CMAKE_SIZEOF_VOID_P 8)
elseif(elf_class STREQUAL "01")
  set(CMAKE_SIZEOF_VOID_P 4)
else()
  message(FATAL_ERROR "ann: ${built}/libann.so is not an ELF shared library")
endif()

set(include_dir "${prefix}/include")
set(lib_dir "${prefix}/lib")
set(cmake_dir "${lib_dir}/cmake/ann")
set(pkgconfig_dir "${lib_dir}/pkgconfig")
file(MAKE_DIRECTORY "${include_dir}" "${cmake_dir}" "${pkgconfig_dir}")

function(install_file source destination)
  file(COPY_FILE "${source}" "${destination}")
  message(STATUS "Installing: ${destination}")
endfunction()

function(install_link target link)
  file(REMOVE "${link}")
  file(CREATE_LINK "${target}" "${link}" SYMBOLIC)
  message(STATUS "Installing: ${link} -> ${target}")
endfunction()

install_file("${ann_root}/include/ann.h" "${include_dir}/ann.h")
install_file("${ann_root}/include/ann.hpp" "${include_dir}/ann.hpp")
install_file("${built}/libann.so" "${lib_dir}/libann.so.${ANN_VERSION}")
file(CHMOD "${lib_dir}/libann.so.${ANN_VERSION}" FILE_PERMISSIONS
     OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
install_link("libann.so.${ANN_VERSION}" "${lib_dir}/${soname}")
install_link("${soname}" "${lib_dir}/libann.so")
install_file("${built}/libann.a" "${lib_dir}/libann.a")

include("${CMAKE_CURRENT_LIST_DIR}/annTargets.cmake")
install_file("${CMAKE_CURRENT_LIST_DIR}/annTargets.cmake" "${cmake_dir}/annTargets.cmake")
configure_file("${CMAKE_CURRENT_LIST_DIR}/annConfig.cmake.in" "${cmake_dir}/annConfig.cmake" @ONLY)
message(STATUS "Installing: ${cmake_dir}/annConfig.cmake")
# While the crate is 0.x, a minor version is a breaking one: 0.1 accepts 0.1.*, refuses 0.2.
include(CMakePackageConfigHelpers)
write_basic_package_version_file("${cmake_dir}/annConfigVersion.cmake"
  VERSION "${ANN_VERSION}" COMPATIBILITY SameMinorVersion)
message(STATUS "Installing: ${cmake_dir}/annConfigVersion.cmake")

list(TRANSFORM ANN_NATIVE_STATIC_LIBS PREPEND "-l" OUTPUT_VARIABLE private_flags)
string(JOIN " " ANN_LIBS_PRIVATE ${private_flags})
configure_file("${CMAKE_CURRENT_LIST_DIR}/ann.pc.in" "${pkgconfig_dir}/ann.pc" @ONLY)
message(STATUS "Installing: ${pkgconfig_dir}/ann.pc")
