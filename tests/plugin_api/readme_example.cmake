# cmake -DREADME=<plugin_api/README.md> -DSOURCE=<dropin_plugin.c> -P readme_example.cmake
# The README's complete plain-C plugin must be the drop-in test plugin, byte for byte, so the
# example that readers copy is the one the tests build and run.
file(READ "${README}" readme)
file(READ "${SOURCE}" source)
string(FIND "${readme}" "```c\n${source}```" at)
if(at EQUAL -1)
  message(FATAL_ERROR "plugin_api/README.md does not contain ${SOURCE} verbatim in a ```c block; "
                      "copy the file into the README's example")
endif()
message(STATUS "README example equals ${SOURCE}")
