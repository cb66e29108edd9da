// One StableAudioPipeline.__call__ (diffusers pipeline_stable_audio.py): input checks, prompt and
// duration conditioning, generator latents, the SDE-DPM-Solver++ loop with batched CFG, the Oobleck
// decode of the whole latent length and the crop. Op order as diffusers so float32 results agree.
#include "stable_audio_pipeline_impl.h"

#include "core/safetensors.h"
#include "core/step_graph_cache.h"
#include "schedulers/cosine_dpm_multistep.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <sstream>

namespace omnihost::models::stable_audio {
namespace {

std::string fmt(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

std::string shape_of(const at::Tensor &t) {
    std::ostringstream s;
    s << t.sizes();
    return s.str();
}

// Embeddings [B, L, D] (D = the projection's text_encoder_dim) and an optional mask [B, L].
void check_embeds(const char *field, const at::Tensor &e, int64_t dim) {
    if (!e.defined() || e.dim() != 3 || e.size(0) < 1 || e.size(1) < 1 || e.size(2) != dim ||
        !at::isFloatingType(e.scalar_type()))
        throw request_error(field, std::string(field) + ": expected a floating tensor [B, L, " + std::to_string(dim) +
                                       "], got " + (e.defined() ? shape_of(e) : std::string("none")));
}

void check_mask(const char *field, const at::Tensor &m, const at::Tensor &embeds) {
    if (!m.defined() || m.dim() != 2 || m.size(0) != embeds.size(0) || m.size(1) != embeds.size(1))
        throw request_error(field, std::string(field) + ": expected [" + std::to_string(embeds.size(0)) + ", " +
                                       std::to_string(embeds.size(1)) + "] to match the embeddings, got " +
                                       (m.defined() ? shape_of(m) : std::string("none")));
}

}  // namespace

generate_output stable_audio_pipeline::generate(const generate_request &r, const generate_callbacks &cb) {
    at::NoGradGuard no_grad;
    auto &p = *impl_;
    const auto &info = p.info;
    const auto cancelled = [&] { return cb.is_cancelled && cb.is_cancelled(); };

    // --- Checks (each names the request field).
    if (r.num_inference_steps <= 0)
        throw request_error("num_inference_steps", "num_inference_steps must be >= 1, got " +
                                                       std::to_string(r.num_inference_steps));
    if (r.num_waveforms_per_prompt < 1 || r.num_waveforms_per_prompt > 64)
        throw request_error("num_waveforms_per_prompt", "num_waveforms_per_prompt must be in [1, 64], got " +
                                                            std::to_string(r.num_waveforms_per_prompt));
    if (!std::isfinite(r.guidance_scale))
        throw request_error("guidance_scale", "guidance_scale must be a finite number");
    const double start = r.audio_start_in_s;
    const double end = r.audio_end_in_s.value_or(info.max_audio_length_s);
    const auto &pc = p.projection->config();
    if (!std::isfinite(start) || start < 0 || start < pc.min_value)
        throw request_error("audio_start_in_s", "audio_start_in_s must be >= " + fmt(std::max(0.0, pc.min_value)) +
                                                    ", got " + fmt(start));
    if (!std::isfinite(end) || end <= start)
        throw request_error("audio_end_in_s", "audio_end_in_s (" + fmt(end) + ") must be greater than audio_start_in_s (" +
                                                  fmt(start) + ")");
    if (end > info.max_audio_length_s || end > pc.max_value)
        throw request_error("audio_end_in_s", "audio_end_in_s (" + fmt(end) + " s) is beyond this model's maximum of " +
                                                  fmt(std::min(info.max_audio_length_s, pc.max_value)) + " s");
    const int64_t waveform_start = static_cast<int64_t>(start * static_cast<double>(info.sampling_rate));
    const int64_t waveform_end = static_cast<int64_t>(end * static_cast<double>(info.sampling_rate));
    const bool cfg = r.guidance_scale > 1.0;
    const int64_t n = r.num_waveforms_per_prompt;
    const c10::Device dev = p.compute_device;
    offload_release_guard release{*p.offloader};
    const auto f32 = at::TensorOptions().dtype(at::kFloat);

    // --- encode_prompt: text embeddings (T5 or given) and their masks.
    at::Tensor embeds, mask;
    const int64_t text_dim = pc.text_encoder_dim;
    if (r.prompt_embeds) {
        embeds = *r.prompt_embeds;
        check_embeds("prompt_embeds", embeds, text_dim);
        if (r.attention_mask) {
            mask = *r.attention_mask;
            check_mask("attention_mask", mask, embeds);
        }
    } else {
        if (!p.text)
            throw request_error("prompt", "this model has no text encoder: give prompt_embeds instead of a prompt");
        p.offloader->activate("text_encoder");
        const auto e = p.text->encode({r.prompt}, info.max_sequence_length);
        embeds = e.embeds;
        mask = e.attention_mask;
    }
    const int64_t batch = embeds.size(0);
    const bool negative_given = r.negative_prompt_embeds.has_value() || r.negative_prompt.has_value();
    if (cfg && negative_given) {
        at::Tensor neg, neg_mask;
        if (r.negative_prompt_embeds) {
            neg = *r.negative_prompt_embeds;
            check_embeds("negative_prompt_embeds", neg, text_dim);
            if (neg.sizes() != embeds.sizes())
                throw request_error("negative_prompt_embeds", "negative_prompt_embeds " + shape_of(neg) +
                                                                  " must have the shape of the prompt embeddings " +
                                                                  shape_of(embeds));
            if (r.negative_attention_mask) {
                neg_mask = *r.negative_attention_mask;
                check_mask("negative_attention_mask", neg_mask, neg);
            }
        } else {
            if (!p.text)
                throw request_error("negative_prompt",
                                    "this model has no text encoder: give negative_prompt_embeds instead of a negative prompt");
            p.offloader->activate("text_encoder");
            const auto e = p.text->encode(std::vector<std::string>(static_cast<size_t>(batch), *r.negative_prompt),
                                          info.max_sequence_length);
            neg_mask = e.attention_mask;
            // "set the masked tokens to the null embed"
            neg = at::where(neg_mask.to(at::kBool).unsqueeze(2), e.embeds, at::zeros({}, e.embeds.options()));
        }
        embeds = at::cat({neg.to(dev, at::kFloat), embeds.to(dev, at::kFloat)});
        if (mask.defined() && !neg_mask.defined()) neg_mask = at::ones_like(mask);
        else if (!mask.defined() && neg_mask.defined()) mask = at::ones_like(neg_mask);
        if (mask.defined()) mask = at::cat({neg_mask.to(dev), mask.to(dev)});
    }
    p.offloader->activate("projection_model");
    embeds = p.projection->project_text(embeds.to(dev, at::kFloat));
    if (mask.defined()) {
        const at::Tensor m = mask.to(dev).unsqueeze(-1).to(embeds.scalar_type());
        embeds = embeds * m;  // diffusers applies it twice (harmless, kept for identical bits)
        embeds = embeds * m;
    }

    // --- encode_duration: seconds_start / seconds_total tokens.
    const at::Tensor start_t = at::full({batch}, static_cast<float>(start), f32);
    const at::Tensor end_t = at::full({batch}, static_cast<float>(end), f32);
    at::Tensor sec_start = p.projection->seconds_start(start_t.to(dev));
    at::Tensor sec_end = p.projection->seconds_end(end_t.to(dev));
    if (cfg && negative_given) {
        sec_start = at::cat({sec_start, sec_start});
        sec_end = at::cat({sec_end, sec_end});
    }
    at::Tensor text_audio = at::cat({embeds, sec_start, sec_end}, 1);
    at::Tensor global = at::cat({sec_start, sec_end}, 2);
    if (cfg && !negative_given) {  // the unconditional row is all zeros (text and seconds tokens)
        text_audio = at::cat({at::zeros_like(text_audio), text_audio});
        global = at::cat({global, global});
    }
    // repeat(1, n, 1).view(B * n, ...): each row n times in a row.
    if (n > 1) {
        text_audio = at::repeat_interleave(text_audio, n, 0);
        global = at::repeat_interleave(global, n, 0);
    }

    // --- Scheduler and initial latents.
    auto base = schedulers::make_scheduler(p.scheduler_config);
    auto &sched = dynamic_cast<schedulers::cosine_dpm_multistep_scheduler &>(*base);
    sched.set_timesteps(r.num_inference_steps);
    sched.set_noise_seed(r.seed);  // diffusers: generator.initial_seed()
    const std::vector<int64_t> shape{batch * n, info.latent_channels, info.sample_size};
    if (r.injected_noise) {
        const at::Tensor noise = *r.injected_noise;
        std::vector<int64_t> want{r.num_inference_steps};
        want.insert(want.end(), shape.begin(), shape.end());
        if (!noise.defined() || noise.sizes() != at::IntArrayRef(want))
            throw request_error("injected_noise", "injected_noise must be [steps, B*n, C, L] = " +
                                                      shape_of(at::empty(want, at::kFloat).view({-1}).view(want)) +
                                                      ", got " + (noise.defined() ? shape_of(noise) : std::string("none")));
        sched.set_noise_source(
            [noise](int64_t i, double, double, const at::Tensor &like) { return noise[i].to(like.device(), like.scalar_type()); });
    }
    at::Tensor latents;
    if (r.latents) {
        latents = *r.latents;
        if (!latents.defined() || latents.sizes() != at::IntArrayRef(shape) || !at::isFloatingType(latents.scalar_type()))
            throw request_error("latents", "latents must be a floating tensor " +
                                               shape_of(at::empty(shape, at::kFloat)) + ", got " +
                                               (latents.defined() ? shape_of(latents) : std::string("none")));
        latents = latents.to(at::kFloat);
    } else {
        // torch.randn(shape, generator=Generator().manual_seed(seed)) on the CPU, in one call.
        at::Generator gen = at::detail::createCPUGenerator(r.seed);
        latents = at::randn(shape, gen, f32);
    }
    latents = latents * sched.init_noise_sigma();
    generate_output out;
    out.initial_latents_scaled = latents.clone();
    out.timesteps = sched.timesteps().clone();
    out.sampling_rate = info.sampling_rate;
    out.waveform_start = waveform_start;
    out.waveform_end = waveform_end;
    latents = latents.to(dev);

    // --- Denoising loop.
    p.offloader->activate("transformer");
    const auto cond = p.transformer->encode_conditioning(text_audio.to(dev, p.dtype), global.to(dev, p.dtype));
    const int64_t steps = sched.num_steps();
    // enforce_eager=false on CUDA: the DiT forward on this request's CFG batch (one call per step,
    // fixed shapes) captured on the first step and replayed on the others; eager otherwise, or
    // after a capture that failed (a warning, once). The latents, timestep, conditioning and RoPE
    // table are the same either way, so eager and replayed steps compute the same ops.
    step_graph_cache graphs(p.cuda_graphs, 1, [&p](bool warn, const std::string &m) {
        p.log(warn ? log_level::warn : log_level::info, m);
    });
    const dit &model = *p.transformer;
    const dit_conditioning &conditioning = *cond;
    const rotary_table &rope = p.rope;
    const device_graph::step_fn dit_step = [&model, &conditioning, &rope](const std::vector<at::Tensor> &in) {
        return model.forward(in[0], in[1], conditioning, rope);
    };
    const std::string graph_label = "transformer on the " + std::string(cfg ? "CFG " : "") + "batch of " +
                                    std::to_string(latents.size(0) * (cfg ? 2 : 1));
    for (int64_t i = 0; i < steps; ++i) {
        if (cancelled()) throw generation_cancelled("generation cancelled");
        const at::Tensor t = sched.timestep(i);
        at::Tensor x = cfg ? at::cat({latents, latents}) : latents;
        x = sched.scale_model_input(x, t);
        x = x.to(p.dtype);
        const at::Tensor pred =
            graphs.run(0, graph_label, {x, t.unsqueeze(0).to(dev)}, dit_step).to(at::kFloat);
        at::Tensor guided = pred;
        if (cfg) {
            const auto parts = pred.chunk(2);
            guided = parts[0] + r.guidance_scale * (parts[1] - parts[0]);
        }
        latents = sched.step(guided, t, latents);
        if (cb.on_step) cb.on_step(step_trace{static_cast<int>(i), t, pred.cpu(), latents.cpu()});
        if (cb.progress) cb.progress(static_cast<int>(i + 1), static_cast<int>(steps), "denoising");
    }
    if (cancelled()) throw generation_cancelled("generation cancelled");
    graphs.drop_all();  // the graph's memory pool before the VAE needs the device

    // --- Decode the whole latent length, then crop to [start, end).
    p.offloader->activate("vae");
    oobleck::decode_options d;
    // One waveform at a time: the full-length decode of Stable Audio Open holds several 1 GB
    // activations per waveform; sliced and batched decodes agree to ~1e-6.
    d.use_slicing = latents.size(0) > 1;
    d.is_cancelled = cb.is_cancelled;
    if (cb.progress)
        d.progress = [&](int64_t done, int64_t total) {
            cb.progress(static_cast<int>(done), static_cast<int>(total), "decoding");
        };
    at::Tensor audio;
    try {
        audio = p.vae->decode(latents, d);
    } catch (const oobleck::decode_cancelled &) {
        throw generation_cancelled("generation cancelled");
    }
    out.audio = audio.narrow(2, waveform_start, waveform_end - waveform_start).to(c10::kCPU, at::kFloat).contiguous();
    return out;
}

}  // namespace omnihost::models::stable_audio
