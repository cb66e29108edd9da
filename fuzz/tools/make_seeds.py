#!/usr/bin/env python3
"""Writes the hand-made seed inputs of fuzz/corpus/<target>/ (run from the repository root).

The seeds are committed; this script is how they were made, so a seed can be changed or added
reviewably. Copies of real files (recipes, manifests, the demo model's configs) are taken from the
tree where they live.
"""
import base64, glob, json, os, shutil, struct, sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corpus = os.path.join(root, "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def copy(target, pattern, from_build=False):
    for path in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
        if "/build" in path[len(root):] and not from_build:
            continue
        with open(path, "rb") as f:
            put(target, os.path.relpath(path, root).replace("/", "_"), f.read())


# A 1x1 PNG and a RIFF/WAVE header, so the media sniffers see real magic numbers.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
WAV = b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", 0)
png64, wav64 = base64.b64encode(PNG).decode(), base64.b64encode(WAV).decode()

# json_limits
put("json_limits", "object", '{"a":[1,2.5,-3e2,{"b":null,"c":true}],"d":"\\u00e9\\ud83d\\ude00"}')
put("json_limits", "array", "[[[]],{},\"x\"]")
put("json_limits", "deep_64", "[" * 64 + "]" * 64)
put("json_limits", "deep_65", "[" * 65 + "]" * 65)
put("json_limits", "big_number", "[1e400, 18446744073709551616, -0.0]")
put("json_limits", "scalar", "\"text\"")

# request_body: start and generate bodies as the UI and curl send them
put("request_body", "start_recipe", '{"recipe":"demo-wan-tiny"}')
put("request_body", "start_full", json.dumps({"model": "Qwen/Qwen-Image", "model_type": "image", "run_mode": "subprocess",
    "port": 8000, "gpu_memory_utilization": 0.9, "hf_token": "hf_secret", "trust_remote_code": False}))
put("request_body", "start_remote", json.dumps({"model": "m", "model_type": "omni", "run_mode": "remote",
    "remote_url": "http://127.0.0.1:8000/v1", "remote_api_key": "sk-key"}))
put("request_body", "video", json.dumps({"prompt": "a red fox in the snow", "height": 64, "width": 64, "duration": 1,
    "fps": 8, "num_inference_steps": 4, "seed": 1}))
put("request_body", "image_edit", json.dumps({"prompt": "make it blue", "input_image": "data:image/png;base64," + png64}))
put("request_body", "audio", json.dumps({"text": "rain on a tin roof", "audio_duration": 3.5}))
put("request_body", "tts", json.dumps({"text": "hello", "voice": "Vivian", "speed": 1.25}))
put("request_body", "chat", json.dumps({"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    "stream": True, "max_tokens": 16}))

# recipe: the tree's recipes, and one whose id matches the file name the catalogue writes
copy("recipe", "recipes/*.json")
put("recipe", "fuzz_id", json.dumps({"id": "fuzz", "name": "Fuzz", "model": "wan-tiny-demo", "model_root": "data_dir",
    "model_type": "video", "defaults": {"height": 64, "width": 64, "steps": 4}, "hints": {"requires_hf_token": False},
    "tags": ["t"]}))

# manifest: every manifest in the tree
copy("manifest", "**/*.plugin.json")

# safetensors: small well-formed files
def safetensors(header, payload):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + payload
put("safetensors", "f32", safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8))
put("safetensors", "two_tensors", safetensors({"__metadata__": {"format": "pt"},
    "w": {"dtype": "BF16", "shape": [1, 2, 2], "data_offsets": [0, 8]},
    "b": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]}}, bytes(range(16))))
put("safetensors", "scalar_and_empty", safetensors({"s": {"dtype": "U8", "shape": [], "data_offsets": [0, 1]},
    "e": {"dtype": "F16", "shape": [0, 3], "data_offsets": [1, 1]}}, b"\x07"))

# model_config: the demo model's configs when the build has written them, and scheduler configs
copy("model_config", "build/data/models/wan-tiny-demo/*/*config*.json", from_build=True)
copy("model_config", "build/data/models/wan-tiny-demo/model_index.json", from_build=True)
put("model_config", "unipc", json.dumps({"_class_name": "UniPCMultistepScheduler", "num_train_timesteps": 1000,
    "flow_shift": 3.0, "prediction_type": "flow_prediction", "use_flow_sigmas": True, "solver_order": 2}))
put("model_config", "flow_match", json.dumps({"_class_name": "FlowMatchEulerDiscreteScheduler",
    "num_train_timesteps": 1000, "shift": 5.0}))
put("model_config", "transformer", json.dumps({"_class_name": "WanTransformer3DModel", "patch_size": [1, 2, 2],
    "num_attention_heads": 2, "attention_head_dim": 8, "in_channels": 16, "out_channels": 16, "text_dim": 32,
    "freq_dim": 16, "ffn_dim": 32, "num_layers": 1, "qk_norm": "rms_norm_across_heads", "eps": 1e-6}))
put("model_config", "umt5", json.dumps({"model_type": "umt5", "vocab_size": 64, "d_model": 16, "d_kv": 4,
    "num_heads": 4, "d_ff": 32, "num_layers": 1, "feed_forward_proj": "gated-gelu"}))

# media_parsers: the answer shapes the stand-in upstream and vLLM-Omni send
put("media_parsers", "images_data", json.dumps({"created": 1, "data": [{"b64_json": png64}]}))
put("media_parsers", "chat_image", json.dumps({"choices": [{"message": {"role": "assistant", "content": [
    {"type": "image_url", "image_url": {"url": "data:image/png;base64," + png64}}]}}]}))
put("media_parsers", "chat_audio", json.dumps({"choices": [{"message": {"audio": {"data": wav64, "format": "wav"}}}]}))
put("media_parsers", "video_job", json.dumps({"id": "video_1", "status": "in_progress", "progress": 40}))
put("media_parsers", "video_failed", json.dumps({"id": "video_2", "status": "failed", "error": {"message": "OOM"}}))
put("media_parsers", "error_bug", json.dumps({"error": {"message": "'numpy.ndarray' object has no attribute 'save'"}}))
put("media_parsers", "detail", json.dumps({"detail": [{"loc": ["body"], "msg": "bad"}]}))

# sse: a streamed chat answer
put("sse", "chat_stream", "data: " + json.dumps({"choices": [{"delta": {"content": "Hel"}}]}) + "\n\n" +
    "data: " + json.dumps({"choices": [{"delta": {"content": "lo"}}]}) + "\r\n\r\n" +
    ": keep-alive\n\nevent: message\ndata: " + json.dumps({"choices": [{"delta": {"audio": {"data": wav64, "format": "wav"}}}]}) +
    "\n\ndata: [DONE]\n\n")
put("sse", "error_event", "data: " + json.dumps({"error": {"message": "boom"}}) + "\n\n")
put("sse", "not_sse", json.dumps({"choices": [{"message": {"content": "whole answer"}}]}) + "\n")

# codec
put("codec", "data_url", "data:image/png;base64," + png64)
put("codec", "url_safe", base64.urlsafe_b64encode(PNG).decode().rstrip("="))
put("codec", "wav_bytes", WAV)
put("codec", "spaced", "aGVs\nbG8g d29y bGQ=")

# remote_url
for i, url in enumerate(["http://127.0.0.1:8000/v1/", "https://example.com", "  HTTP://host:1//  ",
                         "http://[::1]:8000/v1", "https://h/base/v1/v1"]):
    put("remote_url", "url%d" % i, url)

# prompt_clean
put("prompt_clean", "entities", "a red fox &amp;amp; snow &lt;b&gt; &#x41;&#65;&#128;&nGt; &ampfoo")
put("prompt_clean", "whitespace", "  two\u3000words\u00a0and\t\ttabs\u2028 ")
put("prompt_clean", "utf8", "caf\u00e9 \U0001F98A \u0301")
