// One plugin instance created through the C ABI for the end-to-end tests, with JSON in and the
// last error out; destroyed with the test. Header-only: it asserts with doctest.
#pragma once

#include "plugin_harness.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace inprocess_test {

struct instance {
    loaded_plugin &plugin;
    omnihost_instance *inst = nullptr;
    instance(loaded_plugin &p, const nlohmann::json &config) : plugin(p) {
        char err[512] = {0};
        REQUIRE(p.entry->create(&p.host, config.dump().c_str(), &inst, err, sizeof err) == OMNIHOST_OK);
        REQUIRE(inst != nullptr);
    }
    ~instance() { plugin.entry->destroy(inst); }
    instance(const instance &) = delete;
    instance &operator=(const instance &) = delete;
    omnihost_status start(const nlohmann::json &j, test_job &job) {
        return plugin.entry->start(inst, j.dump().c_str(), &job.job);
    }
    omnihost_status generate(const nlohmann::json &j, test_job &job, omnihost_result **out) {
        return plugin.entry->generate(inst, j.dump().c_str(), &job.job, out);
    }
    std::string error() { return plugin.entry->last_error(inst); }
    // Runs a generation that must succeed and returns (bytes, metadata with "_mime" added).
    std::pair<std::vector<uint8_t>, nlohmann::json> ok(const nlohmann::json &req) {
        test_job job;
        omnihost_result *res = nullptr;
        REQUIRE_MESSAGE(generate(req, job, &res) == OMNIHOST_OK, error());
        REQUIRE(res != nullptr);
        std::vector<uint8_t> bytes(res->data, res->data + res->size);
        nlohmann::json meta = nlohmann::json::parse(res->metadata_json);
        meta["_mime"] = res->mime_type;
        plugin.entry->release_result(inst, res);
        return {bytes, meta};
    }
};

}  // namespace inprocess_test
