// WanPipeline.__call__ for text-to-video, step by step as diffusers does it (reference/diffusion.md
// §1.3-§1.8): checks, text encoding, generator noise, the denoising loop with two-pass CFG and the
// optional expert switch, de-normalisation, VAE decode, post-processing to [0, 1] frames.
#include "wan_pipeline_impl.h"

#include "core/safetensors.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace omnihost::models::wan {
namespace {

// Moves a component to `device` for the duration of a scope, back to the CPU afterwards (CPU
// offload). A no-op when offload is off.
template <typename Component>
struct offload_scope {
    Component *c;
    bool active;
    offload_scope(Component *component, bool offload, c10::Device device) : c(component), active(offload && component) {
        if (active) c->to(device);
    }
    ~offload_scope() {
        if (active) c->to(c10::Device(c10::kCPU));
    }
};

void check_request(const generate_request &r, const pipeline_info &info) {
    if (r.height % 16 != 0 || r.height < 16)
        throw request_error("height", "height must be a positive multiple of 16 (got " + std::to_string(r.height) + ")");
    if (r.width % 16 != 0 || r.width < 16)
        throw request_error("width", "width must be a positive multiple of 16 (got " + std::to_string(r.width) + ")");
    if (r.guidance_scale_2 && !info.boundary_ratio)
        throw request_error("guidance_scale_2", "guidance_scale_2 is only used by two-expert models (boundary_ratio is null)");
    if (r.num_inference_steps < 1)
        throw request_error("num_inference_steps", "num_inference_steps must be > 0 (got " +
                                                       std::to_string(r.num_inference_steps) + ")");
    if (r.max_sequence_length < 1)
        throw request_error("max_sequence_length", "max_sequence_length must be > 0");
    if (r.num_frames < 1) throw request_error("num_frames", "num_frames must be >= 1");
}

}  // namespace

generate_output wan_pipeline::generate(const generate_request &r, const generate_callbacks &cb) {
    impl &p = *impl_;
    const pipeline_info &info = p.info;
    check_request(r, info);
    auto cancelled = [&] { return cb.is_cancelled && cb.is_cancelled(); };
    auto progress = [&](int step, int total, const char *phase) {
        if (cb.progress) cb.progress(step, total, phase);
    };

    // §1.3: frames to 4k+1, sizes down to the transformer/VAE multiple (warned, as diffusers does).
    const int64_t num_frames = normalize_num_frames(r.num_frames);
    if (num_frames != r.num_frames)
        p.log(log_level::warn, "num_frames " + std::to_string(r.num_frames) + " is not 4k+1; using " + std::to_string(num_frames));
    const int64_t mult = info.size_multiple;
    const int64_t height = r.height / mult * mult, width = r.width / mult * mult;
    if (height != r.height || width != r.width)
        p.log(log_level::warn, "size rounded down to a multiple of " + std::to_string(mult) + ": " +
                                   std::to_string(width) + "x" + std::to_string(height));
    if (height == 0 || width == 0)
        throw request_error(height == 0 ? "height" : "width", "must be at least " + std::to_string(mult) + " for this model");
    const double g1 = r.guidance_scale;
    const double g2 = r.guidance_scale_2.value_or(r.guidance_scale);
    const bool cfg = g1 > 1.0;  // diffusers: do_classifier_free_guidance = guidance_scale > 1

    const c10::ScalarType tdtype = p.transformer->dtype();  // embeddings are cast to it
    const c10::Device dev = p.compute_device;

    // §1.5: prompt embeddings (one encode call per prompt, as diffusers does).
    progress(0, 1, "encode");
    at::Tensor cond, uncond;
    {
        const bool need_text = !r.prompt_embeds || (cfg && !r.negative_prompt_embeds);
        if (need_text && !p.text)
            throw request_error("prompt", "this model has no text encoder; prompt embeddings are required");
        offload_scope<text_encoder> scope(need_text ? &*p.text : nullptr, p.offload, dev);
        cond = r.prompt_embeds ? *r.prompt_embeds : p.text->encode({r.prompt}, r.max_sequence_length).embeds;
        if (cfg)
            uncond = r.negative_prompt_embeds ? *r.negative_prompt_embeds
                                              : p.text->encode({r.negative_prompt}, r.max_sequence_length).embeds;
    }
    cond = cond.to(dev, tdtype);
    if (cfg) uncond = uncond.to(dev, tdtype);
    progress(1, 1, "encode");
    if (cancelled()) throw generation_cancelled();

    // §1.6: initial noise, float32, drawn on the CPU in one call with the full shape.
    const int64_t channels = p.transformer->config().in_channels;
    const int64_t s = info.vae_scale_spatial;
    const std::vector<int64_t> shape{1, channels, (num_frames - 1) / info.vae_scale_temporal + 1, height / s, width / s};
    at::Tensor latents;
    if (r.latents) {
        if (r.latents->sizes() != at::IntArrayRef(shape))
            throw request_error("latents", "latents have the wrong shape for this size and frame count");
        latents = r.latents->to(at::kFloat).clone();
    } else {
        at::Generator gen = at::detail::createCPUGenerator(r.seed);
        latents = at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat));
    }
    generate_output out;
    out.initial_latents = latents.clone();
    out.num_frames = num_frames;
    latents = latents.to(dev);

    // §1.7: the denoising loop.
    auto scheduler = schedulers::make_scheduler(p.scheduler_config, p.settings.flow_shift);
    scheduler->set_timesteps(r.num_inference_steps);
    out.timesteps = scheduler->timesteps().clone();
    const int64_t steps = scheduler->num_steps();
    const std::optional<double> boundary_t =
        info.boundary_ratio ? std::optional<double>(*info.boundary_ratio * double(scheduler->num_train_timesteps()))
                            : std::nullopt;

    // The text's cross-attention K/V depend only on the text and the expert's weights: computed
    // once per expert instead of once per step (the same numbers, diffusers recomputes them).
    struct expert_text {
        std::shared_ptr<const wan_text_context> cond, uncond;
    } text_ctx[2];
    auto contexts_for = [&](int e, const wan_transformer &model) -> expert_text & {
        if (!text_ctx[e].cond) {
            text_ctx[e].cond = model.encode_text(cond);
            if (cfg) text_ctx[e].uncond = model.encode_text(uncond);
        }
        return text_ctx[e];
    };
    for (int64_t i = 0; i < steps; ++i) {
        if (cancelled()) throw generation_cancelled();
        const at::Tensor t = scheduler->timestep(i);
        const bool second = boundary_t && scheduler->timestep_value(i) < *boundary_t;
        const wan_transformer &model = second ? *p.transformer_2 : *p.transformer;
        const expert_text &ctx = contexts_for(second ? 1 : 0, model);
        const double g = second ? g2 : g1;

        const at::Tensor x_in = latents.to(model.dtype());
        at::Tensor timestep;
        if (info.expand_timesteps) {
            // Wan2.2 TI2V: one timestep per token: (ones[0][0][:, ::2, ::2] * t).flatten().
            const at::Tensor mask = at::ones(latents.sizes(), latents.options().dtype(at::kFloat));
            const at::Tensor per_token =
                (mask[0][0].slice(1, 0, c10::nullopt, 2).slice(2, 0, c10::nullopt, 2) * t.to(dev)).flatten();
            timestep = per_token.unsqueeze(0).expand({latents.size(0), -1});
        } else {
            timestep = t.to(dev).expand({latents.size(0)});
        }
        at::Tensor noise_pred = model.forward(x_in, timestep, *ctx.cond);
        at::Tensor noise_cond = noise_pred, noise_uncond;
        if (cfg) {
            noise_uncond = model.forward(x_in, timestep, *ctx.uncond);
            noise_pred = noise_uncond + g * (noise_pred - noise_uncond);
        }
        latents = scheduler->step(noise_pred, t, latents);
        if (cb.on_step)
            cb.on_step(step_trace{int(i), t, noise_cond.to(at::kCPU, at::kFloat),
                                  cfg ? noise_uncond.to(at::kCPU, at::kFloat) : at::Tensor(),
                                  latents.to(at::kCPU, at::kFloat), second});
        progress(int(i + 1), int(steps), "denoise");
    }
    if (cancelled()) throw generation_cancelled();

    // §1.8: de-normalise + decode (inside decode_latents), then post-process.
    wan_vae::decode_options dec;
    dec.use_slicing = p.settings.vae_use_slicing;
    dec.use_tiling = p.settings.vae_use_tiling;
    dec.is_cancelled = cancelled;
    dec.progress = [&](int64_t done, int64_t total) { progress(int(done), int(total), "decode"); };
    at::Tensor video;
    try {
        video = p.vae->decode_latents(latents.to(p.vae->device(), p.vae->dtype()), dec);
    } catch (const wan_vae::decode_cancelled &) {
        throw generation_cancelled();
    }
    // postprocess_video: [B, C, F, H, W] -> per item [F, C, H, W] -> (x*0.5+0.5).clamp(0,1) -> [F, H, W, C].
    at::Tensor item = video[0].permute({1, 0, 2, 3});
    item = (item * 0.5 + 0.5).clamp(0, 1);
    out.frames = item.to(at::kCPU).permute({0, 2, 3, 1}).to(at::kFloat).contiguous();
    return out;
}

}  // namespace omnihost::models::wan
