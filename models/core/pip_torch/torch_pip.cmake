# omnihost_torch from the torch that pip installed into a venv (OMNIHOST_TORCH=pip).
#
# The wheel's own TorchConfig.cmake cannot be used: the wheel is built with CUDA, and its config
# looks for a CUDA toolkit (nvcc, headers) that a machine with only the wheel and its NVIDIA
# runtime wheels does not have ("Your installed Caffe2 version uses CUDA but I cannot find the CUDA
# libraries"). Everything omnihost needs is in the wheel itself: headers, the libraries and the
# ABI flag, resolved here from torch's CMake prefix (torch.utils.cmake_prefix_path).
#
# Sets OMNIHOST_TORCH_VERSION and OMNIHOST_TORCH_CUDA (ON when libtorch_cuda and every NVIDIA
# library it needs load on this machine) and creates the INTERFACE target omnihost_torch.

# OMNIHOST_TORCH_PYTHON (any interpreter that has torch, e.g. a GPU machine's own install) wins
# over OMNIHOST_TORCH_VENV/bin/python.
set(OMNIHOST_TORCH_PYTHON "" CACHE FILEPATH "python whose torch to build against (default: OMNIHOST_TORCH_VENV/bin/python)")
if(OMNIHOST_TORCH_PYTHON)
  set(_python "${OMNIHOST_TORCH_PYTHON}")
else()
  set(_python "${OMNIHOST_TORCH_VENV}/bin/python")
endif()
if(NOT EXISTS "${_python}")
  message(FATAL_ERROR "OMNIHOST_TORCH=pip: no python at ${_python} "
                      "(create the venv with scripts/setup_torch_venv.sh, or set OMNIHOST_TORCH_VENV / OMNIHOST_TORCH_PYTHON)")
endif()

# torch.utils.cmake_prefix_path is <site-packages>/torch/share/cmake. Importing torch needs its
# NVIDIA runtime libraries; a venv made with --no-deps may not load it in Python, so fall back to
# locating the package without importing it (the same path, computed the same way).
execute_process(
  COMMAND "${_python}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
  OUTPUT_VARIABLE _prefix OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0 OR NOT IS_DIRECTORY "${_prefix}")
  execute_process(
    COMMAND "${_python}" -c
      "import importlib.util, os; s = importlib.util.find_spec('torch'); print(os.path.join(s.submodule_search_locations[0], 'share', 'cmake'))"
    OUTPUT_VARIABLE _prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
endif()
if(NOT _rc EQUAL 0 OR NOT IS_DIRECTORY "${_prefix}/Torch")
  message(FATAL_ERROR "OMNIHOST_TORCH=pip: ${_python} has no torch with a CMake prefix (got '${_prefix}')")
endif()
get_filename_component(_root "${_prefix}/../.." ABSOLUTE)
set(_lib "${_root}/lib")
set(OMNIHOST_TORCH_PREFIX "${_prefix}" CACHE INTERNAL "torch.utils.cmake_prefix_path of the pip torch")

# Version (for the configure log and the feature checks in torch_compat.h, which read the macros).
set(_ver_h "${_root}/include/torch/headeronly/version.h")
if(NOT EXISTS "${_ver_h}")
  set(_ver_h "${_root}/include/torch/csrc/api/include/torch/version.h")
endif()
file(STRINGS "${_ver_h}" _ver_lines REGEX "#define TORCH_VERSION_(MAJOR|MINOR|PATCH) ")
set(OMNIHOST_TORCH_VERSION "")
foreach(part MAJOR MINOR PATCH)
  string(REGEX MATCH "TORCH_VERSION_${part} ([0-9]+)" _m "${_ver_lines}")
  list(APPEND OMNIHOST_TORCH_VERSION "${CMAKE_MATCH_1}")
endforeach()
list(JOIN OMNIHOST_TORCH_VERSION "." OMNIHOST_TORCH_VERSION)

# The C++ ABI: TORCH_CXX_FLAGS as the wheel's TorchConfig.cmake states it, else from c10's
# symbols (every 2.x wheel since 2.7 uses the new ABI and no longer writes the flag).
file(STRINGS "${_prefix}/Torch/TorchConfig.cmake" _abi_line REGEX "_GLIBCXX_USE_CXX11_ABI=[01]")
if(_abi_line MATCHES "_GLIBCXX_USE_CXX11_ABI=([01])")
  set(_abi ${CMAKE_MATCH_1})
else()
  file(STRINGS "${_lib}/libc10.so" _cxx11 REGEX "B5cxx11" LIMIT_COUNT 1)
  if(_cxx11)
    set(_abi 1)
  else()
    set(_abi 0)
  endif()
endif()

foreach(f libtorch_cpu.so libc10.so)
  if(NOT EXISTS "${_lib}/${f}")
    message(FATAL_ERROR "OMNIHOST_TORCH=pip: ${_lib}/${f} is missing")
  endif()
endforeach()

# CUDA: link libtorch_cuda/libc10_cuda only when the loader resolves every library they need (the
# NVIDIA wheels sit beside torch and are found through the wheel's RUNPATH). A --no-deps venv
# leaves them out, and the build is then CPU-only against the same headers.
set(OMNIHOST_TORCH_CUDA OFF)
if(EXISTS "${_lib}/libtorch_cuda.so" AND EXISTS "${_lib}/libc10_cuda.so")
  find_program(_ldd ldd)
  if(_ldd)
    execute_process(COMMAND ${_ldd} "${_lib}/libtorch_cuda.so" OUTPUT_VARIABLE _ldd_out ERROR_QUIET RESULT_VARIABLE _ldd_rc)
    if(_ldd_rc EQUAL 0 AND NOT _ldd_out MATCHES "not found")
      set(OMNIHOST_TORCH_CUDA ON)
    endif()
  endif()
endif()

add_library(omnihost_torch INTERFACE)
target_include_directories(omnihost_torch SYSTEM INTERFACE
  "${_root}/include" "${_root}/include/torch/csrc/api/include")
target_compile_options(omnihost_torch INTERFACE "-D_GLIBCXX_USE_CXX11_ABI=${_abi}")
find_package(Threads REQUIRED)
if(OMNIHOST_TORCH_CUDA)
  # --no-as-needed: libtorch_cpu/libtorch_cuda hold the operator registrations and must stay loaded
  # even though no symbol of theirs is referenced directly.
  target_link_libraries(omnihost_torch INTERFACE
    "-Wl,--no-as-needed,${_lib}/libtorch_cpu.so,${_lib}/libtorch_cuda.so,${_lib}/libc10_cuda.so,--as-needed"
    "${_lib}/libc10.so" Threads::Threads)
else()
  target_link_libraries(omnihost_torch INTERFACE
    "-Wl,--no-as-needed,${_lib}/libtorch_cpu.so,--as-needed" "${_lib}/libc10.so" Threads::Threads)
endif()
# Full-path libraries outside the implicit folders get their folder in the build RPATH from CMake
# only when listed plainly; the wrapped -Wl form above hides it, so name the folder here.
set_property(TARGET omnihost_torch APPEND PROPERTY INTERFACE_LINK_OPTIONS "-Wl,-rpath,${_lib}")

# The plugins' and tests' own find_package(Torch) calls get this folder's TorchConfig.cmake, which
# only points them at omnihost_torch (the wheel's would fail as described above).
set(Torch_DIR "${CMAKE_CURRENT_LIST_DIR}" CACHE PATH "pip torch: omnihost's stand-in for the wheel's TorchConfig" FORCE)
message(STATUS "libtorch: pip torch ${OMNIHOST_TORCH_VERSION} from ${_root} (CUDA libraries: ${OMNIHOST_TORCH_CUDA}, _GLIBCXX_USE_CXX11_ABI=${_abi})")
