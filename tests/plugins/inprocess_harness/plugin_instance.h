// One plugin instance created through the C ABI for the end-to-end tests, with JSON in and the
// reason of the last failed call out (each call has its own error buffer; the harness keeps the
// last reason); destroyed with the test. Header-only: it asserts with doctest.
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
        char err[2048] = {0};
        return remember(plugin.entry->start(inst, j.dump().c_str(), &job.job, err, sizeof err), err);
    }
    omnihost_status generate(const nlohmann::json &j, test_job &job, omnihost_result **out) {
        char err[2048] = {0};
        return remember(plugin.entry->generate(inst, j.dump().c_str(), &job.job, out, err, sizeof err), err);
    }
    omnihost_status stop() {
        char err[2048] = {0};
        return remember(plugin.entry->stop(inst, err, sizeof err), err);
    }
    // health() JSON text; a failure fails the test.
    std::string health() {
        omnihost_status st = OMNIHOST_OK;
        std::string text = read_text(st, [&](char *o, size_t c, size_t *l, char *e, size_t ec) {
            return plugin.entry->health(inst, o, c, l, e, ec);
        });
        REQUIRE_MESSAGE(st == OMNIHOST_OK, last_error);
        return text;
    }
    // command_preview(j): the JSON text on OK; on failure "" and the reason in error().
    std::string preview(const nlohmann::json &j, omnihost_status &st) {
        const std::string start = j.dump();
        return read_text(st, [&](char *o, size_t c, size_t *l, char *e, size_t ec) {
            return plugin.entry->command_preview(inst, start.c_str(), o, c, l, e, ec);
        });
    }
    std::string error() const { return last_error; }
    std::string last_error;
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

private:
    omnihost_status remember(omnihost_status st, const char *err) {
        if (st != OMNIHOST_OK) last_error = err;
        return st;
    }
    // The ABI's text-out rule: ask again with the reported length while the text did not fit.
    template <class Call>
    std::string read_text(omnihost_status &st, Call &&call) {
        std::vector<char> buf(64);
        for (int round = 0; round < 8; ++round) {
            size_t len = 0;
            char err[2048] = {0};
            st = remember(call(buf.data(), buf.size(), &len, err, sizeof err), err);
            if (st != OMNIHOST_OK) return {};
            if (len < buf.size()) return std::string(buf.data(), len);
            buf.assign(len + 1, '\0');
        }
        FAIL("text answer kept growing");
        return {};
    }
};

}  // namespace inprocess_test
