// Loading a diffusers WanPipeline folder and logging every setting as it is really applied.
#include "wan_pipeline_impl.h"

#include "core/step_graph_cache.h"
#include "core/runtime.h"
#include "core/safetensors.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <sstream>

namespace omnihost::models::wan {
namespace {

namespace fs = std::filesystem;

std::string fmt(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

void require_component(const model_index &index, const fs::path &dir, const std::string &name) {
    if (!index.has(name))
        throw model_error((dir / "model_index.json").string() + ": component '" + name + "' is not listed");
    if (!fs::is_directory(dir / name))
        throw model_error((dir / name).string() + ": component folder '" + name + "' is missing");
}

}  // namespace

wan_pipeline::wan_pipeline(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
wan_pipeline::~wan_pipeline() = default;
const pipeline_info &wan_pipeline::info() const { return impl_->info; }

int64_t wan_pipeline::normalize_num_frames(int64_t n) {
    if (n % 4 != 1) n = n / 4 * 4 + 1;
    return n < 1 ? 1 : n;
}

std::unique_ptr<wan_pipeline> wan_pipeline::load(const fs::path &dir, const pipeline_settings &s,
                                                 const load_callbacks &cb) {
    auto p = std::make_unique<impl>();
    p->settings = s;
    p->callbacks = cb;
    auto &info = p->info;
    info.model_dir = dir.string();

    const model_index index = model_index::load(dir);
    p->class_is_i2v = index.class_name == "WanImageToVideoPipeline";
    if (index.class_name != "WanPipeline" && !p->class_is_i2v)
        p->log(log_level::warn, "model_index.json names " + index.class_name +
                                    "; loading it as a WanPipeline / WanImageToVideoPipeline");
    for (const char *c : {"transformer", "vae", "scheduler"}) require_component(index, dir, c);
    info.boundary_ratio = index.config.get_optional_double("boundary_ratio");
    info.expand_timesteps = index.config.get_bool("expand_timesteps", false);
    const bool two_experts = index.has("transformer_2");
    if (two_experts && !info.boundary_ratio)
        throw model_error((dir / "model_index.json").string() + ": transformer_2 is listed but boundary_ratio is null");
    info.variant = two_experts ? "wan2.2-a14b" : info.expand_timesteps ? "wan2.2-ti2v" : "wan2.1";

    // Device, dtype and threads first: they decide where and how everything below is loaded.
    const bool cuda = at::hasCUDA();
    p->compute_device = parse_device(s.device);
    p->dtype = parse_dtype(s.dtype);
    const c10::ScalarType vae_dtype = parse_dtype(s.vae_dtype);
    info.device = p->compute_device.str();
    info.dtype = dtype_name(p->dtype);
    info.threads = configure_threads(s.threads);
    const bool tuned = tune_allocator();
    // Offload: every component is loaded on the CPU and moves in only while it runs. On a CPU
    // compute device the same sequence runs with no-op moves (so the order is testable anywhere).
    p->sequential = s.sequential_cpu_offload;
    p->offload = s.enable_cpu_offload || p->sequential;
    const c10::Device home = p->offload ? c10::Device(c10::kCPU) : p->compute_device;
    {
        offload_move_observer observer;
        if (cb.on_offload_move)
            observer = [f = cb.on_offload_move](const std::string &c, const c10::Device &d) { f(c, d.str()); };
        p->offloader = std::make_unique<model_offloader>(p->offload, p->compute_device, observer);
        if (p->sequential) p->block_observer = std::move(observer);
    }
    const step_graph_decision graphs = decide_step_graphs(
        s.enforce_eager, p->compute_device,
        p->sequential ? "sequential_cpu_offload moves weights inside the step" : std::string());
    p->cuda_graphs = graphs.capture;

    p->log(log_level::info, "device: " + info.device + " (requested '" + s.device + "'" +
                                (s.device == "auto" || s.device.empty()
                                     ? std::string(cuda ? "; CUDA available" : "; no CUDA in this build/machine")
                                     : std::string()) + ")");
    p->log(log_level::info, "dtype: " + info.dtype + " for the transformer and text encoder, " +
                                dtype_name(vae_dtype) + " for the VAE");
    p->log(log_level::info, "threads: " + std::to_string(info.threads) + " libtorch intra-op threads" +
                                (s.threads <= 0 ? " (every core)" : ""));
    p->log(log_level::info, std::string("allocator: ") +
                                (tuned ? "glibc malloc keeps freed tensor memory (mmap/trim thresholds raised)"
                                       : "left as configured by GLIBC_TUNABLES"));
    if (p->sequential)
        p->log(log_level::info, "sequential_cpu_offload: on; the transformers' blocks wait on the CPU and each moves to " +
                                    info.device + " only while it runs" +
                                    (p->compute_device.is_cpu() ? std::string(" (on the CPU the moves are no-ops)") : std::string()));
    if (p->offload)
        p->log(log_level::info, p->compute_device.is_cpu()
                                    ? std::string("enable_cpu_offload: on, but the compute device is the CPU, so there is "
                                                  "nothing to offload (the components take their turns with no-op moves)")
                                    : "enable_cpu_offload: on (model offload); every component waits on the CPU and only "
                                      "the one running is on " + info.device);
    else
        p->log(log_level::info, "enable_cpu_offload: off; every component stays on " + info.device);
    p->log(log_level::info, graphs.message);

    // The transformer's config decides the conditioning path, and with it whether the VAE encoder
    // and the CLIP image encoder are needed; read it before loading anything large.
    const auto tcfg = wan_transformer_config::from_file(dir / "transformer" / "config.json");
    const bool wants_clip = tcfg.image_dim.has_value();
    const int total = 3 + (two_experts ? 1 : 0) + (index.has("text_encoder") ? 1 : 0) + (wants_clip ? 1 : 0);
    int step = 0;
    auto progress = [&](const std::string &what) {
        if (cb.is_cancelled && cb.is_cancelled()) throw generation_cancelled("generation cancelled");
        if (cb.progress) cb.progress(step, total, what);
    };

    // Scheduler config (the scheduler itself is stateful, so each generate() builds its own).
    progress("scheduler");
    fs::path sched_file = dir / "scheduler" / "scheduler_config.json";
    p->scheduler_config = json_config::load(sched_file);
    {
        auto probe = schedulers::make_scheduler(p->scheduler_config, s.flow_shift);
        info.scheduler = probe->name();
        info.flow_shift = probe->shift();
        const bool unipc = info.scheduler.find("UniPC") != std::string::npos;
        const double file_shift = p->scheduler_config.get_double(unipc ? "flow_shift" : "shift", 1.0);
        p->log(log_level::info, "scheduler: " + info.scheduler + ", flow_shift " + fmt(info.flow_shift) +
                                    (s.flow_shift ? " (overrides scheduler_config.json's " + fmt(file_shift) + ")"
                                                  : " (from scheduler_config.json)"));
    }
    ++step;

    if (index.has("text_encoder")) {
        progress("text_encoder");
        require_component(index, dir, "tokenizer");
        text_encoder_options o;
        o.dtype = p->dtype;
        o.device = home;
        p->text.emplace(text_encoder::load(dir / "text_encoder", dir / "tokenizer", o));
        p->log(log_level::info, "text_encoder: UMT5 d_model " + std::to_string(p->text->config().d_model) + ", " +
                                    std::to_string(p->text->config().num_layers) + " layers, " +
                                    std::to_string(p->text->parameter_count()) + " parameters");
        ++step;
    } else {
        p->log(log_level::warn, "no text_encoder in model_index.json: only prompt embeddings can be used");
    }

    auto load_transformer = [&](const std::string &name) {
        progress(name);
        wan_load_options ts;
        ts.dtype = p->dtype;
        ts.device = home;
        auto t = wan_transformer::load(dir / name, ts);
        const auto &c = t.config();
        p->log(log_level::info, name + ": WanTransformer3DModel " + std::to_string(c.num_layers) + " layers, " +
                                    std::to_string(c.num_attention_heads) + " heads x " + std::to_string(c.attention_head_dim) +
                                    ", in/out " + std::to_string(c.in_channels) + "/" +
                                    std::to_string(c.out_channels) + ", " + std::to_string(t.num_parameters()) +
                                    " parameters, " + dtype_name(t.dtype()) + " on " + t.device().str());
        ++step;
        return t;
    };
    p->transformer.emplace(load_transformer("transformer"));
    if (two_experts) {
        require_component(index, dir, "transformer_2");
        p->transformer_2.emplace(load_transformer("transformer_2"));
        p->log(log_level::info, "two experts: transformer while t >= " + fmt(*info.boundary_ratio * 1000.0) +
                                    " (boundary_ratio " + fmt(*info.boundary_ratio) + "), then transformer_2");
    }

    // Conditioning path from the transformer's input channels (diffusers concatenates without
    // checking; a mismatch here would only fail later inside the patch embedding).
    const auto vcfg = wan_vae::vae_config::from_file(dir / "vae" / "config.json");
    const int64_t z = vcfg.z_dim, in_ch = p->transformer->config().in_channels;
    const std::string tfile = (dir / "transformer" / "config.json").string();
    if (info.expand_timesteps) {
        if (in_ch != z)
            throw model_error(tfile + ": in_channels " + std::to_string(in_ch) + " must equal the VAE's z_dim " +
                              std::to_string(z) + " with expand_timesteps");
        info.image_input = p->class_is_i2v ? "required" : "accepted";
        info.last_image_input = "refused";  // diffusers' TI2V path ignores a last image; refused instead
    } else if (in_ch == 2 * z + 4) {
        info.image_input = "required";
        info.last_image_input = tcfg.pos_embed_seq_len ? "required" : tcfg.image_dim ? "refused" : "accepted";
    } else if (in_ch == z) {
        if (p->class_is_i2v)
            throw model_error(tfile + ": in_channels " + std::to_string(in_ch) +
                              " is the text-to-video layout, but model_index.json names WanImageToVideoPipeline");
        if (tcfg.image_dim) throw model_error(tfile + ": image_dim is set on a text-to-video layout (in_channels = z_dim)");
    } else {
        throw model_error(tfile + ": in_channels " + std::to_string(in_ch) + " is neither z_dim (" + std::to_string(z) +
                          ") nor 2 z_dim + 4 (" + std::to_string(2 * z + 4) + ", noise + mask + image latent)");
    }
    if (two_experts && p->transformer_2->config().in_channels != in_ch)
        throw model_error((dir / "transformer_2" / "config.json").string() + ": in_channels differs from transformer's");
    if (two_experts && p->transformer_2->config().image_dim != tcfg.image_dim)
        throw model_error((dir / "transformer_2" / "config.json").string() + ": image_dim differs from transformer's");
    info.image_encoder = wants_clip;

    progress("vae");
    wan_vae::load_settings vs;
    vs.dtype = vae_dtype;
    vs.device = home;
    vs.with_encoder = info.image_input != "refused";
    p->vae.emplace(wan_vae::vae::load(dir / "vae", vs));
    p->log(log_level::info, "vae: " + p->vae->describe() + (vs.with_encoder ? " (with the encoder, for the image)" : ""));
    ++step;

    if (wants_clip) {
        progress("image_encoder");
        require_component(index, dir, "image_encoder");
        require_component(index, dir, "image_processor");
        p->image_processor.emplace(
            clip_image_processor_config::from_json_file(dir / "image_processor" / "preprocessor_config.json"));
        // fp32 as diffusers' Wan2.1 I2V example loads it (the encoder is small next to the transformer).
        clip_vision_options co;
        co.dtype = c10::kFloat;
        co.device = home;
        p->image_encoder.emplace(clip_vision_encoder::load(dir / "image_encoder", co));
        p->log(log_level::info, "image_encoder: CLIPVisionModel, " + std::to_string(p->image_encoder->parameter_count()) +
                                    " parameters, float32 on " + p->image_encoder->device().str() +
                                    "; image_processor: shortest edge " + std::to_string(p->image_processor->shortest_edge) +
                                    ", crop " + std::to_string(p->image_processor->crop_height) + "x" +
                                    std::to_string(p->image_processor->crop_width));
        ++step;
    }
    if (info.image_input != "refused")
        p->log(log_level::info, "image conditioning: image " + info.image_input + ", last image " + info.last_image_input +
                                    (info.expand_timesteps ? "; the image latent is latent frame 0 (expand_timesteps)"
                                                           : "; mask + image latent concatenated on channels") +
                                    (wants_clip ? ", CLIP image tokens" : ""));

    const auto &vc = p->vae->config();
    info.vae_scale_spatial = vc.scale_factor_spatial;
    info.vae_scale_temporal = vc.scale_factor_temporal;
    const auto patch = p->transformer->config().patch_size;
    info.size_multiple = vc.scale_factor_spatial * patch.at(1);
    if (info.size_multiple < 16) info.size_multiple = 16;  // diffusers' own check
    const wan_vae::tiling_options tiles;
    p->log(log_level::info, std::string("vae_use_slicing: ") +
                                (s.vae_use_slicing ? "on; batch items are decoded one at a time" : "off; the batch is decoded at once"));
    p->log(log_level::info, s.vae_use_tiling
                                ? "vae_use_tiling: on; " + std::to_string(tiles.tile_sample_min_width) + "x" +
                                      std::to_string(tiles.tile_sample_min_height) + " px tiles, stride " +
                                      std::to_string(tiles.tile_sample_stride_width) + "x" +
                                      std::to_string(tiles.tile_sample_stride_height) +
                                      ", used when the frame is larger than one tile"
                                : std::string("vae_use_tiling: off; frames are decoded whole"));
    // diffusers' model_cpu_offload_seq: text_encoder->image_encoder->transformer->transformer_2->vae.
    model_offloader &off = *p->offloader;
    impl *raw = p.get();
    if (p->text) off.add("text_encoder", [raw](const c10::Device &d) { raw->text->to(d); });
    if (p->image_encoder) off.add("image_encoder", [raw](const c10::Device &d) { raw->image_encoder->to(d); });
    auto add_transformer = [&](const std::string &name, wan_transformer &t) {
        wan_transformer *tr = &t;
        if (!p->sequential) {
            off.add(name, [tr](const c10::Device &d) { tr->to(d); });
            return;
        }
        // Sequential: the model offload moves only the weights outside the blocks; each block is
        // moved in and out around its own use by the transformer's block hook.
        off.add(name, [tr](const c10::Device &d) { d.is_cpu() ? tr->to(d) : tr->to_except_blocks(d); });
        p->block_offloaders.push_back(std::make_unique<block_offloader>(
            true, p->compute_device, name, [tr](size_t i, const c10::Device &d) { tr->block_to(i, d); }, p->block_observer));
        block_offloader *blocks = p->block_offloaders.back().get();
        tr->set_block_hook([blocks](size_t i, bool before) { before ? blocks->before(i) : blocks->after(i); });
    };
    add_transformer("transformer", *p->transformer);
    if (p->transformer_2) add_transformer("transformer_2", *p->transformer_2);
    off.add("vae", [raw](const c10::Device &d) { raw->vae->to(d); });
    if (p->offload) p->log(log_level::info, "offload order: " + off.order());
    if (cb.progress) cb.progress(total, total, "ready");
    return std::unique_ptr<wan_pipeline>(new wan_pipeline(std::move(p)));
}

}  // namespace omnihost::models::wan
