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
