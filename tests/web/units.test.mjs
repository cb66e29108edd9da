// Pure-module tests of the page's logic that needs no browser: the SSE parser (chunk splits),
// parameter controls from a manifest alone (0 is a value, recipe defaults via aliases, operator
// limits) and download names.
import test from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, readSse } from '../../web/js/sse.js';
import { resolveSpecs } from '../../web/js/params.js';
import { downloadName, slug, extensionFor } from '../../web/js/filename.js';

test('SSE lines split across chunks are reassembled', () => {
  const events = [];
  const parser = new SseParser((d) => events.push(d));
  for (const chunk of ['da', 'ta: {"text":"Hel', 'lo"}\n', '\n', 'data: {"error":"boom"}\r', '\n\r\n', 'data: [DONE]\n\n']) parser.push(chunk);
  assert.deepEqual(events, ['{"text":"Hello"}', '{"error":"boom"}', '[DONE]']);
});

test('SSE: comments are ignored, multi-line data is joined, a final event without blank line counts', () => {
  const events = [];
  const parser = new SseParser((d) => events.push(d));
  parser.push(': keep-alive\n\ndata: a\ndata: b\n\ndata: tail');
  parser.end();
  assert.deepEqual(events, ['a\nb', 'tail']);
});

test('readSse decodes a UTF-8 character split between chunks and surfaces error events', async () => {
  const bytes = new TextEncoder().encode('data: {"text":"✓ ok"}\n\ndata: {"error":"upstream failed"}\n\ndata: [DONE]\n\n');
  const cut = bytes.indexOf(0xe2) + 1; // inside the 3-byte check mark
  const body = new ReadableStream({
    start(c) { c.enqueue(bytes.slice(0, cut)); c.enqueue(bytes.slice(cut)); c.close(); },
  });
  const events = [];
  const done = await readSse(new Response(body), (e) => events.push(e));
  assert.equal(done, true);
  assert.deepEqual(events, [{ text: '✓ ok' }, { error: 'upstream failed' }]);
});

test('readSse turns malformed JSON into an error event instead of dropping it', async () => {
  const events = [];
  await readSse(new Response('data: {not json\n\n'), (e) => events.push(e));
  assert.equal(events.length, 1);
  assert.match(events[0].error, /Malformed stream event/);
});

// A video plugin's manifest parameters (what GET /api/omni/plugins lists).
const VIDEO = {
  prompt: { type: 'string', required: true },
  negative_prompt: { type: 'string' },
  height: { type: 'integer', min: 16, max: 2048, multiple_of: 16, default: 480 },
  width: { type: 'integer', min: 16, max: 2048, multiple_of: 16, default: 640 },
  duration: { type: 'number', min: 0.0625, max: 30, default: 4 },
  fps: { type: 'integer', min: 1, max: 60, default: 16 },
  num_inference_steps: { alias: 'steps', label: 'Inference Steps', type: 'integer', min: 1, max: 1000, default: 30 },
  guidance_scale: { alias: 'guidance', label: 'Guidance Scale', step: 0.5, type: 'number', min: 0, max: 50, default: 4.0 },
  seed: { type: 'integer', min: 0 },
  image: { type: 'string', ui: false },
};

test('no manifest, no controls: there is no parameter table in the page', () => {
  assert.deepEqual(resolveSpecs('video', undefined, { steps: 4 }), []);
  assert.deepEqual(resolveSpecs('image', {}), []);
});

test('recipe defaults fill the controls through manifest aliases, including zero guidance', () => {
  const specs = resolveSpecs('video', VIDEO, { steps: 4, guidance: 0, height: 64, width: 64, duration: 1, fps: 8 });
  const by = Object.fromEntries(specs.map((s) => [s.name, s]));
  assert.deepEqual(specs.map((s) => s.name), ['height', 'width', 'duration', 'fps', 'num_inference_steps', 'guidance_scale'],
    'the manifest order; prompt, negative prompt, seed and hidden fields are not controls');
  assert.equal(by.num_inference_steps.default, 4);
  assert.equal(by.guidance_scale.default, 0);
  assert.deepEqual([by.height.default, by.width.default], [64, 64]);
  assert.equal(by.duration.default, 1);
  assert.equal(by.fps.default, 8);
});

test('the manifest is the schema: bounds, step, default, label of every control are its own', () => {
  const by = Object.fromEntries(resolveSpecs('video', VIDEO, {}).map((s) => [s.name, s]));
  for (const [name, d] of Object.entries(VIDEO)) {
    if (!by[name]) continue;
    assert.equal(by[name].min, d.min, `${name} min`);
    assert.equal(by[name].max, d.max, `${name} max`);
    assert.equal(by[name].default, d.default, `${name} default`);
    assert.equal(by[name].integer, d.type === 'integer', `${name} integer`);
  }
  assert.equal(by.guidance_scale.step, 0.5);
  assert.equal(by.guidance_scale.label, 'Guidance Scale');
  assert.equal(by.fps.label, 'Fps', 'a field without a label is named from its key');
  assert.deepEqual([by.height.step, by.height.multiple_of], [16, 16], 'sizes step by their multiple_of');
});

test('sizes keep the model\'s own multiple too (TI2V-5B: 32), bounds rounded onto that grid', () => {
  const by = Object.fromEntries(resolveSpecs('video', { height: { type: 'integer', min: 24, max: 2040, multiple_of: 16, default: 480 } }, {}, undefined, 32)
    .map((s) => [s.name, s]));
  assert.deepEqual([by.height.min, by.height.max, by.height.step, by.height.multiple_of], [32, 2016, 32, 32]);
});

test('every field kind gets its control from its manifest entry alone', () => {
  const specs = resolveSpecs('image', {
    prompt: { type: 'string', required: true },
    sharpness_knob: { type: 'integer', min: 3, max: 17, step: 2, default: 5, label: 'Sharpness knob', help: 'why' },
    style: { type: 'string', enum: ['a', 'b'] },
    voice: { type: 'string', default: 'Vivian', choices: ['Vivian', { value: 'Ryan', label: 'Ryan (Male)' }], group: 'Voice' },
    mark: { type: 'string', operator: true, default: 'x' },
    loud: { type: 'boolean', default: true },
    hidden: { type: 'integer', ui: false },
    ratio: { type: 'number', min: 0, alias: 'r' },
  }, { r: 0.5 });
  const by = Object.fromEntries(specs.map((s) => [s.name, s]));
  assert.equal(by.prompt, undefined, 'the page renders the prompt itself');
  assert.equal(by.hidden, undefined);
  assert.deepEqual([by.sharpness_knob.kind, by.sharpness_knob.min, by.sharpness_knob.max, by.sharpness_knob.step,
    by.sharpness_knob.default, by.sharpness_knob.label, by.sharpness_knob.help, by.sharpness_knob.integer],
  ['range', 3, 17, 2, 5, 'Sharpness knob', 'why', true]);
  assert.deepEqual(by.style.options, [['', '(plugin default)'], ['a', 'a'], ['b', 'b']]);
  assert.equal(by.style.optional, true);
  assert.deepEqual([by.voice.kind, by.voice.options, by.voice.default, by.voice.free, by.voice.group],
    ['select', [['Vivian', 'Vivian'], ['Ryan', 'Ryan (Male)']], 'Vivian', true, 'Voice']);
  assert.equal(by.mark, undefined, 'an operator-only field gets no control');
  assert.deepEqual([by.loud.kind, by.loud.default], ['check', true]);
  assert.deepEqual([by.ratio.kind, by.ratio.default, by.ratio.optional], ['number', 0.5, false], 'a recipe default reaches it through its alias');
});

test('download names carry type, prompt slug, seed and timestamp', () => {
  const name = downloadName({ type: 'video', prompt: 'A Cat <b>on</b> the Moon!', seed: 42, mime: 'video/mp4', createdAt: Date.UTC(2026, 0, 2, 3, 4, 5) });
  assert.match(name, /^omnihost-video-a-cat-b-on-b-the-moon-seed42-\d{8}-\d{6}\.mp4$/);
  assert.equal(slug(''), 'untitled');
  assert.equal(extensionFor('audio/x-wav'), 'wav');
  assert.equal(extensionFor('audio/flac'), 'flac');
  assert.match(downloadName({ type: 'audio', prompt: 'rain', mime: 'audio/wav', createdAt: 0 }), /^omnihost-audio-rain-\d{8}-\d{6}\.wav$/);
});

test('operator limits from /api/omni/status cap the controls (max and default)', () => {
  const limits = { max_steps: 20, max_duration: 3, max_frames: 481, max_pixels: 4194304, max_samples: 4 };
  const video = Object.fromEntries(resolveSpecs('video', VIDEO, { steps: 50 }, limits).map((s) => [s.name, s]));
  assert.equal(video.num_inference_steps.max, 20);
  assert.equal(video.num_inference_steps.default, 20, 'a recipe default above the limit is capped, not widened past it');
  assert.equal(video.duration.max, 3);
  const audio = Object.fromEntries(resolveSpecs('audio', { audio_duration: { type: 'number', min: 0.1, max: 47, default: 10 } }, {}, limits)
    .map((s) => [s.name, s]));
  assert.equal(audio.audio_duration.max, 3);
  assert.equal(audio.audio_duration.default, 3);
  const loose = Object.fromEntries(resolveSpecs('video', VIDEO, {}, { max_steps: 5000 }).map((s) => [s.name, s]));
  assert.equal(loose.num_inference_steps.max, 1000, 'a limit above the manifest range changes nothing');
  assert.deepEqual(resolveSpecs('video', VIDEO), resolveSpecs('video', VIDEO, undefined, undefined));
});

test('device memory in the status line: last job peak first, else the load peak; nothing without a report', async () => {
  const { deviceMemoryText, formatBytes } = await import('../../web/js/device-memory.js');
  assert.equal(formatBytes(1536 * 1024 * 1024), '1.50 GiB');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(null), '');
  assert.equal(deviceMemoryText(null), null);
  assert.equal(deviceMemoryText({ measure: 'x' }), null);
  const loaded = deviceMemoryText({ device: 'cpu', measure: 'process peak RSS', load_peak_bytes: 2 * 1024 ** 3,
    last_job_peak_bytes: null, current_bytes: 300 * 1024 ** 2 });
  assert.equal(loaded.short, 'cpu peak 2.00 GiB');
  assert.equal(loaded.long, 'cpu memory: now 300 MiB, load peak 2.00 GiB (process peak RSS)');
  const afterJob = deviceMemoryText({ device: 'cuda:0', measure: 'allocator peak', load_peak_bytes: 1024 ** 3,
    last_job_peak_bytes: 9.5 * 1024 ** 3, current_bytes: 1024 ** 3 });
  assert.equal(afterJob.short, 'cuda:0 peak 9.50 GiB');
});

test('the in-process plugins\' device and dtype settings become controls from their manifests', async () => {
  const { readFileSync } = await import('node:fs');
  for (const plugin of ['video_diffusion', 'stable_audio']) {
    const manifest = JSON.parse(readFileSync(new URL(`../../plugins/${plugin}/${plugin}.plugin.json`, import.meta.url)));
    const specs = resolveSpecs(plugin === 'stable_audio' ? 'audio' : 'video', manifest.parameters.start, { device: 'cpu' });
    const device = specs.find((s) => s.name === 'device');
    const dtype = specs.find((s) => s.name === 'dtype');
    assert.ok(device, `${plugin}: a device control`);
    assert.equal(device.default, 'cpu');  // the recipe's value wins over the manifest's "auto"
    assert.ok(dtype, `${plugin}: a dtype control`);
    assert.equal(dtype.kind, 'select');
    assert.equal(dtype.group, 'In-process');
    assert.ok(dtype.options.some(([value]) => value === 'bf16'), `${plugin}: bf16 offered: ${JSON.stringify(dtype)}`);
  }
});
