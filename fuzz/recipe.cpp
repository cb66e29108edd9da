// A recipe file as the host reads it at start-up: recipe_catalog::load over a folder holding the
// input as fuzz.json (the real file path, parse included), and parse_recipe on the bounded parse
// with the file name the id asks for (so the fuzzer gets past the id/file-name rule).
// Properties: neither throws; a bad file becomes a problem naming a field, never a crash.
#include "fuzz_check.h"

#include "common/json_limits.h"
#include "recipes/recipe.h"
#include "recipes/recipe_catalog.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

const std::string &recipe_dir() {
    static const std::string dir = [] {
        const char *tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/omnihost-fuzz-recipe-XXXXXX";
        FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr, "cannot create a temporary folder");
        return pattern;
    }();
    return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text = omnihost::fuzz::as_text(data, size);
    {
        std::ofstream out(recipe_dir() + "/fuzz.json", std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
    }
    omnihost::recipe_catalog catalog;
    catalog.load(recipe_dir(), "");  // no default: its absence would be a second problem
    FUZZ_CHECK(catalog.recipes().size() + catalog.problems().size() == 1, "one file, one recipe or one problem");
    // Written out as GET /api/omni/recipes does (problem texts may quote broken UTF-8 bytes).
    (void)catalog.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

    const nlohmann::json document = omnihost::parse_json_bounded_or_discarded(text);
    if (document.is_discarded()) return 0;
    std::string file_name = "fuzz.json";
    if (document.is_object() && document.contains("id") && document["id"].is_string())
        file_name = document["id"].get<std::string>() + ".json";
    omnihost::recipe_problem problem;
    if (auto recipe = omnihost::parse_recipe(document, file_name, problem)) {
        (void)recipe->to_json().dump();
    } else {
        FUZZ_CHECK(!problem.message.empty(), "a refused recipe without a message");
    }
    return 0;
}
