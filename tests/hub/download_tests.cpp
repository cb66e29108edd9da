// The downloader against the stand-in hub on loopback: layout, redirects, tokens, gated and
// private repositories, broken connections, corrupt content, offline mode, unsafe names.
#include <doctest/doctest.h>

#include "hub_download.h"
#include "test_fixture.h"

#include "core/hub.h"

#include <algorithm>

using namespace omnihost::hub;
using namespace hub_test;
namespace fs = std::filesystem;

namespace {

const char *const kId = kPipelineId;  // what pipeline_fixture serves

download_options options_for(const hub_standin::server &hub) {
    download_options o;
    o.endpoint = hub.endpoint();
    o.timeout_s = 20;
    return o;
}

hub_error_kind error_kind(const std::function<void()> &f, std::string *message = nullptr) {
    try {
        f();
    } catch (const hub_error &e) {
        if (message) *message = e.what();
        return e.kind;
    }
    FAIL("no hub_error thrown");
    return hub_error_kind::io;
}

std::vector<hub_standin::recorded_request> gets_of(const hub_standin::server &hub, const std::string &needle) {
    std::vector<hub_standin::recorded_request> out;
    for (const auto &r : hub.requests())
        if (r.method == "GET" && r.target.find(needle) != std::string::npos) out.push_back(r);
    return out;
}

fs::path repo_dir(const temp_cache &c) { return c.hub() / "models--test-org--tiny-pipe"; }

}  // namespace

TEST_SUITE("hub_download") {

TEST_CASE_FIXTURE(pipeline_fixture, "a pipeline is downloaded into the Hugging Face cache layout, then found by the resolver") {
    const std::string commit = serve();
    std::vector<download_progress> seen;
    std::vector<std::string> lines;
    auto o = options_for(hub);
    o.progress = [&](const download_progress &p) { seen.push_back(p); };
    o.log = [&](log_level, const std::string &m) { lines.push_back(m); };
    const fs::path snapshot = download_model(kId, o);

    CHECK(snapshot == repo_dir(cache) / "snapshots" / commit);
    CHECK(read_file(repo_dir(cache) / "refs" / "main") == commit);
    // Exactly the pipeline files, each a relative link into blobs/<etag> with the served bytes.
    std::vector<std::string> linked;
    for (const auto &e : fs::recursive_directory_iterator(snapshot))
        if (fs::is_symlink(e.symlink_status())) linked.push_back(e.path().lexically_relative(snapshot).generic_string());
    std::sort(linked.begin(), linked.end());
    const std::vector<std::string> want = {"model_index.json", "scheduler/scheduler_config.json", "tokenizer/spiece.model",
                                           "tokenizer/tokenizer.json", "transformer/config.json",
                                           "transformer/diffusion_pytorch_model.safetensors", "vae/config.json",
                                           "vae/diffusion_pytorch_model.safetensors"};
    CHECK(linked == want);
    // The original single-file checkpoint beside the diffusers folders is not even fetched.
    CHECK(gets_of(hub, "/lfs/" + hub_standin::sha256_hex(repo.files.at("model.safetensors"))).empty());
    for (const auto &path : want) {
        CAPTURE(path);
        const fs::path link = snapshot / path;
        const fs::path target = fs::read_symlink(link);
        CHECK(target.is_relative());
        const std::string &bytes = repo.files.at(path);
        const std::string etag = path.find(".safetensors") != std::string::npos ? hub_standin::sha256_hex(bytes)
                                                                                 : hub_standin::git_blob_id(bytes);
        CHECK(fs::equivalent(link, repo_dir(cache) / "blobs" / etag));
        CHECK(read_file(link) == bytes);
    }
    // No partial or staging files left.
    for (const auto &e : fs::recursive_directory_iterator(repo_dir(cache))) {
        const std::string name = e.path().filename().string();
        CHECK_MESSAGE(name.find("incomplete") == std::string::npos, name);
        CHECK_MESSAGE(name.find("omnihost-") == std::string::npos, name);
    }
    // Progress covers every file and ends at the total; each file has a log line.
    REQUIRE(!seen.empty());
    CHECK(seen.back().done == seen.back().total);
    CHECK(seen.back().file_count == 8);
    for (const auto &path : want)
        CHECK(std::any_of(lines.begin(), lines.end(), [&](const std::string &l) { return l.find(path + ": downloaded") != std::string::npos; }));
    // The model resolver (what the plugins use) finds it now.
    CHECK(fs::equivalent(omnihost::models::resolve_hub_model(kId), snapshot));

    SUBCASE("a second download fetches no bytes again") {
        hub.clear_requests();
        CHECK(download_model(kId, o) == snapshot);
        CHECK(gets_of(hub, "/resolve/").empty());
        CHECK(gets_of(hub, "/lfs/").empty());
    }
}

TEST_CASE_FIXTURE(pipeline_fixture, "LFS files follow the redirect to another origin; HF_TOKEN goes to the hub only") {
    repo.private_token = "hf_secret";
    serve();
    auto o = options_for(hub);
    cache.env.set("HF_TOKEN", "hf_secret");
    download_model(kId, o);
    const auto lfs = gets_of(hub, "/lfs/");
    CHECK(lfs.size() == 2);  // the two plain safetensors, from the CDN
    bool hub_saw_token = false;
    for (const auto &r : hub.requests()) {
        if (r.server == "cdn") CHECK_MESSAGE(r.authorization.empty(), r.target);
        if (r.server == "hub") hub_saw_token = hub_saw_token || r.authorization == "Bearer hf_secret";
        if (r.server == "hub") CHECK(r.authorization == "Bearer hf_secret");
    }
    CHECK(hub_saw_token);
}

TEST_CASE_FIXTURE(pipeline_fixture, "a private repository without a token is refused, naming HF_TOKEN") {
    repo.private_token = "hf_secret";
    serve();
    std::string msg;
    CHECK(error_kind([&] { download_model(kId, options_for(hub)); }, &msg) == hub_error_kind::unauthorized);
    CHECK(msg.find("HF_TOKEN") != std::string::npos);
    CHECK(!fs::exists(repo_dir(cache) / "snapshots"));
}

TEST_CASE_FIXTURE(pipeline_fixture, "a gated model: a clear message naming its page; with an allowed token it downloads") {
    repo.gated_token = "hf_accepted";
    serve();
    std::string msg;
    CHECK(error_kind([&] { download_model(kId, options_for(hub)); }, &msg) == hub_error_kind::gated);
    CHECK(msg.find("gated") != std::string::npos);
    CHECK(msg.find(hub.endpoint() + "/" + kId) != std::string::npos);  // the model's page on this hub
    CHECK(msg.find("HF_TOKEN") != std::string::npos);
    CHECK(!fs::exists(repo_dir(cache) / "snapshots"));
    cache.env.set("HF_TOKEN", "hf_accepted");
    CHECK(fs::is_directory(download_model(kId, options_for(hub))));
}

TEST_CASE("the endpoint: the option, else HF_ENDPOINT, else https://huggingface.co; trailing slashes dropped") {
    env_guard env;
    env.unset("HF_ENDPOINT");
    CHECK(resolve_endpoint("") == "https://huggingface.co");
    env.set("HF_ENDPOINT", "http://mirror.example:8080///");
    CHECK(resolve_endpoint("") == "http://mirror.example:8080");
    CHECK(resolve_endpoint("http://other:1/") == "http://other:1");
}

TEST_CASE_FIXTURE(pipeline_fixture, "HF_ENDPOINT points the downloader at a mirror") {
    serve();
    cache.env.set("HF_ENDPOINT", hub.endpoint() + "/");
    download_options o;  // no endpoint given
    o.timeout_s = 20;
    CHECK(fs::is_directory(download_model(kId, o)));
    CHECK(!gets_of(hub, "/api/models/test-org/tiny-pipe/revision/main").empty());
}

TEST_CASE_FIXTURE(pipeline_fixture, "HF_HUB_OFFLINE (set by --no-download) refuses before any request, with a clear message") {
    serve();
    cache.env.set("HF_HUB_OFFLINE", "1");
    CHECK(downloads_forbidden());
    std::string msg;
    CHECK(error_kind([&] { download_model(kId, options_for(hub)); }, &msg) == hub_error_kind::offline);
    CHECK(msg.find("--no-download") != std::string::npos);
    CHECK(msg.find(kId) != std::string::npos);
    CHECK(hub.requests().empty());
}

TEST_CASE_FIXTURE(pipeline_fixture, "unknown repositories and revisions") {
    serve();
    CHECK(error_kind([&] { download_model("test-org/nope", options_for(hub)); }) == hub_error_kind::unauthorized);
    CHECK(error_kind([&] { download_model(std::string(kId) + "@v9", options_for(hub)); }) == hub_error_kind::not_found);
    CHECK(error_kind([&] { download_model("not an id", options_for(hub)); }) == hub_error_kind::bad_id);
    auto nowhere = options_for(hub);
    nowhere.endpoint = "http://127.0.0.1:1";  // nothing listens there
    CHECK(error_kind([&] { download_model(kId, nowhere); }) == hub_error_kind::unreachable);
}

TEST_CASE_FIXTURE(pipeline_fixture, "a connection broken mid-file is resumed with Range and the file completes") {
    serve();
    const std::string path = "transformer/diffusion_pytorch_model.safetensors";
    hub.break_after(path, 100000);
    std::vector<std::string> warnings;
    auto o = options_for(hub);
    o.log = [&](log_level l, const std::string &m) {
        if (l == log_level::warn) warnings.push_back(m);
    };
    const fs::path snapshot = download_model(kId, o);
    CHECK(read_file(snapshot / path) == repo.files.at(path));
    const auto lfs = gets_of(hub, "/lfs/" + hub_standin::sha256_hex(repo.files.at(path)));
    REQUIRE(lfs.size() == 2);
    CHECK(lfs[0].range.empty());
    CHECK(lfs[1].range == "bytes=100000-");
    CHECK(std::any_of(warnings.begin(), warnings.end(), [](const std::string &w) { return w.find("resuming") != std::string::npos; }));
}

TEST_CASE_FIXTURE(pipeline_fixture, "a download that gives up keeps its partial file; the next one resumes it") {
    serve();
    const std::string path = "vae/diffusion_pytorch_model.safetensors";
    const std::string sha = hub_standin::sha256_hex(repo.files.at(path));
    hub.break_after(path, 20000);
    auto o = options_for(hub);
    o.attempts = 1;
    CHECK(error_kind([&] { download_model(kId, o); }) == hub_error_kind::network);
    const fs::path partial = repo_dir(cache) / "blobs" / (sha + ".incomplete");
    REQUIRE(fs::exists(partial));
    CHECK(fs::file_size(partial) == 20000);
    CHECK(!fs::exists(repo_dir(cache) / "snapshots"));  // nothing half-done is visible
    CHECK(!fs::exists(repo_dir(cache) / "refs"));
    hub.clear_requests();
    const fs::path snapshot = download_model(kId, o);
    CHECK(read_file(snapshot / path) == repo.files.at(path));
    const auto lfs = gets_of(hub, "/lfs/" + sha);
    REQUIRE(lfs.size() == 1);
    CHECK(lfs[0].range == "bytes=20000-");
    CHECK(!fs::exists(partial));
}

TEST_CASE_FIXTURE(pipeline_fixture, "content that does not match its ETag/sha256 is refused and nothing reaches the snapshot") {
    serve();
    SUBCASE("an LFS file (sha256)") {
        const std::string path = "vae/diffusion_pytorch_model.safetensors";
        hub.corrupt(path);
        std::string msg;
        CHECK(error_kind([&] { download_model(kId, options_for(hub)); }, &msg) == hub_error_kind::integrity);
        CHECK(msg.find(path) != std::string::npos);
        CHECK(msg.find("sha256") != std::string::npos);
        const std::string sha = hub_standin::sha256_hex(repo.files.at(path));
        CHECK(!fs::exists(repo_dir(cache) / "blobs" / sha));
        CHECK(!fs::exists(repo_dir(cache) / "blobs" / (sha + ".incomplete")));
    }
    SUBCASE("a small file (git blob id)") {
        hub.corrupt("vae/config.json");
        std::string msg;
        CHECK(error_kind([&] { download_model(kId, options_for(hub)); }, &msg) == hub_error_kind::integrity);
        CHECK(msg.find("git blob id") != std::string::npos);
    }
    CHECK(!fs::exists(repo_dir(cache) / "snapshots"));
    CHECK(!fs::exists(repo_dir(cache) / "refs"));
    CHECK_THROWS(omnihost::models::resolve_hub_model(kId));
    // The next try (content fine again) completes.
    CHECK(fs::is_directory(download_model(kId, options_for(hub))));
}

TEST_CASE_FIXTURE(pipeline_fixture, "unsafe names from the server and symlinks in the cache are refused") {
    SUBCASE("'..' in a listed file name") {
        repo.extra_listed = {"../../../escape.json"};
        serve();
        CHECK(error_kind([&] { download_model(kId, options_for(hub)); }) == hub_error_kind::unsafe);
        CHECK(!fs::exists(cache.root / "escape.json"));
        CHECK(!fs::exists(repo_dir(cache)));
    }
    SUBCASE("blobs/ a symlink to elsewhere") {
        serve();
        fs::create_directories(cache.root / "elsewhere");
        fs::create_directories(repo_dir(cache));
        fs::create_directory_symlink(cache.root / "elsewhere", repo_dir(cache) / "blobs");
        CHECK(error_kind([&] { download_model(kId, options_for(hub)); }) == hub_error_kind::unsafe);
        CHECK(fs::is_empty(cache.root / "elsewhere"));
    }
}

TEST_CASE_FIXTURE(pipeline_fixture, "cancelling stops between chunks and keeps the partial file") {
    serve();
    auto o = options_for(hub);
    bool stop = false;
    o.progress = [&](const download_progress &p) {
        if (p.file_done > 0) stop = true;
    };
    o.is_cancelled = [&] { return stop; };
    CHECK(error_kind([&] { download_model(kId, o); }) == hub_error_kind::cancelled);
    CHECK(!fs::exists(repo_dir(cache) / "snapshots"));
}

}

TEST_SUITE("hub_download") {

TEST_CASE("https: a certificate no trusted CA signed is refused; trusted through SSL_CERT_FILE it downloads") {
    temp_cache cache;
    cache.env.unset("SSL_CERT_FILE");
    cache.env.unset("SSL_CERT_DIR");
    const fs::path key = cache.root / "key.pem", cert = cache.root / "cert.pem";
    const std::string make_cert = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
                                  "-addext subjectAltName=DNS:localhost -keyout '" + key.string() + "' -out '" +
                                  cert.string() + "' >/dev/null 2>&1";
    REQUIRE_MESSAGE(std::system(make_cert.c_str()) == 0, "openssl could not make the test certificate");
    const hub_standin::tls_files files{cert.string(), key.string()};
    hub_standin::server hub(&files);
    REQUIRE(hub.endpoint().rfind("https://localhost:", 0) == 0);
    hub.add_repo(kId, small_pipeline());
    std::string msg;
    CHECK(error_kind([&] { download_model(kId, options_for(hub)); }, &msg) == hub_error_kind::unreachable);
    std::transform(msg.begin(), msg.end(), msg.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    CHECK_MESSAGE(msg.find("certificate") != std::string::npos, msg);
    CHECK(!fs::exists(repo_dir(cache)));

    cache.env.set("SSL_CERT_FILE", cert.string());
    CHECK(fs::is_directory(download_model(kId, options_for(hub))));
}

}
