// Generation parameters per modality: the playground's controls, ranges and defaults (reference §4),
// with the video fields given their own defaults (the playground borrowed the image sliders).
// A plugin manifest may narrow a range or change a default ("parameters": {"<task>": {...}}), and
// a recipe's defaults win over both. Numbers are never read with `|| default`: 0 is a valid value.

export const VIDEO_RESOLUTIONS = [
  ['320x512', '320x512 (Minimal - 16GB)'],
  ['480x640', '480x640 (Low - 24GB)'],
  ['480x832', '480x832 (16:9 - 32GB)'],
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

// Fields the page renders itself (prompt box, negative prompt, seed, chat input, image upload) or
// that the host owns: never turned into parameter controls.
const OWN_FIELDS = new Set(['prompt', 'text', 'negative_prompt', 'seed', 'messages', 'input_image', 'job_id', 'task', 'stream']);

const humanize = (name) => name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

/** A control for a manifest parameter the page has no presentation for (a plugin's own knob). */
function specFromManifest(name, d) {
  const numeric = d.type === 'integer' || d.type === 'number' || d.type === 'float';
  let kind = 'text';
  if (Array.isArray(d.enum)) kind = 'select';
  else if (d.type === 'boolean' || d.type === 'bool') kind = 'check';
  else if (numeric) kind = typeof d.min === 'number' && typeof d.max === 'number' ? 'range' : 'number';
  const spec = { name, label: d.label || humanize(name), kind, optional: d.default === undefined || d.default === null,
    default: d.default === null ? undefined : d.default, integer: d.type === 'integer' };
  for (const key of ['min', 'max', 'step']) if (typeof d[key] === 'number') spec[key] = d[key];
  if (d.help || d.description) spec.help = d.help || d.description;
  if (kind === 'select') spec.options = [...(spec.optional ? [['', '(default)']] : []), ...d.enum.map((v) => [String(v), String(v)])];
  if (kind === 'range' && spec.optional) spec.kind = 'number'; // a slider always holds a value
  const alias = d.alias || d.aliases;
  if (alias) spec.aliases = Array.isArray(alias) ? alias : [alias];
  return spec;
}

/**
 * The specs for a modality. The serving plugin's manifest (its "parameters" for the task) is the
 * schema: its type, range, step, default, enum, label and help are what the controls offer, so a
 * control's bounds equal what the host accepts. The playground table only supplies presentation
 * (label, widget, suffix) for fields a manifest does not describe, and the list when there is no
 * plugin yet. Parameters the table does not know (a plugin's own) get controls of their own.
 * A recipe's defaults win, then the operator's limits cap. manifestParams: plugin.parameters[task];
 * recipeDefaults: recipe.defaults or {}; limits: the host's status.limits, or undefined.
 */
export function resolveSpecs(modelType, manifestParams, recipeDefaults, limits, sizeMultiple) {
  const base = PARAM_SPECS[modelType] || [];
  const params = manifestParams && typeof manifestParams === 'object' ? manifestParams : {};
  const covered = new Set(base.map((s) => s.name));
  if (base.some((s) => s.kind === 'resolution')) { covered.add('height'); covered.add('width'); }
  const extra = Object.entries(params)
    .filter(([name, d]) => !covered.has(name) && !OWN_FIELDS.has(name) && d && typeof d === 'object' && d.ui !== false
      && d.operator !== true && d.required !== true)
    .map(([name, d]) => specFromManifest(name, d));
  return [...base, ...extra].map((spec) => {
    const out = { ...spec };
    if (spec.kind === 'resolution') out.options = resolutionsFor(manifestParams, sizeMultiple);
    const schema = params[spec.name];
    if (schema && typeof schema === 'object' && covered.has(spec.name)) {
      // The manifest states what the plugin accepts: its bounds and default replace the table's.
      if (typeof schema.min === 'number') out.min = schema.min;
      if (typeof schema.max === 'number') out.max = schema.max;
      if (typeof schema.step === 'number') out.step = schema.step;
      if (schema.default !== undefined && schema.default !== null) out.default = schema.default;
      if (schema.label) out.label = schema.label;
      if (schema.help) out.help = schema.help;
      if (schema.type === 'number' || schema.type === 'float') out.integer = false;
      if (Array.isArray(schema.enum) && spec.kind === 'select') out.options = schema.enum.map((v) => [String(v), String(v)]);
    }
    const defaults = recipeDefaults || {};
    if (spec.kind === 'resolution') {
      if (typeof defaults.resolution === 'string') out.default = defaults.resolution;
      else if (Number.isFinite(defaults.height) && Number.isFinite(defaults.width)) out.default = `${defaults.height}x${defaults.width}`;
    } else {
      for (const key of [spec.name, ...(spec.aliases || [])]) {
        if (defaults[key] !== undefined && defaults[key] !== null) { out.default = defaults[key]; out.optional = false; break; }
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

const gcd = (a, b) => (b ? gcd(b, a % b) : a);
const lcm = (a, b) => (a && b ? (a / gcd(a, b)) * b : a || b);

/**
 * The resolutions a model accepts: each side a multiple of the manifest's multiple_of for height
 * and width and of the model's own size_multiple (recipe hint or catalogue entry).
 */
export function resolutionsFor(manifestParams, sizeMultiple) {
  let step = Number.isInteger(sizeMultiple) && sizeMultiple > 0 ? sizeMultiple : 1;
  for (const key of ['height', 'width']) {
    const m = manifestParams && manifestParams[key] && manifestParams[key].multiple_of;
    if (Number.isInteger(m) && m > 0) step = lcm(step, m);
  }
  return VIDEO_RESOLUTIONS.filter(([value]) => value.split('x').every((side) => Number(side) % step === 0));
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
