// The configuration panel: run mode (with availability from plugin manifests), model type, model,
// server/GPU/in-process settings, and buildConfig() — the body sent to /start and /command-preview.
import { $, $$, el, clear, show, readNumber, readInt, hub } from './dom.js';
import { catalog, MODEL_TYPES, RUN_MODES, modeFor, modelsFor, modelInfo, recipeById } from './catalog.js';
import { state } from './state.js';
import { toast } from './toast.js';
import { apiJson } from './api.js';
import { isControl, resolveSpecs } from './params.js';
import { renderParams, readParams } from './param-controls.js';

const MODE_LABELS = { subprocess: 'Subprocess', container: 'Container', remote: 'Remote' };
// Fields the host keeps for every browser (/api/settings): page id -> settings key. Never secrets.
const PERSISTED = { 'remote-url': 'omni_remote_url', port: 'omni_port', 'venv-path': 'omni_venv_path', 'gpu-device': 'omni_gpu_device' };
const VLLM_DEFAULT_PORT = 8000;
// Start settings the page lays out itself: the serving plugin's manifest ("parameters.start")
// name -> the input's id. A field shows only when the plugin declares its setting, with the
// manifest's bounds; every other start parameter gets a control built from the manifest.
const FIXED_START = {
  port: 'port', tensor_parallel_size: 'tensor-parallel', gpu_memory_utilization: 'gpu-memory', gpu_device: 'gpu-device',
  enable_cpu_offload: 'cpu-offload', enable_torch_compile: 'torch-compile', enforce_eager: 'torch-compile',
  vae_use_slicing: 'vae-slicing', vae_use_tiling: 'vae-tiling', flow_shift: 'flow-shift', threads: 'threads',
  venv_path: 'venv-path', hf_token: 'hf-token', remote_url: 'remote-url', remote_api_key: 'remote-api-key',
};
// Fields renderRunMode shows by mode and type; the manifest may only hide them further.
const MODE_MANAGED = new Set(['venv-path', 'flow-shift', 'vae-slicing', 'vae-tiling']);
// The start fields the host owns (the rest are the plugin's).
const START_WIRE = new Set(['model', 'model_type', 'run_mode', 'recipe']);
let startSpecs = [];
let startRenderedFor = null;
let startRecipeDefaults = {};

export function currentRunMode() {
  const checked = $('input[name="run-mode"]:checked');
  return checked ? checked.value : 'subprocess';
}

export function currentModelType() {
  return $('#model-type').value;
}

/** The custom id wins over the dropdown (as in the playground). */
export function currentModel() {
  const custom = $('#custom-model').value.trim();
  return custom || $('#model-select').value || '';
}

export function currentRoute() {
  return modeFor(currentModelType(), currentRunMode());
}

function changed() {
  hub.emit('config-changed');
}

function setRunMode(mode) {
  const radio = $(`#run-mode-${mode}`);
  if (radio && !radio.disabled) radio.checked = true;
  renderRunMode();
}

/** Availability, labels, help text and which groups are visible, for the current type and mode. */
export function renderRunMode() {
  const type = currentModelType();
  const reasons = [];
  for (const mode of RUN_MODES) {
    const info = modeFor(type, mode);
    const radio = $(`#run-mode-${mode}`);
    const label = $(`#run-mode-${mode}-label`);
    radio.disabled = !info.available;
    label.classList.toggle('mode-unavailable', !info.available);
    label.title = info.available ? helpFor(mode, info, type) : info.reason;
    if (mode === 'subprocess') label.querySelector('span').textContent = info.inprocess ? 'Local (in-process)' : 'Subprocess';
    if (!info.available) reasons.push(`${MODE_LABELS[mode]} unavailable: ${info.reason}`);
  }
  // The checked mode became unavailable (e.g. a video recipe while Container was chosen): move on.
  let mode = currentRunMode();
  if ($(`#run-mode-${mode}`).disabled) {
    const fallback = RUN_MODES.find((m) => !$(`#run-mode-${m}`).disabled);
    if (fallback) {
      $(`#run-mode-${fallback}`).checked = true;
      toast(`${MODE_LABELS[mode]} mode is not available for ${type} models; switched to ${MODE_LABELS[fallback]}.`, 'warning');
      mode = fallback;
    }
  }
  for (const m of RUN_MODES) $(`#run-mode-${m}-label`).classList.toggle('active', m === mode);

  const info = modeFor(type, mode);
  const help = $('#run-mode-help');
  clear(help);
  help.append(el('span', { class: info.available ? '' : 'error-text', text: info.available ? helpFor(mode, info, type) : info.reason }));
  for (const reason of reasons) {
    if (!reason.startsWith(MODE_LABELS[mode])) help.append(el('span', { class: 'unavailable-reason', text: reason }));
  }

  show($('#remote-settings'), mode === 'remote');
  show($('#local-settings'), mode !== 'remote');
  show($('#venv-field'), mode === 'subprocess' && !info.inprocess);
  // In-process video and audio share device/threads; VAE slicing/tiling and flow shift are video's.
  show($('#inprocess-settings'), info.inprocess && (type === 'video' || type === 'audio'));
  $('#inprocess-title').textContent = `In-process ${type} settings`;
  for (const id of ['#vae-slicing-label', '#vae-tiling-label', '#flow-shift-field']) show($(id), type === 'video');
  applyStartManifest();
  const running = state.status && state.status.state && state.status.state !== 'idle' && state.status.state !== 'failed';
  if (!running) {
    $('#start-btn').textContent = mode === 'remote' ? 'Connect' : 'Start';
    $('#stop-btn').textContent = mode === 'remote' ? 'Disconnect' : 'Stop';
  }
}

/** The serving plugin's start parameters, or null while no plugin serves the choice. */
function startParams() {
  const route = currentRoute();
  return route.plugin && route.plugin.parameters ? route.plugin.parameters.start || {} : null;
}

function fieldOf(id) {
  const input = $(`#${id}`);
  return input.closest('.field') || input.closest('label.check') || input;
}

/**
 * Shows the fixed fields the serving plugin declares (with its bounds), hides the others, and
 * builds controls for the start parameters the page has no field for.
 */
function applyStartManifest() {
  const start = startParams();
  if (start) {
    const declared = new Map();
    for (const [name, id] of Object.entries(FIXED_START)) {
      const d = start[name];
      if (d && typeof d === 'object' && d.operator !== true) declared.set(id, d);
      else if (!declared.has(id)) declared.set(id, null);
    }
    for (const [id, d] of declared) {
      const field = fieldOf(id);
      if (!d) field.hidden = true;
      else if (!MODE_MANAGED.has(id)) field.hidden = false;
      const input = $(`#${id}`);
      if (d && input.type === 'number') {
        for (const key of ['min', 'max', 'step']) {
          if (typeof d[key] === 'number') input.setAttribute(key, String(d[key]));
          else if (key !== 'step') input.removeAttribute(key);
        }
      }
    }
  }
  let box = $('#start-params');
  if (!box) {
    box = el('div', { id: 'start-params', class: 'group' });
    $('#local-settings').after(box);
  }
  const own = Object.entries(start || {}).filter(([name, d]) => !(name in FIXED_START) && isControl(name, d) && d.required !== true);
  const key = JSON.stringify([currentRoute().plugin ? currentRoute().plugin.id : '', own.map(([n]) => n), startRecipeDefaults]);
  if (key === startRenderedFor) return;
  startRenderedFor = key;
  startSpecs = resolveSpecs('start', Object.fromEntries(own), startRecipeDefaults);
  renderParams(box, startSpecs, 'start');
  show(box, startSpecs.length > 0);
}

function helpFor(mode, info, type) {
  const by = info.plugin ? ` (${info.plugin.name || info.plugin.id})` : '';
  if (mode === 'subprocess') {
    return info.inprocess
      ? `Local: the ${type} model is loaded in-process by the host${by}; no Python server is started.`
      : `Subprocess: runs vllm serve <model> --omni on this machine${by}.`;
  }
  if (mode === 'container') return `Container: isolated environment using the vLLM-Omni image${by}.`;
  return `Remote: connect to an existing vLLM-Omni instance${by}.`;
}

/** Rebuilds the model dropdown for the current type, keeping `preferred` selected when present. */
export function renderModels(preferred) {
  const type = currentModelType();
  const select = $('#model-select');
  const previous = preferred || select.value;
  clear(select);
  const models = modelsFor(type);
  for (const m of models) {
    const name = m.name || m.id;
    const label = m.vram && !name.includes(m.vram) ? `${name} (${m.vram})` : name;
    select.append(el('option', { value: m.id, title: m.description || '', text: label }));
  }
  if (previous && !models.some((m) => m.id === previous) && preferred) {
    select.append(el('option', { value: preferred, text: preferred.split('/').pop() }));
  }
  if (previous && Array.from(select.options).some((o) => o.value === previous)) select.value = previous;
  if (!select.options.length) select.append(el('option', { value: '', text: 'No models listed: enter a custom id' }));
  renderModelInfo();
}

export function renderModelInfo() {
  const type = currentModelType();
  const model = currentModel();
  $('#model-id-value').textContent = model || '--';
  const info = modelInfo(type, $('#model-select').value);
  show($('#edit-tip'), type === 'image' && !$('#custom-model').value.trim() && Boolean(info && info.supports_image_edit));
  const tip = MODEL_TYPES.find(([id]) => id === type);
  $('#model-type-tip').textContent = tip ? tip[2] : '';
}

export function supportsImageEdit() {
  if (currentModelType() !== 'image' || $('#custom-model').value.trim()) return false;
  const info = modelInfo('image', $('#model-select').value);
  return Boolean(info && info.supports_image_edit);
}

/**
 * Sets the load settings from a recipe's defaults, falling back to the serving plugin's manifest
 * ("parameters": {"start": {...}}) so an unchecked box never silently overrides a plugin default.
 */
function applyStartDefaults(recipeDefaults = {}) {
  startRecipeDefaults = recipeDefaults || {};
  startRenderedFor = null;
  applyStartManifest();
  const route = modeFor(currentModelType(), currentRunMode());
  const start = (route.plugin && route.plugin.parameters && route.plugin.parameters.start) || {};
  const value = (key, fallback) => {
    const fromRecipe = pick(recipeDefaults, key);
    if (fromRecipe !== undefined) return fromRecipe;
    if (start[key] && start[key].default !== undefined) return start[key].default;
    return fallback;
  };
  $('#cpu-offload').checked = Boolean(pick(recipeDefaults, 'cpu_offload') ?? value('enable_cpu_offload', false));
  const compile = pick(recipeDefaults, 'enable_torch_compile', 'torch_compile');
  $('#torch-compile').checked = compile !== undefined ? Boolean(compile) : value('enforce_eager', true) === false;
  $('#vae-slicing').checked = Boolean(value('vae_use_slicing', false));
  $('#vae-tiling').checked = Boolean(value('vae_use_tiling', false));
  const shift = value('flow_shift', undefined);
  $('#flow-shift').value = shift !== undefined ? shift : '';
  const threads = value('threads', 0);
  $('#threads').value = threads ? threads : '';
}

function onModelTypeChange() {
  if (state.activeRecipe && state.activeRecipe.model_type !== currentModelType()) state.activeRecipe = null;
  renderModels();
  renderRunMode();
  if (!state.activeRecipe) applyStartDefaults({});
  hub.emit('model-type-changed', currentModelType());
  changed();
}

/** Body for /api/omni/start and /api/omni/command-preview. Only meaningful fields are sent. */
export function buildConfig() {
  const type = currentModelType();
  const mode = currentRunMode();
  const route = modeFor(type, mode);
  const model = currentModel();
  const config = { model, model_type: type, run_mode: mode };
  const recipe = state.activeRecipe;
  if (recipe && recipe.model_type === type && recipe.model === model) config.recipe = recipe.id;

  if (mode === 'remote') {
    config.remote_url = $('#remote-url').value.trim();
    const key = $('#remote-api-key').value.trim();
    if (key) config.remote_api_key = key;
    return declaredOnly(config);
  }
  const port = readInt($('#port'), null);
  if (port !== null) config.port = port;
  const tp = readInt($('#tensor-parallel'), null);
  if (tp !== null) config.tensor_parallel_size = tp;
  const mem = readNumber($('#gpu-memory'), null);
  if (mem !== null) config.gpu_memory_utilization = mem;
  const gpu = $('#gpu-device').value.trim();
  if (gpu) config.gpu_device = gpu;
  config.enable_cpu_offload = $('#cpu-offload').checked;
  config.enable_torch_compile = $('#torch-compile').checked;
  const hf = $('#hf-token').value.trim();
  if (hf) config.hf_token = hf;
  if (mode === 'subprocess' && !route.inprocess) {
    const venv = $('#venv-path').value.trim();
    if (venv) config.venv_path = venv;
  }
  if (route.inprocess) {
    config.enforce_eager = !config.enable_torch_compile;
    if (type === 'video') {
      config.vae_use_slicing = $('#vae-slicing').checked;
      config.vae_use_tiling = $('#vae-tiling').checked;
      const shift = readNumber($('#flow-shift'), null);
      if (shift !== null) config.flow_shift = shift;
    }
    const threads = readInt($('#threads'), null);
    if (threads !== null) config.threads = threads;
  }
  return declaredOnly(config);
}

/**
 * Adds the manifest-built start controls' values and keeps only what the serving plugin declares:
 * a setting the page has a field for but the plugin does not take is not sent.
 */
function declaredOnly(config) {
  const box = $('#start-params');
  if (box) Object.assign(config, readParams(box, startSpecs).values);
  const start = startParams();
  if (!start) return config;
  for (const key of Object.keys(config)) if (!START_WIRE.has(key) && !start[key]) delete config[key];
  return config;
}

const pick = (obj, ...keys) => {
  for (const k of keys) if (obj && obj[k] !== undefined && obj[k] !== null) return obj[k];
  return undefined;
};

/**
 * Applies a recipe in the playground's order: the model type first (which rebuilds the model list
 * and the run-mode availability), then the model, then the parameters.
 */
export function applyRecipe(recipe, { quiet = false } = {}) {
  const typeSelect = $('#model-type');
  typeSelect.value = recipe.model_type;
  state.activeRecipe = recipe;
  onModelTypeChange();

  renderModels(recipe.model);
  $('#model-select').value = recipe.model;
  $('#custom-model').value = '';
  renderModelInfo();

  const d = recipe.defaults || {};
  const mem = pick(d, 'gpu_memory_utilization', 'gpu_memory');
  if (mem !== undefined) $('#gpu-memory').value = mem;
  const tp = pick(d, 'tensor_parallel_size');
  if (tp !== undefined) $('#tensor-parallel').value = tp;
  applyStartDefaults(d);
  renderRunMode();
  hub.emit('recipe-applied', recipe);
  changed();

  const hints = recipe.hints || {};
  if (quiet) return;
  if (hints.requires_hf_token && !$('#hf-token').value.trim()) {
    toast('This model requires a HuggingFace token and accepting its license.', 'warning');
    hub.emit('ui-log', { level: 'warning', message: `${recipe.model} needs a HuggingFace token (https://huggingface.co/settings/tokens) and license acceptance (https://huggingface.co/${recipe.model}).` });
  }
  if (hints.container_limitation && currentRunMode() === 'container') {
    toast(`This model may not work in Container mode (${hints.container_limitation}). Use Subprocess mode instead.`, 'warning');
  }
}

/** Reflects a running server's model in the panel after a page reload. */
export function adoptRunningServer(status) {
  if (!status || !status.model_type || !status.model) return;
  const type = currentModelType();
  if (type !== status.model_type) {
    $('#model-type').value = status.model_type;
    renderModels(status.model);
    renderRunMode();
    hub.emit('model-type-changed', status.model_type);
  } else if (currentModel() !== status.model) {
    renderModels(status.model);
  }
  const mode = status.run_mode === 'inprocess' ? 'subprocess' : status.run_mode;
  if (mode && RUN_MODES.includes(mode) && currentRunMode() !== mode) setRunMode(mode);
  if (status.recipe && recipeById(status.recipe)) state.activeRecipe = recipeById(status.recipe);
}

/** The port omnihost itself answers on (the page's own), which a vLLM server cannot also use. */
function ownPort() {
  const port = Number(window.location.port || (window.location.protocol === 'https:' ? 443 : 80));
  return Number.isFinite(port) ? port : null;
}

/** Explains a port clash in the field itself, before a start fails on it. */
export function renderPortHelp() {
  const input = $('#port');
  const help = $('#port-help');
  const port = readInt(input, null);
  const clash = port !== null && port === ownPort();
  input.setAttribute('aria-invalid', clash ? 'true' : 'false');
  help.classList.toggle('error-text', clash);
  help.textContent = clash
    ? `${port} is the port omnihost itself listens on; the vLLM server needs another one (its default is ${VLLM_DEFAULT_PORT})`
    : `Port of the vLLM server omnihost starts (vLLM's default is ${VLLM_DEFAULT_PORT})`;
}

let saving = Promise.resolve();

/** Sends the page's settings to the host, so another browser (or a reload) finds them. */
function persist() {
  const body = { omni_run_mode: currentRunMode(), omni_model_type: currentModelType() };
  for (const [id, key] of Object.entries(PERSISTED)) {
    const value = $(`#${id}`).value.trim();
    if (key === 'omni_port') { const n = readInt($(`#${id}`), null); if (n !== null && n >= 1 && n <= 65535) body[key] = n; }
    else if (key !== 'omni_remote_url' || value === '' || /^https?:\/\//.test(value)) body[key] = value;
  }
  // One save at a time, in order: the last change wins on the host as on the page.
  saving = saving.then(() => apiJson('/api/settings', { method: 'POST', body })).then((saved) => {
    if (saved) catalog.settings = saved;
  }).catch((err) => hub.emit('ui-log', { level: 'warning', message: `Settings not saved: ${err.message}` }));
  return saving;
}

/** Applies the host's saved settings; false when nothing was ever saved (a first visit). */
function restore() {
  const saved = catalog.settings;
  if (!saved || !saved.updated_at) return false;
  for (const [id, key] of Object.entries(PERSISTED)) {
    const value = saved[key];
    if (value !== undefined && value !== null && value !== '') $(`#${id}`).value = String(value);
  }
  if (MODEL_TYPES.some(([t]) => t === saved.omni_model_type)) $('#model-type').value = saved.omni_model_type;
  if (RUN_MODES.includes(saved.omni_run_mode)) $(`#run-mode-${saved.omni_run_mode}`).checked = true;
  return true;
}

/** Called once after the catalog loaded. */
export function initConfigPanel() {
  const typeSelect = $('#model-type');
  clear(typeSelect);
  for (const [id, label] of MODEL_TYPES) typeSelect.append(el('option', { value: id, text: label }));
  const restored = restore();
  renderModels();
  renderRunMode();
  applyStartDefaults({});
  $('#start-params').addEventListener('input', changed);
  $('#start-params').addEventListener('change', changed);
  // First visit: preselect the host's default recipe (the demo that runs here without downloads).
  const preset = !restored && catalog.defaultRecipe ? recipeById(catalog.defaultRecipe) : null;
  if (preset) applyRecipe(preset, { quiet: true });

  typeSelect.addEventListener('change', () => { persist(); onModelTypeChange(); });
  $('#model-select').addEventListener('change', () => {
    if (state.activeRecipe && state.activeRecipe.model !== $('#model-select').value) state.activeRecipe = null;
    renderModelInfo(); hub.emit('model-changed'); changed();
  });
  $('#custom-model').addEventListener('input', () => { renderModelInfo(); hub.emit('model-changed'); changed(); });
  for (const radio of $$('input[name="run-mode"]')) {
    radio.addEventListener('change', () => { renderRunMode(); persist(); hub.emit('run-mode-changed'); changed(); });
  }
  const watched = ['port', 'venv-path', 'hf-token', 'gpu-device', 'tensor-parallel', 'gpu-memory', 'cpu-offload',
    'torch-compile', 'vae-slicing', 'vae-tiling', 'flow-shift', 'threads', 'remote-url', 'remote-api-key'];
  for (const id of watched) {
    $(`#${id}`).addEventListener('input', changed);
    $(`#${id}`).addEventListener('change', () => { if (id in PERSISTED) persist(); changed(); });
  }
  $('#port').addEventListener('input', renderPortHelp);
  renderPortHelp();
  $('#remote-url').addEventListener('keydown', (e) => { if (e.key === 'Enter') $('#start-btn').click(); });
}

/** Re-renders after the catalog is reloaded (e.g. after a token was entered). */
export function refreshConfigPanel() {
  renderModels();
  renderRunMode();
  changed();
}
