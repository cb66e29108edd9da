// Trains the demo model's tokenizer (demo_spiece.model in this folder) from a corpus generated
// here, so nothing is downloaded. It was run once and its output committed; re-run it only to change
// the tokenizer:  omnihost-train-demo-tokenizer tools/make_demo_model/demo_spiece.model
//
// The model follows the T5/UMT5 conventions WanPipeline relies on: unigram, nmt_nfkc normaliser,
// <pad>=0, </s>=1, <unk>=2, no BOS. Kept apart from every libtorch binary: libsentencepiece bundles
// its own protobuf and crashes next to libtorch's.
#include <sentencepiece_trainer.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

// Prompt-like English sentences from small word lists, enumerated deterministically.
std::vector<std::string> make_corpus() {
    const std::vector<std::string> subjects = {
        "A cat", "Two astronauts", "The musician", "A golden retriever", "An old fisherman",
        "A red fox", "The little girl", "A robot", "Three horses", "A paper boat", "The dancer",
        "A hummingbird", "An orange tabby kitten", "A steam train", "The chef", "A jellyfish"};
    const std::vector<std::string> verbs = {
        "walks slowly along", "flies high over", "swims around", "plays with", "runs across",
        "dances on", "drifts through", "jumps over", "looks at", "sleeps beside", "rides through",
        "climbs up"};
    const std::vector<std::string> places = {
        "the sandy beach at sunset", "the starry sky", "the ocean waves", "a green meadow",
        "a snowy mountain", "a busy city street", "the quiet forest", "a frozen lake",
        "a field of sunflowers", "the misty river", "a neon lit alley", "an ancient temple"};
    const std::vector<std::string> styles = {
        "cinematic lighting", "as a watercolor painting", "in slow motion", "the camera pans",
        "high detail, 4k", "soft morning light", "vivid and rich colors", "anime style",
        "worst quality, low quality, ugly", "blurry, static, overexposed", "close-up shot",
        "wide angle, golden hour"};
    std::vector<std::string> lines;
    for (size_t s = 0; s < subjects.size(); ++s)
        for (size_t v = 0; v < verbs.size(); ++v)
            for (size_t p = 0; p < places.size(); ++p) {
                const auto &style = styles[(s * 7 + v * 3 + p) % styles.size()];
                lines.push_back(subjects[s] + " " + verbs[v] + " " + places[p] + ", " + style + ".");
            }
    return lines;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <output spiece.model>\n", argv[0]);
        return 2;
    }
    const std::filesystem::path out = argv[1];
    const auto tmp = std::filesystem::temp_directory_path() / "omnihost_demo_tokenizer";
    std::filesystem::create_directories(tmp);
    {
        std::ofstream corpus(tmp / "corpus.txt");
        for (const auto &line : make_corpus()) corpus << line << '\n';
    }
    const std::string args = "--input=" + (tmp / "corpus.txt").string() +
                             " --model_prefix=" + (tmp / "spiece").string() +
                             " --model_type=unigram --vocab_size=256 --character_coverage=1.0"
                             " --normalization_rule_name=nmt_nfkc --pad_id=0 --eos_id=1 --unk_id=2"
                             " --bos_id=-1 --hard_vocab_limit=false --num_threads=1"
                             " --input_sentence_size=0 --seed_sentencepiece_size=100000";
    const auto status = sentencepiece::SentencePieceTrainer::Train(args);
    if (!status.ok()) {
        std::fprintf(stderr, "training failed: %s\n", status.ToString().c_str());
        return 1;
    }
    std::filesystem::copy_file(tmp / "spiece.model", out,
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::remove_all(tmp);
    std::printf("wrote %s\n", out.string().c_str());
    return 0;
}
