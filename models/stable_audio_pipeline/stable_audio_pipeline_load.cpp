// Loading a diffusers StableAudioPipeline folder and logging every setting as it is applied.
#include "stable_audio_pipeline_impl.h"

#include "core/runtime.h"
#include "core/safetensors.h"
#include "core/step_graph_cache.h"
#include "schedulers/cosine_dpm_multistep.h"

#include <ATen/Context.h>

#include <sstream>

namespace omnihost::models::stable_audio {
namespace {

namespace fs = std::filesystem;

std::string fmt(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

void require_component(const model_index &index, const fs::path &dir, const std::string &name,
                       const std::string &expected_class) {
    if (!index.has(name))
        throw model_error((dir / "model_index.json").string() + ": component '" + name + "' is not listed");
    const auto &c = index.component(name);
    if (!expected_class.empty() && c.class_name != expected_class)
        throw model_error((dir / "model_index.json").string() + ": component '" + name + "' is " + c.class_name +
                          ", expected " + expected_class);
    if (!fs::is_directory(dir / name))
        throw model_error((dir / name).string() + ": component folder '" + name + "' is missing");
}

// tokenizer_config.json's model_max_length (diffusers pads prompts to it); transformers' T5 default
// (512) when the file does not say.
int64_t tokenizer_max_length(const fs::path &tokenizer_dir) {
    const fs::path f = tokenizer_dir / "tokenizer_config.json";
    if (!fs::exists(f)) return 512;
    const json_config cfg = json_config::load(f);
    const double v = cfg.get_double("model_max_length", 512);
    // Tokenizers without a limit store a huge sentinel (1e30); T5's relative positions have no hard
    // limit, but an unbounded pad length is never what the checkpoint was trained with.
    if (!(v >= 1) || v > 4096)
        throw model_error(f.string() + ": key 'model_max_length' = " + fmt(v) + " is not a usable sequence length");
    return static_cast<int64_t>(v);
}

}  // namespace

stable_audio_pipeline::stable_audio_pipeline(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
stable_audio_pipeline::~stable_audio_pipeline() = default;
const pipeline_info &stable_audio_pipeline::info() const { return impl_->info; }

std::unique_ptr<stable_audio_pipeline> stable_audio_pipeline::load(const fs::path &dir, const pipeline_settings &s,
                                                                   const load_callbacks &cb) {
    auto p = std::make_unique<impl>();
    p->settings = s;
    p->callbacks = cb;
    auto &info = p->info;
    info.model_dir = dir.string();

    const model_index index = model_index::load(dir);
    if (index.class_name != "StableAudioPipeline")
        p->log(log_level::warn, "model_index.json names " + index.class_name + "; loading it as a StableAudioPipeline");
    require_component(index, dir, "projection_model", "StableAudioProjectionModel");
    require_component(index, dir, "transformer", "StableAudioDiTModel");
    require_component(index, dir, "vae", "AutoencoderOobleck");
    require_component(index, dir, "scheduler", "CosineDPMSolverMultistepScheduler");
    const bool has_text = index.has("text_encoder");
    if (has_text) {
        require_component(index, dir, "text_encoder", "");
        require_component(index, dir, "tokenizer", "");
    }

    // Device, dtype and threads first: they decide where and how everything below is loaded.
    p->compute_device = parse_device(s.device);
    p->dtype = parse_dtype(s.dtype);
    info.device = p->compute_device.str();
    info.dtype = dtype_name(p->dtype);
    info.threads = configure_threads(s.threads);
    const bool tuned = tune_allocator();
    // Offload: every component is loaded on the CPU and moves in only while it runs. On a CPU
    // compute device the same sequence runs with no-op moves (so the order is testable anywhere).
    p->offload = s.enable_cpu_offload;
    const c10::Device home = p->offload ? c10::Device(c10::kCPU) : p->compute_device;
    {
        offload_move_observer observer;
        if (cb.on_offload_move)
            observer = [f = cb.on_offload_move](const std::string &c, const c10::Device &d) { f(c, d.str()); };
        p->offloader = std::make_unique<model_offloader>(p->offload, p->compute_device, std::move(observer));
    }
    // The model offload moves the DiT in before the loop and out after it, never inside a step,
    // so it leaves graphs possible.
    const step_graph_decision graphs = decide_step_graphs(s.enforce_eager, p->compute_device);
    p->cuda_graphs = graphs.capture;
    p->log(log_level::info, "device: " + info.device + " (requested '" + s.device + "'" +
                                (s.device == "auto" || s.device.empty()
                                     ? std::string(at::hasCUDA() ? "; CUDA available" : "; no CUDA in this build/machine")
                                     : std::string()) + ")");
    p->log(log_level::info, "dtype: " + info.dtype + " for the DiT and the text encoder; projection model, "
                                "scheduler and Oobleck VAE in fp32");
    p->log(log_level::info, "threads: " + std::to_string(info.threads) + " libtorch intra-op threads" +
                                (s.threads <= 0 ? " (every core)" : ""));
    p->log(log_level::info, std::string("allocator: ") +
                                (tuned ? "glibc malloc keeps freed tensor memory (mmap/trim thresholds raised)"
                                       : "left as configured by GLIBC_TUNABLES"));
    if (s.enable_cpu_offload)
        p->log(log_level::info, p->compute_device.is_cpu()
                                    ? std::string("enable_cpu_offload: on, but the compute device is the CPU, so there is "
                                                  "nothing to offload (the components take their turns with no-op moves)")
                                    : "enable_cpu_offload: on (model offload); every component waits on the CPU and only "
                                      "the one running is on " + info.device);
    else
        p->log(log_level::info, "enable_cpu_offload: off; every component stays on " + info.device);
    p->log(log_level::info, graphs.message);

    const int total = 4 + (has_text ? 1 : 0);
    int step = 0;
    auto progress = [&](const std::string &what) {
        if (cb.is_cancelled && cb.is_cancelled()) throw generation_cancelled("generation cancelled");
        if (cb.progress) cb.progress(step, total, what);
    };

    // Scheduler config (the scheduler is stateful, so each generate() builds its own).
    progress("scheduler");
    p->scheduler_config = json_config::load(dir / "scheduler" / "scheduler_config.json");
    {
        auto probe = schedulers::make_scheduler(p->scheduler_config);
        const auto *c = dynamic_cast<const schedulers::cosine_dpm_multistep_scheduler *>(probe.get());
        if (!c) throw model_error((dir / "scheduler").string() + ": not a CosineDPMSolverMultistepScheduler");
        info.scheduler = probe->name();
        const auto &k = c->config();
        p->log(log_level::info, "scheduler: " + info.scheduler + ", sigma " + fmt(k.sigma_min) + ".." +
                                    fmt(k.sigma_max) + (k.karras ? ", karras" : ", exponential") + ", order " +
                                    std::to_string(k.solver_order) + (k.v_prediction ? ", v_prediction" : ", epsilon"));
    }
    ++step;

    if (has_text) {
        progress("text_encoder");
        info.max_sequence_length = tokenizer_max_length(dir / "tokenizer");
        text_encoder_options o;
        o.dtype = p->dtype;
        o.device = home;
        o.clean_prompts = false;  // StableAudioPipeline tokenises the prompt as given
        p->text.emplace(text_encoder::load(dir / "text_encoder", dir / "tokenizer", o));
        info.has_text_encoder = true;
        p->log(log_level::info, "text_encoder: " + p->text->config().model_type + " d_model " +
                                    std::to_string(p->text->config().d_model) + ", " +
                                    std::to_string(p->text->config().num_layers) + " layers, " +
                                    std::to_string(p->text->parameter_count()) + " parameters; prompts padded to " +
                                    std::to_string(info.max_sequence_length) + " tokens");
        ++step;
    } else {
        p->log(log_level::warn, "no text_encoder in model_index.json: only prompt embeddings can be used");
    }

    progress("projection_model");
    p->projection.emplace(projection_model::load(dir / "projection_model", load_opts{c10::kFloat, home}));
    ++step;

    progress("transformer");
    p->transformer.emplace(dit::load(dir / "transformer", load_opts{p->dtype, home}));
    {
        const auto &c = p->transformer->config();
        info.sample_size = c.sample_size;
        info.latent_channels = c.in_channels;
        p->log(log_level::info, "transformer: StableAudioDiTModel " + std::to_string(c.num_layers) + " layers, " +
                                    std::to_string(c.num_attention_heads) + " heads x " +
                                    std::to_string(c.attention_head_dim) + ", latent " + std::to_string(c.in_channels) +
                                    " x " + std::to_string(c.sample_size) + ", " +
                                    std::to_string(p->transformer->num_parameters()) + " parameters, " +
                                    dtype_name(p->transformer->dtype()) + " on " + p->transformer->device().str());
        if (p->projection->config().conditioning_dim != c.cross_attention_input_dim)
            throw model_error((dir / "projection_model").string() + ": conditioning_dim " +
                              std::to_string(p->projection->config().conditioning_dim) +
                              " does not match the transformer's cross_attention_input_dim " +
                              std::to_string(c.cross_attention_input_dim));
        if (2 * p->projection->config().conditioning_dim != c.global_states_input_dim)
            throw model_error((dir / "projection_model").string() +
                              ": 2 x conditioning_dim must equal the transformer's global_states_input_dim " +
                              std::to_string(c.global_states_input_dim));
        p->rope = rotary_pos_embed(c.rotary_dim(), c.sample_size + 1, p->compute_device);
    }
    ++step;

    progress("vae");
    p->vae.emplace(oobleck::vae::load(dir / "vae", oobleck::load_settings{c10::kFloat, home}));
    {
        const auto &c = p->vae->config();
        info.sampling_rate = c.sampling_rate;
        info.audio_channels = c.audio_channels;
        info.hop_length = c.hop_length();
        if (c.decoder_input_channels != info.latent_channels)
            throw model_error((dir / "vae").string() + ": decoder_input_channels " +
                              std::to_string(c.decoder_input_channels) + " != transformer in_channels " +
                              std::to_string(info.latent_channels));
        p->log(log_level::info, "vae: " + p->vae->describe());
    }
    ++step;
    info.max_audio_length_s =
        static_cast<double>(info.sample_size) * static_cast<double>(info.hop_length) / static_cast<double>(info.sampling_rate);
    p->log(log_level::info, "audio: " + std::to_string(info.audio_channels) + " channels at " +
                                std::to_string(info.sampling_rate) + " Hz, at most " + fmt(info.max_audio_length_s) +
                                " s per generation");
    // diffusers' model_cpu_offload_seq: text_encoder->projection_model->transformer->vae.
    model_offloader &off = *p->offloader;
    impl *raw = p.get();
    if (p->text) off.add("text_encoder", [raw](const c10::Device &d) { raw->text->to(d); });
    off.add("projection_model", [raw](const c10::Device &d) { raw->projection->to(d); });
    off.add("transformer", [raw](const c10::Device &d) { raw->transformer->to(d); });
    off.add("vae", [raw](const c10::Device &d) { raw->vae->to(d); });
    if (p->offload) p->log(log_level::info, "offload order: " + off.order());
    if (cb.progress) cb.progress(total, total, "ready");
    return std::unique_ptr<stable_audio_pipeline>(new stable_audio_pipeline(std::move(p)));
}

}  // namespace omnihost::models::stable_audio
