// diffusers' WanPipeline.__call__ for text-to-video in its order, since the outputs are checked
// against diffusers': checks, text encoding, generator noise, the denoising loop with two-pass CFG
// and the optional expert switch, de-normalisation, VAE decode, post-processing to [0, 1] frames.
#include "wan_pipeline_impl.h"
#include "core/step_graph_cache.h"

#include "core/safetensors.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace omnihost::models::wan {
namespace {

void check_image_fields(const generate_request &r, const pipeline_info &info) {
    auto check = [](const char *field, bool given, const std::string &rule) {
        if (given && rule == "refused")
            throw request_error(field, std::string(field) + " was given, but this model takes none");
        if (!given && rule == "required")
            throw request_error(field, std::string(field) + " is required by this model");
    };
    check("image", r.image.has_value(), info.image_input);
    check("last_image", r.last_image.has_value(), info.last_image_input);
    if (r.last_image && !r.image) throw request_error("image", "image is required with last_image");
}

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
    check_image_fields(r, info);
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

    // Checks: frames to 4k+1, sizes down to the transformer/VAE multiple (warned, as diffusers does).
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
    offload_release_guard release{*p.offloader};

    // Text encoding: prompt embeddings (one encode call per prompt, as diffusers does).
    progress(0, 1, "encode");
    at::Tensor cond, uncond;
    {
        const bool need_text = !r.prompt_embeds || (cfg && !r.negative_prompt_embeds);
        if (need_text && !p.text)
            throw request_error("prompt", "this model has no text encoder; prompt embeddings are required");
        if (need_text) p.offloader->activate("text_encoder");
        cond = r.prompt_embeds ? *r.prompt_embeds : p.text->encode({r.prompt}, r.max_sequence_length).embeds;
        if (cfg)
            uncond = r.negative_prompt_embeds ? *r.negative_prompt_embeds
                                              : p.text->encode({r.negative_prompt}, r.max_sequence_length).embeds;
    }
    cond = cond.to(dev, tdtype);
    if (cfg) uncond = uncond.to(dev, tdtype);
    progress(1, 1, "encode");
    if (cancelled()) throw generation_cancelled("generation cancelled");

    // Image inputs (validated before any model work), the CLIP tokens of the ORIGINAL image(s)
    // (encode_image([image, last_image]) for first-last-frame), as the transformer's dtype.
    at::Tensor image_u8, last_u8;
    if (r.image) image_u8 = detail::image_tensor(*r.image, "image");
    if (r.last_image) last_u8 = detail::image_tensor(*r.last_image, "last_image");
    generate_output out;
    std::optional<at::Tensor> image_embeds;
    if (p.image_encoder && r.image) {
        p.offloader->activate("image_encoder");
        std::vector<at::Tensor> pv{clip_preprocess(image_u8, *p.image_processor)};
        if (r.last_image) pv.push_back(clip_preprocess(last_u8, *p.image_processor));
        const at::Tensor embeds = p.image_encoder->encode(at::cat(pv, 0).to(p.image_encoder->device()));
        out.image_embeds = embeds.to(at::kCPU, at::kFloat);
        image_embeds = embeds.to(dev, tdtype);
        if (cancelled()) throw generation_cancelled("generation cancelled");
    }

    // Noise: initial noise, float32, drawn on the CPU in one call with the full shape. Its channels
    // are the VAE's z_dim (equal to in_channels for text-to-video and TI2V; the concat models'
    // in_channels also count the mask and the image latent).
    const int64_t channels = p.vae->config().z_dim;
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
    out.initial_latents = latents.clone();
    out.num_frames = num_frames;
    latents = latents.to(dev);

    // prepare_latents' image condition: the preprocessed image (a video of the image, zeros and the
    // last image for the concat models) VAE-encoded (mode), normalised in float32.
    detail::image_condition ic;
    if (r.image) {
        progress(0, 1, "encode_image");
        const at::Tensor img = detail::preprocess_for_vae(image_u8, height, width);
        out.condition_image = img;
        at::Tensor video;
        if (info.expand_timesteps) {
            video = img.unsqueeze(2);
        } else {
            std::vector<at::Tensor> parts{img.unsqueeze(2)};
            const int64_t zeros = num_frames - 1 - (r.last_image ? 1 : 0);
            if (zeros < 0) throw request_error("num_frames", "num_frames must be at least 2 with last_image");
            parts.push_back(at::zeros({1, 3, zeros, height, width}, img.options()));
            if (r.last_image) {
                out.condition_last_image = detail::preprocess_for_vae(last_u8, height, width);
                parts.push_back(out.condition_last_image.unsqueeze(2));
            }
            video = at::cat(parts, 2);
        }
        wan_vae::encode_options enc;
        enc.use_slicing = p.settings.vae_use_slicing;
        enc.use_tiling = p.settings.vae_use_tiling;
        enc.is_cancelled = cancelled;
        p.offloader->activate("vae");
        // A cancel inside the encode throws the shared cancel type (decode_cancelled == ours).
        const at::Tensor z = p.vae->encode(video.to(p.vae->device(), p.vae->dtype()), enc);
        at::Tensor latent_condition = p.vae->normalize(z.to(dev, at::kFloat), at::kFloat);
        const int64_t lf = shape[2], lh = shape[3], lw = shape[4];
        if (info.expand_timesteps) {
            ic.condition = latent_condition;
            ic.first_frame_mask = at::ones({1, 1, lf, lh, lw}, latents.options().dtype(at::kFloat));
            ic.first_frame_mask.select(2, 0).zero_();
        } else {
            // The frame mask: 1 for the given frames (first, and last with last_image), the first
            // repeated vae_scale_temporal times, then folded into [1, 4, latent frames, h, w].
            const int64_t st = info.vae_scale_temporal;
            at::Tensor mask = at::ones({1, 1, num_frames, lh, lw}, at::kFloat);
            const int64_t zero_end = r.last_image ? num_frames - 1 : num_frames;
            mask.slice(2, 1, zero_end).zero_();
            at::Tensor first = mask.slice(2, 0, 1).repeat_interleave(st, 2);
            mask = at::cat({first, mask.slice(2, 1)}, 2);
            mask = mask.view({1, -1, st, lh, lw}).transpose(1, 2).to(dev);
            ic.condition = at::cat({mask, latent_condition}, 1);
        }
        out.condition = ic.condition.to(at::kCPU, at::kFloat);
        progress(1, 1, "encode_image");
        if (cancelled()) throw generation_cancelled("generation cancelled");
    }

    // The denoising loop.
    auto scheduler = schedulers::make_scheduler(p.scheduler_config, p.settings.flow_shift);
    scheduler->set_timesteps(r.num_inference_steps);
    out.timesteps = scheduler->timesteps().clone();
    const int64_t steps = scheduler->num_steps();
    // Two experts: the first while t >= boundary_ratio * num_train_timesteps (a plain double, so
    // GCC's maybe-uninitialized analysis of std::optional stays quiet).
    const bool has_boundary = info.boundary_ratio.has_value();
    const double boundary_t = info.boundary_ratio.value_or(0.0) * double(scheduler->num_train_timesteps());

    // enforce_eager=false on CUDA: each (expert, CFG branch) step captured once for this request's
    // fixed shapes and replayed; eager otherwise or after a failed capture (logged once).
    // Slot expert * 2 + branch (0 conditional, 1 unconditional).
    step_graph_cache graphs(p.cuda_graphs, 4, [&p](bool warn, const std::string &m) {
        p.log(warn ? log_level::warn : log_level::info, m);
    });
    auto step = [&graphs](int expert, int branch, const wan_transformer &model, const at::Tensor &x,
                          const at::Tensor &timestep, const wan_text_context &text) {
        static const std::string labels[4] = {"transformer, conditional branch", "transformer, unconditional branch",
                                              "transformer_2, conditional branch",
                                              "transformer_2, unconditional branch"};
        const size_t slot = size_t(expert * 2 + branch);
        // The step function runs only while capturing, inside this call: `model` and `text` are alive.
        return graphs.run(slot, labels[slot], {x, timestep},
                          [&model, &text](const std::vector<at::Tensor> &in) { return model.forward(in[0], in[1], text); });
    };
    // The text's cross-attention K/V depend only on the text and the expert's weights: computed
    // once per expert instead of once per step (the same numbers, diffusers recomputes them).
    struct expert_text {
        std::shared_ptr<const wan_text_context> cond, uncond;
    } text_ctx[2];
    auto contexts_for = [&](int e, const wan_transformer &model) -> expert_text & {
        p.offloader->activate(e == 1 ? "transformer_2" : "transformer");
        if (e == 1 && text_ctx[0].cond) {
            // Timesteps only fall, so the first expert is done: free its text K/V (and graphs).
            text_ctx[0] = expert_text{};
            graphs.drop(0);
            graphs.drop(1);
        }
        if (!text_ctx[e].cond) {
            text_ctx[e].cond = model.encode_context(cond, image_embeds);
            if (cfg) text_ctx[e].uncond = model.encode_context(uncond, image_embeds);
        }
        return text_ctx[e];
    };
    for (int64_t i = 0; i < steps; ++i) {
        if (cancelled()) throw generation_cancelled("generation cancelled");
        const at::Tensor t = scheduler->timestep(i);
        const bool second = has_boundary && scheduler->timestep_value(i) < boundary_t;
        const wan_transformer &model = second ? *p.transformer_2 : *p.transformer;
        const expert_text &ctx = contexts_for(second ? 1 : 0, model);
        const double g = second ? g2 : g1;

        at::Tensor x_in;
        at::Tensor timestep;
        if (info.expand_timesteps) {
            // Wan2.2 TI2V: one timestep per token: (mask[0][0][:, ::2, ::2] * t).flatten(), the mask
            // 0 on the image's latent frame (which is blended in before every call), else all ones.
            const at::Tensor mask = ic.first_frame_mask.defined()
                                        ? ic.first_frame_mask
                                        : at::ones(latents.sizes(), latents.options().dtype(at::kFloat));
            x_in = ic.first_frame_mask.defined() ? ((1 - mask) * ic.condition + mask * latents).to(model.dtype())
                                                 : latents.to(model.dtype());
            const at::Tensor per_token =
                (mask[0][0].slice(1, 0, c10::nullopt, 2).slice(2, 0, c10::nullopt, 2) * t.to(dev)).flatten();
            timestep = per_token.unsqueeze(0).expand({latents.size(0), -1});
        } else {
            x_in = ic.condition.defined() ? at::cat({latents, ic.condition}, 1).to(model.dtype())
                                          : latents.to(model.dtype());
            timestep = t.to(dev).expand({latents.size(0)});
        }
        const int e = second ? 1 : 0;
        at::Tensor noise_pred = step(e, 0, model, x_in, timestep, *ctx.cond);
        at::Tensor noise_cond = noise_pred, noise_uncond;
        if (cfg) {
            noise_uncond = step(e, 1, model, x_in, timestep, *ctx.uncond);
            noise_pred = noise_uncond + g * (noise_pred - noise_uncond);
        }
        latents = scheduler->step(noise_pred, t, latents);
        if (cb.on_step)
            cb.on_step(step_trace{int(i), t, noise_cond.to(at::kCPU, at::kFloat),
                                  cfg ? noise_uncond.to(at::kCPU, at::kFloat) : at::Tensor(),
                                  latents.to(at::kCPU, at::kFloat), second});
        progress(int(i + 1), int(steps), "denoise");
    }
    if (cancelled()) throw generation_cancelled("generation cancelled");
    if (ic.first_frame_mask.defined())
        latents = (1 - ic.first_frame_mask) * ic.condition + ic.first_frame_mask * latents;

    // de-normalise + decode (inside decode_latents), then post-process.
    graphs.drop_all();  // the graphs' memory pools before the VAE needs the device
    p.offloader->activate("vae");
    wan_vae::decode_options dec;
    dec.use_slicing = p.settings.vae_use_slicing;
    dec.use_tiling = p.settings.vae_use_tiling;
    dec.is_cancelled = cancelled;
    dec.progress = [&](int64_t done, int64_t total) { progress(int(done), int(total), "decode"); };
    const at::Tensor video = p.vae->decode_latents(latents.to(p.vae->device(), p.vae->dtype()), dec);
    // postprocess_video: [B, C, F, H, W] -> per item [F, C, H, W] -> (x*0.5+0.5).clamp(0,1) -> [F, H, W, C].
    at::Tensor item = video[0].permute({1, 0, 2, 3});
    item = (item * 0.5 + 0.5).clamp(0, 1);
    out.frames = item.to(at::kCPU).permute({0, 2, 3, 1}).to(at::kFloat).contiguous();
    return out;
}

}  // namespace omnihost::models::wan
