// A plugin manifest (<id>.plugin.json) as the host reads it, then used as the host uses it:
// routing questions, and its "parameters" overlaid on the built-in schemas and applied to an
// empty request with defaults filled in (what a generate call with no fields does).
// Properties: a bad manifest is a loader_error of kind manifest naming the file, nothing else escapes; a
// manifest the loader accepted never makes request validation throw or crash.
#include "fuzz_check.h"

#include "core/field_schema.h"
#include "api/request_schemas.h"
#include "plugin_loader/manifest.h"

namespace {

using nlohmann::json;
using namespace omnihost;

void apply(const field_schema &schema) {
    json request = json::object();
    if (validate_object(request, schema, true)) return;
    json again = request;
    (void)validate_object(again, schema, false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    plugin_loader::plugin_manifest manifest;
    try {
        manifest = plugin_loader::parse_manifest_text(fuzz::as_text(data, size), "/fuzz/plugins/fuzz.plugin.json");
    } catch (const plugin_loader::loader_error &e) {
        FUZZ_CHECK(e.kind == plugin_loader::loader_error_kind::manifest, "a loader error other than a manifest error");
        FUZZ_CHECK(std::string_view(e.what()).find("/fuzz/plugins/fuzz.plugin.json") != std::string_view::npos,
                   "a manifest error that does not name the file");
        return 0;
    }
    for (const char *model_type : kModelTypes)
        for (const char *run_mode : kRunModes) {
            (void)manifest.serves(model_type, run_mode);
            (void)manifest.refusal_for(model_type, run_mode);
        }
    std::vector<std::string> problems;
    for (task_kind task : {task_kind::Image, task_kind::Video, task_kind::Audio, task_kind::Tts, task_kind::Chat}) {
        field_schema schema = overlay_manifest_parameters(generation_schema(task),
                                                    manifest.parameters.value("*", json::object()), &problems);
        schema = overlay_manifest_parameters(schema, manifest.parameters.value(task_name(task), json::object()),
                                             &problems);
        apply(schema);
    }
    apply(overlay_manifest_parameters(start_schema(), manifest.parameters.value("start", json::object()), &problems));
    return 0;
}
