// The studio: prompt, negative prompt, seed, the modality's parameters, Generate, a progress bar
// (step i/N and ETA from the progress frames tagged with the job id we send) and Cancel.
import { $, show, readInt, hub, formatSeconds } from './dom.js';
import { apiJson, newJobId } from './api.js';
import { catalog, modeFor, modelInfo } from './catalog.js';
import { state, studioModelType, serverReady } from './state.js';
import { resolveSpecs, taskFor, manifestDefault } from './params.js';
import { renderParams, readParams } from './param-controls.js';
import { currentModel, currentRunMode, supportsImageEdit } from './config-panel.js';
import { trackJob, finishedBeforeCancel } from './gallery.js';
import { toast } from './toast.js';
import { initImageDropzone, imageFields, missingImage, showResultImage } from './image-dropzone.js';

const MODALITY = {
  image: { title: 'Image Generation', button: 'Generate Image', noun: 'Image',
    placeholder: 'Describe the image you want to generate...', endpoint: '/api/omni/generate' },
  video: { title: 'Video Generation', button: 'Generate Video', noun: 'Video',
    placeholder: 'Describe the video you want to generate...', endpoint: '/api/omni/generate-video' },
  tts: { title: 'Text-to-Speech', button: 'Generate Speech', noun: 'Speech',
    placeholder: 'Enter the text you want to convert to speech...', endpoint: '/api/omni/generate-tts' },
  audio: { title: 'Audio Generation (Music/SFX)', button: 'Generate Audio', noun: 'Audio',
    placeholder: 'Describe the music or sound you want to generate...', endpoint: '/api/omni/generate-audio' },
  omni: { title: 'Omni Chat', button: 'Send', noun: 'Reply', placeholder: '', endpoint: '/api/omni/chat' },
};

let specs = [];
let renderedFor = '';
let limitsSeen = 'null'; // the status.limits the form was last checked against
let job = null; // {id, started, phase, phaseStart, phaseStep0, inprocess}
let inputImage = null; // data URL for image edit

/** The manifest of the plugin serving (or about to serve) the studio's model type. */
function servingPlugin(type) {
  const s = state.status;
  if (s && s.plugin && s.model_type === type) {
    const p = catalog.plugins.find((x) => x.id === s.plugin);
    if (p) return p;
  }
  return modeFor(type, currentRunMode()).plugin;
}

function isInprocess(type) {
  const s = state.status;
  if (s && s.model_type === type && s.run_mode) return s.run_mode === 'inprocess';
  const plugin = servingPlugin(type);
  return Boolean(plugin && plugin.kind === 'inprocess');
}

/** Rebuilds the form for the studio's model type (and the applied recipe's defaults). */
export function renderStudio(force = false) {
  const type = studioModelType();
  const plugin = servingPlugin(type);
  const recipe = state.activeRecipe && state.activeRecipe.model_type === type ? state.activeRecipe : null;
  const key = `${type}|${plugin ? plugin.id : ''}|${recipe ? recipe.id : ''}`;
  const m = MODALITY[type] || MODALITY.image;
  $('#studio-title-text').textContent = m.title;
  const chat = type === 'omni';
  show($('#generation-form'), !chat);
  show($('#chat-panel'), chat);
  if (!chat) {
    $('#prompt').placeholder = m.placeholder;
    $('#prompt-label').textContent = type === 'tts' ? 'Text' : 'Prompt';
    show($('#negative-field'), type !== 'tts');
    show($('#seed-field'), type !== 'tts');
    const negative = plugin && plugin.parameters ? manifestDefault(plugin.parameters[taskFor(type)], 'negative_prompt') : undefined;
    $('#negative-prompt').placeholder = negative ? `Negative prompt (default: ${negative})` : 'Negative prompt (optional)...';
    const edit = supportsImageEdit();
    show($('#image-edit'), edit);
    if (!edit) clearImage();
  }
  // The operator's limits (status.limits) cap the controls; they only redraw the form when they
  // change what it shows, so values already typed survive the first status poll.
  const manifestParams = plugin && plugin.parameters ? plugin.parameters[taskFor(type)] : undefined;
  const limits = state.status ? state.status.limits : undefined;
  // A model that needs larger size steps (Wan2.2 TI2V-5B: 32) says so in its recipe or catalogue entry.
  const model = modelInfo(type, currentModel());
  const sizeMultiple = (recipe && recipe.hints && recipe.hints.size_multiple) || (model && model.size_multiple);
  const next = resolveSpecs(type, manifestParams, recipe ? recipe.defaults : null, limits, sizeMultiple);
  if (force || key !== renderedFor || JSON.stringify(next) !== JSON.stringify(specs)) {
    specs = next;
    renderParams($(chat ? '#chat-params' : '#params'), specs);
    renderedFor = key;
  }
  updateButtons();
}

/** The controls on show (the chat's too): what readParams reads back. */
export function currentSpecs() {
  return specs;
}

function updateButtons() {
  const type = studioModelType();
  const m = MODALITY[type] || MODALITY.image;
  const ready = serverReady();
  const gen = $('#generate-btn');
  gen.disabled = !ready || state.busy;
  gen.classList.toggle('btn-ready', ready && !state.busy);
  gen.textContent = job ? 'Generating...' : m.button;
  gen.title = ready ? '' : (state.status && state.status.state === 'starting' ? 'The model is still loading' : 'Start a model first');
  $('#chat-send-btn').disabled = !ready || state.busy;
  show($('#cancel-btn'), Boolean(job)); // a queued job can always be cancelled; a running one when its plugin listens
}

function setError(message) {
  const box = $('#gen-error');
  box.textContent = message || '';
  show(box, Boolean(message));
}

function renderProgress(frame) {
  if (!job) return;
  const now = performance.now();
  const total = Number(frame.total) || 0;
  const step = Number(frame.step) || 0;
  if (frame.phase !== job.phase) { job.phase = frame.phase; job.phaseStart = now; job.phaseStep0 = step; }
  const bar = $('#gen-progress-bar');
  if (total > 0) { bar.max = total; bar.value = Math.min(step, total); } else bar.removeAttribute('value');
  const parts = [frame.phase || 'working'];
  if (total > 0) parts.push(`step ${step}/${total}`);
  const done = step - job.phaseStep0;
  if (total > 0 && done > 0 && step < total) {
    const perStep = (now - job.phaseStart) / 1000 / done;
    parts.push(`ETA ${formatSeconds(perStep * (total - step))}`);
  }
  parts.push(`elapsed ${formatSeconds((now - job.started) / 1000)}`);
  if (frame.message) parts.push(frame.message);
  $('#gen-progress-text').textContent = parts.join(' · ');
}

function buildRequest(type, prompt, values) {
  const negative = $('#negative-prompt').value.trim();
  const seed = readInt($('#seed'), null);
  const body = {};
  // Fields left out take the plugin's manifest defaults on the host.
  if (type === 'tts') return Object.assign(body, { text: prompt, ...values });
  Object.assign(body, type === 'audio' ? { text: prompt, ...values } : { prompt, ...values });
  if (negative) body.negative_prompt = negative;
  if (seed !== null) body.seed = seed;
  if (type === 'image' && inputImage) body.input_image = inputImage;
  if (type === 'video') Object.assign(body, imageFields());
  return body;
}

async function generate() {
  const type = studioModelType();
  if (type === 'omni' || state.busy) return;
  if (!serverReady()) {
    toast(state.status && state.status.state === 'starting' ? 'The model is still loading, please wait...' : 'Please start a model first', 'warning');
    return;
  }
  const prompt = $('#prompt').value.trim();
  if (!prompt) {
    toast(type === 'tts' ? 'Please enter text to synthesize' : 'Please enter a prompt', 'warning');
    $('#prompt').focus();
    return;
  }
  const { values, errors } = readParams($('#params'), specs);
  if (type === 'video' && missingImage()) errors.push(missingImage());
  if (errors.length) { setError(errors.join('; ')); return; }
  setError('');
  const body = buildRequest(type, prompt, values);
  const jobId = newJobId(type);
  body.job_id = jobId;
  const now = performance.now();
  job = { id: jobId, started: now, phase: null, phaseStart: now, phaseStep0: 0, inprocess: isInprocess(type) };
  state.busy = true;
  show($('#gen-progress'), true);
  $('#gen-progress-bar').value = 0;
  $('#gen-progress-text').textContent = 'queued';
  updateButtons();
  hub.emit('ui-log', { level: 'info', message: `Generating ${type} (job ${jobId})...` });
  const seed = body.seed;
  try {
    // A job: queued on the host (its gallery tile appears at once), run when the slot is free.
    const queued = await apiJson('/api/jobs', { method: 'POST', body: { ...body, task: type } });
    const answer = await trackJob(queued.id, { task: type, type: type === 'tts' || type === 'audio' ? 'audio' : type, prompt,
      seed: Number.isFinite(seed) ? seed : undefined, model: state.status && state.status.model });
    if (answer.state === 'cancelled') throw Object.assign(new Error('cancelled'), { cancelled: true });
    if (answer.state !== 'succeeded') throw new Error(answer.error || `the job ended ${answer.state}`);
    if (type === 'video') showResultImage(answer.metadata);
    const t = Number(answer.generationTime);
    toast(`${MODALITY[type].noun} generated${Number.isFinite(t) ? ` in ${t.toFixed(1)}s` : ''}`, 'success');
    hub.emit('ui-log', { level: 'success', message: `${MODALITY[type].noun} generated (job ${jobId})` });
  } catch (err) {
    if (err.cancelled || (err.status === 409 && /cancel/i.test(err.message))) {
      setError('Generation cancelled.');
      toast('Generation cancelled', 'info');
    } else {
      setError(`Generation failed: ${err.message}`);
      toast(`Generation failed: ${err.message}`, 'error', 8000);
      hub.emit('ui-log', { level: 'error', message: `Generation failed: ${err.message}` });
    }
  } finally {
    job = null;
    state.busy = false;
    show($('#gen-progress'), false);
    updateButtons();
  }
}

async function cancel() {
  if (!job) return;
  const { id } = job; // the job may end (and `job` be cleared) while the DELETE is on its way
  const button = $('#cancel-btn');
  button.disabled = true;
  try {
    await apiJson(`/api/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (job && job.id === id) $('#gen-progress-text').textContent = 'cancelling...';
  } catch (err) {
    // 409 already_finished: DELETE only cancels, so a job that just finished keeps its result,
    // which generate() shows once trackJob hears the end; that is no failure.
    if (!finishedBeforeCancel(id, err)) toast(`Cancel failed: ${err.message}`, 'error');
  } finally {
    button.disabled = false;
  }
}

function clearImage() {
  inputImage = null;
  $('#image-input').value = '';
  show($('#image-preview'), false);
}

function takeImage(file) {
  if (!file) return;
  if (!file.type.startsWith('image/')) { toast('Please upload an image file', 'warning'); return; }
  const reader = new FileReader();
  reader.onload = () => {
    inputImage = reader.result;
    $('#image-preview-img').src = inputImage;
    show($('#image-preview'), true);
    toast('Image uploaded for image-to-image generation', 'success');
  };
  reader.readAsDataURL(file);
}

function initDropzone() {
  const zone = $('#dropzone');
  const input = $('#image-input');
  zone.addEventListener('click', () => input.click());
  zone.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('dragover'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragover'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragover');
    takeImage(e.dataTransfer.files[0]);
  });
  input.addEventListener('change', () => takeImage(input.files[0]));
  $('#image-clear-btn').addEventListener('click', clearImage);
}

export function initStudio() {
  $('#generate-btn').addEventListener('click', generate);
  $('#cancel-btn').addEventListener('click', cancel);
  $('#prompt').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); generate(); }
  });
  $('#seed-random-btn').addEventListener('click', () => { $('#seed').value = String(Math.floor(Math.random() * 2 ** 31)); });
  initDropzone();
  initImageDropzone($('#params'), studioModelType);
  hub.on('progress', (frame) => { if (job && frame.job_id === job.id) renderProgress(frame); });
  hub.on('status', (s) => {
    // Polling fallback for the bar when the log socket is down: the status carries the job.
    if (job && s.job && s.job.id === job.id && Number.isFinite(s.job.step)) renderProgress(s.job);
    // The operator's limits arrive with the status: redraw if they cap what the form shows.
    const limitsNow = JSON.stringify(s.limits || null);
    if (limitsNow !== limitsSeen) { limitsSeen = limitsNow; renderStudio(); }
    updateButtons();
  });
  hub.on('server-state', () => renderStudio());
  hub.on('model-type-changed', () => {
    $('#prompt').value = '';
    $('#negative-prompt').value = '';
    renderStudio();
  });
  hub.on('model-changed', () => renderStudio());
  hub.on('run-mode-changed', () => renderStudio());
  hub.on('recipe-applied', () => renderStudio(true));
  renderStudio(true);
}
