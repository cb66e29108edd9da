// A request body as the host's handlers treat it: the bounded JSON parse, then the playground
// schema of every task and the start schema, each alone and overlaid with the parameters of every
// plugin manifest in the tree (what a loaded plan adds), then the start preview's redaction.
// Properties: validation never throws; a body that passed with defaults filled in passes again
// unchanged (the defaults obey their own ranges); redaction leaves no secret in any string.
#include "fuzz_check.h"

#include "core/field_schema.h"
#include "api/request_schemas.h"
#include "api/start_planner.h"
#include "common/json_limits.h"
#include "plugin_loader/manifest.h"

#include <filesystem>
#include <vector>

namespace {

using nlohmann::json;
using namespace omnihost;

// The "parameters" blocks of every manifest in the source tree, plus an empty one (no plugin).
const std::vector<json> &manifest_parameters() {
    static const std::vector<json> all = [] {
        std::vector<json> out{json::object()};
        for (const char *dir : {"plugins", "tests/plugins/test_plugin"}) {
            for (const auto &entry :
                 std::filesystem::recursive_directory_iterator(std::string(OMNIHOST_SOURCE_DIR) + "/" + dir)) {
                const std::string name = entry.path().filename().string();
                if (name.size() < 12 || name.compare(name.size() - 12, 12, ".plugin.json") != 0) continue;
                out.push_back(plugin_loader::parse_manifest_file(entry.path()).parameters);
            }
        }
        return out;
    }();
    return all;
}

// Validates a copy of `body` as a handler does: as sent, then with defaults filled in.
void check_against(const json &body, const field_schema &schema) {
    json copy = body;
    if (validate_object(copy, schema, false)) return;
    if (validate_object(copy, schema, true)) return;
    json again = copy;
    FUZZ_CHECK(!validate_object(again, schema, false), "a body with its defaults filled in fails validation");
    FUZZ_CHECK(again == copy, "validating a valid body changed it");
}

void check_redaction(const json &body) {
    std::vector<std::string> secrets = secret_values(body);
    const json redacted = redact(body, secrets);
    // Secrets holding '*' can meet the "***" mask itself; the check covers the others.
    std::erase_if(secrets, [](const std::string &s) { return s.find('*') != std::string::npos; });
    std::vector<const json *> stack{&redacted};
    while (!stack.empty()) {
        const json *v = stack.back();
        stack.pop_back();
        if (v->is_string())
            for (const auto &secret : secrets)
                FUZZ_CHECK(v->get_ref<const std::string &>().find(secret) == std::string::npos,
                           "a secret survived redaction");
        if (v->is_structured())
            for (const auto &child : *v) stack.push_back(&child);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const json body = parse_json_bounded_or_discarded(fuzz::as_text(data, size));
    if (!body.is_object()) return 0;
    for (const json &parameters : manifest_parameters()) {
        for (task_kind task : {task_kind::Image, task_kind::Video, task_kind::Audio, task_kind::Tts, task_kind::Chat}) {
            field_schema schema = generation_schema(task);
            schema = overlay_manifest_parameters(schema, parameters.value("*", json::object()));
            schema = overlay_manifest_parameters(schema, parameters.value(task_name(task), json::object()));
            check_against(body, schema);
        }
        const field_schema start = overlay_manifest_parameters(start_schema(), parameters.value("start", json::object()));
        check_against(body, start);
        json copy = body;
        if (!validate_object(copy, start, true)) check_redaction(copy);
    }
    return 0;
}
