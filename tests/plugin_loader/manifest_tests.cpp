// Manifest validation: a good manifest parses; each kind of defect is refused with the field named.
#include <manifest.h>

#include <doctest/doctest.h>

#include <string>

using namespace omnihost::plugin_loader;
using nlohmann::json;

namespace {

json good() {
    return json::parse(R"({
      "id": "demo_plugin", "name": "Demo", "version": "1.2.3", "abi": {"major": 1, "minor": 4},
      "library": "libdemo_plugin.so", "kind": "proxy",
      "routes": [{"model_type": "image", "run_mode": "subprocess"}, {"model_type": "omni", "run_mode": "remote"}],
      "refuses": [{"model_type": "video", "run_mode": "container", "reason": "not here"}],
      "tasks": ["image", "chat"],
      "parameters": {"image": {"width": {"type": "integer", "min": 64, "max": 2048}}, "start": {}, "*": {}}
    })");
}

// The field named by the manifest loader_error for `m`, failing the test if it parses.
std::string failing_field(const json &m) {
    try {
        parse_manifest_text(m.dump(), "/plugins/demo_plugin.plugin.json");
    } catch (const loader_error &e) {
        CHECK(e.kind == loader_error_kind::manifest);
        std::string what = e.what();
        CHECK(what.find("/plugins/demo_plugin.plugin.json") != std::string::npos);  // names the file
        if (!e.field.empty()) CHECK(what.find("'" + e.field + "'") != std::string::npos);
        return e.field;
    }
    FAIL("manifest was accepted: " << m.dump());
    return {};
}

}  // namespace

TEST_SUITE("manifest") {

TEST_CASE("a good manifest parses with every field") {
    plugin_manifest m = parse_manifest_text(good().dump(), "/plugins/demo_plugin.plugin.json");
    CHECK(m.id == "demo_plugin");
    CHECK(m.version == "1.2.3");
    CHECK(m.abi_major == 1);
    CHECK(m.abi_minor == 4);
    CHECK(m.kind == "proxy");
    CHECK(m.library_path == std::filesystem::path("/plugins/libdemo_plugin.so"));
    REQUIRE(m.routes.size() == 2);
    CHECK(m.serves("image", "subprocess"));
    CHECK(m.serves("omni", "remote"));
    CHECK_FALSE(m.serves("image", "remote"));
    REQUIRE(m.refusal_for("video", "container") != nullptr);
    CHECK(m.refusal_for("video", "container")->reason == "not here");
    CHECK(m.refusal_for("video", "subprocess") == nullptr);
    CHECK(m.tasks == std::vector<std::string>{"image", "chat"});
    CHECK(m.parameters["image"]["width"]["max"] == 2048);
}

TEST_CASE("each defect names its field") {
    json m;
    m = good(); m.erase("id");                        CHECK(failing_field(m) == "id");
    m = good(); m["id"] = "Has-Caps";                 CHECK(failing_field(m) == "id");
    m = good(); m["name"] = 7;                        CHECK(failing_field(m) == "name");
    m = good(); m["version"] = "";                    CHECK(failing_field(m) == "version");
    m = good(); m["abi"] = "1.0";                     CHECK(failing_field(m) == "abi");
    m = good(); m["abi"].erase("major");              CHECK(failing_field(m) == "abi.major");
    m = good(); m["abi"]["minor"] = -1;               CHECK(failing_field(m) == "abi.minor");
    m = good(); m.erase("library");                   CHECK(failing_field(m) == "library");
    m = good(); m["kind"] = "docker";                 CHECK(failing_field(m) == "kind");
    m = good(); m["routes"] = json::array();          CHECK(failing_field(m) == "routes");
    m = good(); m["routes"] = json::object();         CHECK(failing_field(m) == "routes");
    m = good(); m["routes"][1]["run_mode"] = "docker"; CHECK(failing_field(m) == "routes[1].run_mode");
    m = good(); m["routes"][0]["model_type"] = "text"; CHECK(failing_field(m) == "routes[0].model_type");
    m = good(); m["refuses"][0].erase("reason");      CHECK(failing_field(m) == "refuses[0].reason");
    m = good(); m["refuses"][0]["model_type"] = "image"; m["refuses"][0]["run_mode"] = "subprocess";
    CHECK(failing_field(m) == "refuses[0]");  // refuses what it routes
    m = good(); m["tasks"] = json::array({"image", "sing"}); CHECK(failing_field(m) == "tasks[1]");
    m = good(); m["parameters"] = json::array();      CHECK(failing_field(m) == "parameters");
    m = good(); m["parameters"]["paint"] = json::object(); CHECK(failing_field(m) == "parameters.paint");
    m = good(); m["parameters"]["image"]["width"]["type"] = "int"; CHECK(failing_field(m) == "parameters.image.width.type");
    m = good(); m["parameters"]["image"]["width"]["min"] = 4096; CHECK(failing_field(m) == "parameters.image.width.min");
    m = good(); m["parameters"]["image"]["seedy"] = {{"type", "string"}, {"max", 3}};
    CHECK(failing_field(m) == "parameters.image.seedy.max");
}

TEST_CASE("invalid JSON and non-objects are refused with the file named") {
    CHECK_THROWS_WITH_AS(parse_manifest_text("{\"id\": ", "/p/x.plugin.json"),
                         doctest::Contains("/p/x.plugin.json: invalid JSON"), loader_error);
    CHECK_THROWS_WITH_AS(parse_manifest_text("[1,2]", "/p/x.plugin.json"),
                         doctest::Contains("must be a JSON object"), loader_error);
    CHECK_THROWS_WITH_AS(parse_manifest_file("/nonexistent/dir/y.plugin.json"),
                         doctest::Contains("cannot read manifest"), loader_error);
}

TEST_CASE("vocabulary helpers") {
    for (const char *t : {"video", "audio", "image", "tts", "omni"}) CHECK(is_model_type(t));
    CHECK_FALSE(is_model_type("chat"));
    for (const char *r : {"subprocess", "container", "remote"}) CHECK(is_run_mode(r));
    CHECK_FALSE(is_run_mode("local"));
    CHECK(is_task("chat"));
    CHECK_FALSE(is_task("omni"));
}

}  // TEST_SUITE
