# omnihost_add_plugin(<target> MANIFEST <file.plugin.json> SOURCES <src...> [OUTPUT_DIR <dir>])
#
# Builds a MODULE library that exports only the entry symbol, and places it and its manifest side
# by side in OUTPUT_DIR (default: ${OMNIHOST_PLUGIN_OUTPUT_DIR}), which is what the host scans.
function(omnihost_add_plugin target)
  cmake_parse_arguments(ARG "" "MANIFEST;OUTPUT_DIR" "SOURCES" ${ARGN})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${OMNIHOST_PLUGIN_OUTPUT_DIR})
  endif()
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE omnihost_plugin_api)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden)
  if(ARG_MANIFEST)
    get_filename_component(_mname ${ARG_MANIFEST} NAME)
    add_custom_command(TARGET ${target} POST_BUILD
      COMMAND ${CMAKE_COMMAND} -E copy_if_different
              ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_MANIFEST} ${ARG_OUTPUT_DIR}/${_mname}
      VERBATIM)
  endif()
endfunction()

# omnihost_add_subdirectories([FIRST <child>...])
#
# Adds every subfolder of the current source folder that has a CMakeLists.txt, FIRST ones first.
# Each component owns its folder; a folder joins the build by gaining a CMakeLists.txt.
function(omnihost_add_subdirectories)
  cmake_parse_arguments(ARG "" "" "FIRST" ${ARGN})
  file(GLOB _children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT _children)
  set(_added)
  foreach(child IN LISTS ARG_FIRST _children)
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child}
       AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt
       AND NOT child IN_LIST _added)
      add_subdirectory(${child})
      list(APPEND _added ${child})
    endif()
  endforeach()
endfunction()
