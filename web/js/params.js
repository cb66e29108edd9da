// Generation parameters per modality, built from the serving plugin's manifest alone
// (GET /api/omni/plugins: "parameters": {"<task>": {...}, "start": {...}}): its type, range, step,
// default, enum, label, help and group are what the controls offer, so a control's bounds are what
// the host accepts. There is no parameter table here. A recipe's defaults fill the controls, the
// operator's limits cap them. Numbers are never read with `|| default`: 0 is a valid value.

/** The manifest task name for a model type (chat for omni). */
export function taskFor(modelType) {
  return modelType === 'omni' ? 'chat' : modelType;
}

// Fields the page renders itself (prompt box, negative prompt, seed, chat input, image inputs) or
// that the host owns: never turned into parameter controls.
const OWN_FIELDS = new Set(['prompt', 'text', 'negative_prompt', 'seed', 'messages', 'input_image', 'image', 'last_image',
  'job_id', 'task']);

const humanize = (name) => name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
const gcd = (a, b) => (b ? gcd(b, a % b) : a);
const lcm = (a, b) => (a && b ? (a / gcd(a, b)) * b : a || b);

/** Whether a manifest parameter gets a control: not operator-only, not hidden, not the page's own. */
export function isControl(name, d, ownFields = OWN_FIELDS) {
  return Boolean(d) && typeof d === 'object' && !ownFields.has(name) && d.ui !== false && d.operator !== true;
}

/** The names a recipe default may use for a parameter: its own and its manifest aliases. */
export function namesOf(name, d) {
  const alias = d && (d.alias || d.aliases);
  return [name, ...(alias ? (Array.isArray(alias) ? alias : [alias]) : [])];
}

/**
 * One control spec from one manifest parameter: kind range (numbers with both bounds and a
 * default), number, select (enum, or choices the manifest offers without enforcing), check
 * (boolean) or text. `stepMultiple`: a further multiple sizes must keep (height/width).
 */
export function specFromManifest(name, d, stepMultiple) {
  const numeric = d.type === 'integer' || d.type === 'number';
  const hasDefault = d.default !== undefined && d.default !== null;
  let kind = 'text';
  if (Array.isArray(d.enum)) kind = 'select';
  else if (Array.isArray(d.choices)) kind = 'select';
  else if (d.type === 'boolean') kind = 'check';
  else if (numeric) kind = typeof d.min === 'number' && typeof d.max === 'number' && hasDefault ? 'range' : 'number';
  const spec = { name, label: d.label || humanize(name), kind, optional: !hasDefault, integer: d.type === 'integer' };
  if (hasDefault) spec.default = d.default;
  for (const key of ['min', 'max', 'step', 'multiple_of']) if (typeof d[key] === 'number') spec[key] = d[key];
  if (typeof d.group === 'string') spec.group = d.group;
  if (d.help || d.description) spec.help = d.help || d.description;
  if (typeof d.max_length === 'number') spec.maxLength = d.max_length;
  const multiple = lcm(Number.isInteger(d.multiple_of) ? d.multiple_of : 0, Number.isInteger(stepMultiple) ? stepMultiple : 0);
  if (multiple > 1 && d.type === 'integer') {
    // A size the model takes in steps of N: the control steps by N from a multiple of N.
    spec.multiple_of = multiple;
    spec.step = multiple;
    if (typeof spec.min === 'number') spec.min = Math.ceil(spec.min / multiple) * multiple;
    if (typeof spec.max === 'number') spec.max = Math.floor(spec.max / multiple) * multiple;
  }
  if (kind === 'select') {
    const values = Array.isArray(d.enum)
      ? d.enum.map((v) => [String(v), String(v)])
      : d.choices.map((c) => (typeof c === 'string' ? [c, c] : [c.value, c.label || c.value]));
    spec.options = [...(spec.optional ? [['', '(plugin default)']] : []), ...values];
    spec.free = !Array.isArray(d.enum); // choices are offered, not enforced
  }
  const names = namesOf(name, d);
  if (names.length > 1) spec.aliases = names.slice(1);
  return spec;
}

/**
 * The control specs for a modality from the serving plugin's manifest parameters for its task
 * (manifestParams: plugin.parameters[task]), in the manifest's order. Required fields and the
 * page's own (prompt, seed, ...) are left out. recipeDefaults: recipe.defaults (names or aliases);
 * limits: the host's status.limits, or undefined; sizeMultiple: the model's own size step
 * (recipe hint or catalogue entry), kept by height and width on top of the manifest's multiple_of.
 */
export function resolveSpecs(modelType, manifestParams, recipeDefaults, limits, sizeMultiple) {
  const params = manifestParams && typeof manifestParams === 'object' ? manifestParams : {};
  const defaults = recipeDefaults || {};
  return Object.entries(params)
    .filter(([name, d]) => isControl(name, d) && d.required !== true)
    .map(([name, d]) => {
      const size = name === 'height' || name === 'width';
      const out = specFromManifest(name, d, size ? sizeMultiple : undefined);
      for (const key of namesOf(name, d)) {
        if (defaults[key] !== undefined && defaults[key] !== null) { out.default = defaults[key]; out.optional = false; break; }
      }
      if (out.kind === 'number' && !out.optional && typeof out.min === 'number' && typeof out.max === 'number') out.kind = 'range';
      return capByLimits(out, limits);
    });
}

/** The manifest's default for a field the page renders itself (e.g. the audio negative prompt). */
export function manifestDefault(manifestParams, name) {
  const d = manifestParams && manifestParams[name];
  return d && d.default !== undefined && d.default !== null ? d.default : undefined;
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
