# Test registration shared by the folders under tests/ (included by tests/CMakeLists.txt).

# omnihost_add_doctest_suites(<executable> PREFIX <name prefix> SUITES <suite>... [TIMEOUT <seconds>])
#
# One CTest test per doctest suite of <executable>: <prefix><suite>, running
# `<executable> --test-suite=<suite>`, so each suite passes, fails and times out on its own.
function(omnihost_add_doctest_suites exe)
  cmake_parse_arguments(ARG "" "PREFIX;TIMEOUT" "SUITES" ${ARGN})
  foreach(suite IN LISTS ARG_SUITES)
    add_test(NAME ${ARG_PREFIX}${suite} COMMAND ${exe} --test-suite=${suite})
    if(ARG_TIMEOUT)
      set_tests_properties(${ARG_PREFIX}${suite} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
    endif()
  endforeach()
endfunction()

# omnihost_add_host_process_test(<executable> SOURCES <src>... [BUILT_PLUGINS] [DEMO_DATA <model dir>]
#                                [LIBS <lib>...] [DEFINITIONS <name=value>...] [DEPENDS <target>...])
#
# A doctest executable that starts the real `omnihost` binary through HostProcess
# (tests/host/integration/host_process.*; a test file outside that folder adds it to the include
# path itself). SOURCES name its main and its test files. It knows the binary (OMNIHOST_BINARY), the
# test plugin's folder (TEST_PLUGIN_DIR) and the recipes (RECIPE_DIR); BUILT_PLUGINS adds the folder
# the build puts every plugin in (BUILD_PLUGIN_DIR), DEMO_DATA the data folder that holds
# <model dir> under models/ (DEMO_DATA_DIR, what --data-dir takes).
function(omnihost_add_host_process_test exe)
  cmake_parse_arguments(ARG "BUILT_PLUGINS" "DEMO_DATA" "SOURCES;LIBS;DEFINITIONS;DEPENDS" ${ARGN})
  find_package(doctest REQUIRED)
  find_package(Poco REQUIRED COMPONENTS Net Foundation)
  find_package(nlohmann_json 3.10 REQUIRED)
  set(_hit ${PROJECT_SOURCE_DIR}/tests/host/integration)
  add_executable(${exe} ${ARG_SOURCES} ${_hit}/host_process.cpp)
  target_link_libraries(${exe} PRIVATE doctest::doctest Poco::Net Poco::Foundation nlohmann_json::nlohmann_json
                        ${ARG_LIBS})
  set(_defs ${ARG_DEFINITIONS})
  if(ARG_BUILT_PLUGINS)
    list(APPEND _defs BUILD_PLUGIN_DIR="${OMNIHOST_PLUGIN_OUTPUT_DIR}")
  endif()
  if(ARG_DEMO_DATA)
    get_filename_component(_models ${ARG_DEMO_DATA} DIRECTORY)
    get_filename_component(_data ${_models} DIRECTORY)
    list(APPEND _defs DEMO_DATA_DIR="${_data}")
  endif()
  target_compile_definitions(${exe} PRIVATE
    OMNIHOST_BINARY="$<TARGET_FILE:omnihost>"
    TEST_PLUGIN_DIR="$<TARGET_FILE_DIR:omnihost_test_plugin>"
    RECIPE_DIR="${PROJECT_SOURCE_DIR}/recipes"
    ${_defs})
  add_dependencies(${exe} omnihost ${ARG_DEPENDS})
endfunction()

# omnihost_add_missing_test(<name> NEEDS <what> FAIL_REGEX <regex>)
#
# Where a test's prerequisites are not part of this build, the test is still registered, as a
# failure that says "<name> needs <what>": a partial configure must not look like a passing one.
function(omnihost_add_missing_test name)
  cmake_parse_arguments(ARG "" "NEEDS;FAIL_REGEX" "" ${ARGN})
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -E echo "${name} needs ${ARG_NEEDS}")
  set_tests_properties(${name} PROPERTIES FAIL_REGULAR_EXPRESSION "${ARG_FAIL_REGEX}")
endfunction()

# omnihost_add_case_params_test(<name> RUNNER <parity runner target> CASE <golden case> <case dir>
#                               EDITS <sed expression>...)
#
# models.parity_harness.<name>: tests/models/parity/case_params_test.sh runs RUNNER on a copy of
# one golden case (must pass), then on copies with each of EDITS applied alone (each must fail on
# the numbers): the runner reads those parameters from the case instead of assuming them.
function(omnihost_add_case_params_test name)
  cmake_parse_arguments(ARG "" "RUNNER" "CASE;EDITS" ${ARGN})
  add_test(NAME models.parity_harness.${name}
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/models/parity/case_params_test.sh ${OMNIHOST_GOLDEN_DIR}
                   $<TARGET_FILE:${ARG_RUNNER}> ${ARG_CASE} ${ARG_EDITS})
endfunction()

# The in-process plugins' own tests (tests/plugins/<plugin>), each folder with a test_main.cpp:

# omnihost_add_demo_model_test(<plugin>)
#
# <plugin>.demo_model: test_demo_model.cpp checks the demo model writer against the golden
# checkpoints (key names and shapes) and its determinism.
function(omnihost_add_demo_model_test plugin)
  add_executable(test_${plugin}_demo_model test_demo_model.cpp test_main.cpp)
  target_link_libraries(test_${plugin}_demo_model PRIVATE omnihost_demo_model doctest::doctest)
  target_compile_definitions(test_${plugin}_demo_model PRIVATE OMNIHOST_GOLDEN_DIR="${OMNIHOST_GOLDEN_DIR}")
  add_test(NAME ${plugin}.demo_model COMMAND test_${plugin}_demo_model)
endfunction()

# omnihost_add_plugin_e2e_test(<plugin> MACRO_PREFIX <prefix> [TIMEOUT <seconds>])
#
# <plugin>.e2e: test_plugin_e2e.cpp drives the built plugin through the C ABI on a demo model it
# writes; it finds both through <prefix>_PLUGIN_PATH and <prefix>_MAKE_DEMO_MODEL.
function(omnihost_add_plugin_e2e_test plugin)
  cmake_parse_arguments(ARG "" "MACRO_PREFIX;TIMEOUT" "" ${ARGN})
  find_package(nlohmann_json REQUIRED)
  add_executable(test_${plugin}_e2e test_plugin_e2e.cpp test_main.cpp)
  target_link_libraries(test_${plugin}_e2e PRIVATE inprocess_test_harness omnihost_media
    nlohmann_json::nlohmann_json doctest::doctest)
  target_compile_definitions(test_${plugin}_e2e PRIVATE
    ${ARG_MACRO_PREFIX}_PLUGIN_PATH="$<TARGET_FILE:${plugin}>"
    ${ARG_MACRO_PREFIX}_MAKE_DEMO_MODEL="$<TARGET_FILE:omnihost_make_demo_model>")
  add_dependencies(test_${plugin}_e2e ${plugin} omnihost_make_demo_model)
  add_test(NAME ${plugin}.e2e COMMAND test_${plugin}_e2e)
  if(ARG_TIMEOUT)
    set_tests_properties(${plugin}.e2e PROPERTIES TIMEOUT ${ARG_TIMEOUT})
  endif()
endfunction()

# omnihost_add_conformance_test(<plugin> MODEL_DIR <dir> START_JSON <json> GENERATE_JSON <json>)
#
# <plugin>.conformance: the plugin API conformance kit on the built plugin and its manifest. The kit
# creates the instance with "{}" (no data_dir), so the environment names MODEL_DIR as a model root,
# as OMNIHOST_MODEL_ROOTS would in production.
function(omnihost_add_conformance_test plugin)
  cmake_parse_arguments(ARG "" "MODEL_DIR;START_JSON;GENERATE_JSON" "" ${ARGN})
  add_test(NAME ${plugin}.conformance
    COMMAND omnihost-conformance $<TARGET_FILE:${plugin}>
      --manifest ${OMNIHOST_PLUGIN_OUTPUT_DIR}/${plugin}.plugin.json
      --start-json "${ARG_START_JSON}"
      --generate-json "${ARG_GENERATE_JSON}")
  set_tests_properties(${plugin}.conformance PROPERTIES ENVIRONMENT "OMNIHOST_MODEL_ROOTS=${ARG_MODEL_DIR}")
endfunction()
