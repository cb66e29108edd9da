// Generation parameters per modality: the playground's controls, ranges and defaults (reference §4),
// with the video fields given their own defaults (the playground borrowed the image sliders).
// A plugin manifest may narrow a range or change a default ("parameters": {"<task>": {...}}), and
// a recipe's defaults win over both. Numbers are never read with `|| default`: 0 is a valid value.

export const VIDEO_RESOLUTIONS = [
  ['320x512', '320x512 (Minimal - 16GB)'],
  ['480x640', '480x640 (Low - 24GB)'],
  ['480x848', '480x848 (16:9 - 32GB)'],
  ['720x1280', '720x1280 (HD - 48GB+)'],
];

export const TTS_VOICES = [
  ['Vivian', 'Vivian (Female, English)'], ['Serena', 'Serena (Female, English)'],
  ['Ono_Anna', 'Ono_Anna (Female, Japanese)'], ['Sohee', 'Sohee (Female, Korean)'],
  ['Ryan', 'Ryan (Male, English)'], ['Aiden', 'Aiden (Male, English)'], ['Dylan', 'Dylan (Male, English)'],
  ['Eric', 'Eric (Male, English)'], ['Uncle_Fu', 'Uncle_Fu (Male, Chinese)'],
];

// kind: range | number | select | text | resolution.  `aliases`: recipe default keys that mean this field.
export const PARAM_SPECS = {
  image: [
    { name: 'width', label: 'Width', kind: 'number', min: 256, max: 2048, step: 64, default: 1024, integer: true },
    { name: 'height', label: 'Height', kind: 'number', min: 256, max: 2048, step: 64, default: 1024, integer: true },
    { name: 'num_inference_steps', label: 'Inference Steps', kind: 'range', min: 1, max: 100, step: 1, default: 6, integer: true, aliases: ['steps'] },
    { name: 'guidance_scale', label: 'Guidance Scale', kind: 'range', min: 0, max: 20, step: 0.5, default: 1.0, aliases: ['guidance'] },
  ],
  video: [
    { name: 'resolution', label: 'Video Resolution', kind: 'resolution', default: '480x640',
      help: 'Lower resolution & shorter duration use less memory. For OOM errors, try 320x512.' },
    { name: 'duration', label: 'Duration (sec)', kind: 'number', min: 1, max: 16, step: 1, default: 4, integer: true },
    { name: 'fps', label: 'FPS', kind: 'number', min: 8, max: 30, step: 1, default: 16, integer: true },
    { name: 'num_inference_steps', label: 'Inference Steps', kind: 'range', min: 1, max: 100, step: 1, default: 30, integer: true, aliases: ['steps'] },
    { name: 'guidance_scale', label: 'Guidance Scale', kind: 'range', min: 0, max: 20, step: 0.5, default: 4.0, aliases: ['guidance'] },
  ],
  tts: [
    { name: 'voice', label: 'Voice', kind: 'select', options: TTS_VOICES, default: 'Vivian' },
    { name: 'instructions', label: 'Style Instructions (optional)', kind: 'text', default: '', placeholder: 'e.g., Speak with excitement' },
    { name: 'speed', label: 'Speed', kind: 'range', min: 0.25, max: 4.0, step: 0.25, default: 1.0, suffix: 'x' },
  ],
  audio: [
    { name: 'audio_duration', label: 'Duration', kind: 'range', min: 1, max: 47, step: 1, default: 10, suffix: 's', aliases: ['duration'] },
    { name: 'num_inference_steps', label: 'Inference Steps', kind: 'range', min: 10, max: 200, step: 10, default: 50, integer: true, aliases: ['steps'], help: '20-100 recommended' },
    { name: 'guidance_scale', label: 'Guidance Scale', kind: 'range', min: 1, max: 15, step: 0.5, default: 7.0, aliases: ['guidance'] },
  ],
  omni: [
    { name: 'temperature', label: 'Temperature', kind: 'range', min: 0, max: 2, step: 0.05, default: 0.7 },
    { name: 'max_tokens', label: 'Max tokens', kind: 'number', min: 1, max: 8192, step: 1, default: 512, integer: true },
  ],
};

export const AUDIO_DEFAULT_NEGATIVE = 'low quality, average quality';

/** The manifest task name for a model type (chat for omni). */
export function taskFor(modelType) {
  return modelType === 'omni' ? 'chat' : modelType;
}

/**
 * The specs for a modality with the plugin manifest's schema and the recipe's defaults applied.
 * manifestParams: plugin.parameters[task] or undefined; recipeDefaults: recipe.defaults or {};
 * limits: the host's status.limits (the operator's ceilings), or undefined.
 */
export function resolveSpecs(modelType, manifestParams, recipeDefaults, limits) {
  const base = PARAM_SPECS[modelType] || [];
  return base.map((spec) => {
    const out = { ...spec };
    const schema = manifestParams && manifestParams[spec.name];
    if (schema && typeof schema === 'object') {
      // The plugin's limits narrow the playground's range; its default only fills a field the
      // playground has no default for, or one that falls outside the narrowed range.
      if (typeof schema.min === 'number') out.min = typeof out.min === 'number' ? Math.max(out.min, schema.min) : schema.min;
      if (typeof schema.max === 'number') out.max = typeof out.max === 'number' ? Math.min(out.max, schema.max) : schema.max;
      if (typeof out.min === 'number' && typeof out.max === 'number' && out.min > out.max) { out.min = schema.min; out.max = schema.max; }
      const outside = typeof out.default === 'number' && ((typeof out.min === 'number' && out.default < out.min) || (typeof out.max === 'number' && out.default > out.max));
      if (schema.default !== undefined && (out.default === undefined || outside)) out.default = schema.default;
      if (Array.isArray(schema.enum) && spec.kind === 'select') out.options = schema.enum.map((v) => [String(v), String(v)]);
    }
    const defaults = recipeDefaults || {};
    if (spec.kind === 'resolution') {
      if (typeof defaults.resolution === 'string') out.default = defaults.resolution;
      else if (Number.isFinite(defaults.height) && Number.isFinite(defaults.width)) out.default = `${defaults.height}x${defaults.width}`;
    } else {
      for (const key of [spec.name, ...(spec.aliases || [])]) {
        if (defaults[key] !== undefined && defaults[key] !== null) { out.default = defaults[key]; break; }
      }
    }
    if (typeof out.default === 'number' && out.kind !== 'select') {
      // A recipe default outside the range widens the range instead of being clamped away.
      if (typeof out.min === 'number' && out.default < out.min) out.min = out.default;
      if (typeof out.max === 'number' && out.default > out.max) out.max = out.default;
    }
    return capByLimits(out, limits);
  });
}

// The request field each operator limit caps directly (the host refuses anything above it).
const LIMIT_OF_FIELD = { num_inference_steps: 'max_steps', duration: 'max_duration', audio_duration: 'max_duration' };

/** Caps a control at the host operator's limit (status.limits), default included. */
function capByLimits(spec, limits) {
  const key = LIMIT_OF_FIELD[spec.name];
  const limit = limits && key ? limits[key] : undefined;
  if (typeof limit !== 'number' || !Number.isFinite(limit)) return spec;
  const out = { ...spec };
  if (typeof out.max !== 'number' || out.max > limit) out.max = limit;
  if (typeof out.min === 'number' && out.min > out.max) out.min = out.max;
  if (typeof out.default === 'number' && out.default > out.max) out.default = out.max;
  return out;
}
