// Pure-module tests of the page's logic that needs no browser: the SSE parser (chunk splits),
// parameter resolution (0 is a value, manifest and recipe overrides) and download names.
import test from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, readSse } from '../../web/js/sse.js';
import { resolveSpecs, PARAM_SPECS } from '../../web/js/params.js';
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

test('recipe defaults override the reference defaults, including zero guidance', () => {
  const specs = resolveSpecs('video', undefined, { steps: 4, guidance: 0, height: 64, width: 64, duration: 1, fps: 8 });
  const by = Object.fromEntries(specs.map((s) => [s.name, s]));
  assert.equal(by.num_inference_steps.default, 4);
  assert.equal(by.guidance_scale.default, 0);
  assert.equal(by.resolution.default, '64x64');
  assert.equal(by.duration.default, 1);
  assert.equal(by.fps.default, 8);
});

test('the manifest is the schema: its bounds, step and default are the control\'s; the table only presents', () => {
  const specs = resolveSpecs('video', { num_inference_steps: { type: 'integer', min: 1, max: 50, default: 20 },
    guidance_scale: { type: 'number', min: 0, max: 50, default: 5, step: 0.25 } }, {});
  const by = Object.fromEntries(specs.map((s) => [s.name, s]));
  assert.deepEqual([by.num_inference_steps.min, by.num_inference_steps.max, by.num_inference_steps.default], [1, 50, 20]);
  assert.deepEqual([by.guidance_scale.min, by.guidance_scale.max, by.guidance_scale.default, by.guidance_scale.step], [0, 50, 5, 0.25],
    'a wider plugin range is what the control offers (the host accepts it)');
  assert.equal(by.guidance_scale.label, 'Guidance Scale', 'the table still labels a field the manifest does not');
  const narrow = resolveSpecs('image', { num_inference_steps: { min: 10, max: 40, default: 12 } }).find((s) => s.name === 'num_inference_steps');
  assert.deepEqual([narrow.min, narrow.max, narrow.default], [10, 40, 12]);
  const image = Object.fromEntries(resolveSpecs('image').map((s) => [s.name, s]));
  assert.deepEqual([image.guidance_scale.min, image.guidance_scale.max, image.guidance_scale.default], [0, 20, 1.0]);
  assert.deepEqual([image.width.min, image.width.max, image.width.step], [256, 2048, 64]);
  const audio = Object.fromEntries(resolveSpecs('audio').map((s) => [s.name, s]));
  assert.deepEqual([audio.audio_duration.max, audio.num_inference_steps.default, audio.guidance_scale.default], [47, 50, 7.0]);
  assert.ok(PARAM_SPECS.tts.some((s) => s.name === 'voice' && s.default === 'Vivian'));
});

test('a parameter no table knows gets a control from its manifest entry alone', () => {
  const specs = resolveSpecs('image', {
    prompt: { type: 'string', required: true },
    sharpness_knob: { type: 'integer', min: 3, max: 17, step: 2, default: 5, label: 'Sharpness knob', help: 'why' },
    style: { type: 'string', enum: ['a', 'b'] },
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
  assert.deepEqual(by.style.options, [['', '(default)'], ['a', 'a'], ['b', 'b']]);
  assert.equal(by.style.optional, true);
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
  const video = Object.fromEntries(resolveSpecs('video', undefined, { steps: 50 }, limits).map((s) => [s.name, s]));
  assert.equal(video.num_inference_steps.max, 20);
  assert.equal(video.num_inference_steps.default, 20, 'a recipe default above the limit is capped, not widened past it');
  assert.equal(video.duration.max, 3);
  const audio = Object.fromEntries(resolveSpecs('audio', undefined, {}, limits).map((s) => [s.name, s]));
  assert.equal(audio.audio_duration.max, 3);
  assert.equal(audio.audio_duration.default, 3);
  const loose = Object.fromEntries(resolveSpecs('image', undefined, {}, { max_steps: 1000 }).map((s) => [s.name, s]));
  assert.equal(loose.num_inference_steps.max, 100, 'a limit above the range changes nothing');
  assert.deepEqual(resolveSpecs('image'), resolveSpecs('image', undefined, undefined, undefined));
});
