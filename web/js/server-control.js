// Start / Stop and the status dot. /api/omni/status is polled (fast while starting) and is the
// truth; load progress frames from the log socket only make the bar move between polls.
import { $, el, clear, show, hub } from './dom.js';
import { apiJson } from './api.js';
import { state } from './state.js';
import { buildConfig, currentRunMode, adoptRunningServer, renderRunMode } from './config-panel.js';
import { toast } from './toast.js';
import { deviceMemoryText } from './device-memory.js';

const POLL_FAST_MS = 700;
const POLL_SLOW_MS = 2000;
let pollTimer = null;
let lastState = null;
let actionInFlight = false;

const LABELS = {
  idle: 'Offline', starting: 'Starting...', ready: 'Ready', stopping: 'Stopping...', failed: 'Failed',
  unreachable: 'Host unreachable',
};

function statusLabel(s) {
  const remote = s.run_mode === 'remote';
  if (s.state === 'starting' && remote) return 'Connecting...';
  if (s.backendPending) return 'Waiting for the model server...';
  if (s.state === 'ready' && remote) return 'Connected (Remote)';
  return LABELS[s.state] || s.state || 'Offline';
}

function renderLoad(load) {
  const box = $('#load-progress');
  if (!load) { show(box, false); return; }
  show(box, true);
  const bar = $('#load-progress-bar');
  const total = Number(load.total) || 0;
  const step = Number(load.step) || 0;
  if (total > 0) { bar.max = total; bar.value = Math.min(step, total); } else { bar.removeAttribute('value'); }
  const parts = [load.phase || 'load'];
  if (total > 0) parts.push(`${step}/${total}`);
  if (load.message) parts.push(load.message);
  $('#load-progress-text').textContent = parts.join(' · ');
}

let remoteHealth = null; // last /api/omni/health answer while connected to a remote
let remoteHealthAt = 0;

/** The host's health answer fills the panel while the status carries no plugin health object. */
async function refreshRemoteHealth() {
  try { remoteHealth = await apiJson('/api/omni/health'); } catch (err) { remoteHealth = { ready: false, error: err.message }; }
  remoteHealthAt = Date.now();
  if (state.status) renderRemoteInfo(state.status);
}

function renderRemoteInfo(s) {
  const panel = $('#remote-server-info');
  const connected = s && s.run_mode === 'remote' && (s.state === 'ready' || s.state === 'starting');
  if (!connected) { show(panel, false); remoteHealth = null; return; }
  const info = s.remote || s.remote_info || (s.health && typeof s.health === 'object' ? s.health : {});
  if (Date.now() - remoteHealthAt > 10000) { remoteHealthAt = Date.now(); refreshRemoteHealth(); }
  show(panel, true);
  let health = info.health ?? info.healthy ?? info.ready;
  if (health === undefined && remoteHealth) health = Boolean(remoteHealth.ready);
  const healthNode = $('#remote-info-health');
  healthNode.textContent = health === undefined ? '--' : (health ? '● Healthy' : '● Unhealthy');
  healthNode.className = health ? 'ok-text' : 'error-text';
  const detail = remoteHealth && (remoteHealth.message || remoteHealth.error);
  healthNode.title = detail || '';
  const models = Array.isArray(info.models) && info.models.length ? info.models : (s.model ? [s.model] : []);
  const list = clear($('#remote-info-models'));
  if (!models.length) list.textContent = '--';
  for (const m of models) list.append(el('code', { text: typeof m === 'string' ? m : m.id }), ' ');
  const first = models.find((m) => typeof m === 'object') || {};
  const ctx = info.max_model_len ?? first.max_model_len;
  $('#remote-info-context').textContent = Number.isFinite(ctx) ? `${ctx.toLocaleString()} tokens` : 'N/A';
  $('#remote-info-root').textContent = info.root ?? first.root ?? s.model ?? '--';
}

export function renderStatus(s) {
  state.status = s;
  let st = s.state || (s.ready ? 'ready' : s.running ? 'starting' : 'idle');
  // The slot is up but the backend behind it (e.g. vllm serve still loading) is not ready yet.
  if (st === 'ready' && s.ready === false) { st = 'starting'; s.backendPending = true; }
  s.state = st;
  for (const dot of [$('#status-dot'), $('#header-status-dot')]) dot.dataset.state = st;
  const label = statusLabel(s);
  // Device memory of an in-process model (peak of the last job, else of the load).
  const memory = st === 'ready' ? deviceMemoryText(s.device_memory) : null;
  $('#status-text').textContent = label;
  const memoryNode = $('#status-memory');
  memoryNode.textContent = memory ? `· ${memory.short}` : '';
  memoryNode.title = memory ? memory.long : '';
  show(memoryNode, Boolean(memory));
  const model = s.model ? ` — ${s.model}` : '';
  $('#header-status-text').textContent = st === 'ready' || st === 'starting' ? `${label}${model}` : label;
  $('#status-text').title = [s.uptime ? `Uptime ${s.uptime}` : '', memory ? memory.long : ''].filter(Boolean).join('\n');

  const err = $('#status-error');
  err.textContent = st === 'failed' && s.error ? s.error : '';
  show(err, st === 'failed' && Boolean(s.error));
  renderLoad(st === 'starting' ? (s.load || { phase: 'starting' }) : null);

  const active = st === 'starting' || st === 'ready' || st === 'stopping';
  $('#start-btn').disabled = active || actionInFlight;
  $('#stop-btn').disabled = !(st === 'starting' || st === 'ready') || actionInFlight;
  if (!actionInFlight) {
    const remote = active ? s.run_mode === 'remote' : currentRunMode() === 'remote';
    $('#start-btn').textContent = remote ? 'Connect' : 'Start';
    $('#stop-btn').textContent = remote ? 'Disconnect' : 'Stop';
  }
  renderRemoteInfo(s);

  if (st !== lastState) {
    if (lastState === null && active) adoptRunningServer(s);
    if (st === 'ready' && lastState && lastState !== 'ready') {
      toast(s.run_mode === 'remote' ? 'Connected to remote vLLM-Omni' : 'Model is ready', 'success');
    }
    if (st === 'failed' && lastState && lastState !== 'failed') toast(`Start failed: ${s.error || 'unknown reason'}`, 'error', 8000);
    lastState = st;
    hub.emit('server-state', s);
    renderRunMode();
  }
  hub.emit('status', s);
}

export async function pollStatus() {
  clearTimeout(pollTimer);
  try {
    renderStatus(await apiJson('/api/omni/status'));
  } catch (err) {
    if (err.status === 401) renderStatus({ state: 'idle', error: null });
    else renderStatus({ state: 'unreachable', error: err.message });
  }
  const fast = state.status && (state.status.state === 'starting' || state.status.state === 'stopping' || state.status.job);
  pollTimer = setTimeout(pollStatus, fast ? POLL_FAST_MS : POLL_SLOW_MS);
}

async function start() {
  const config = buildConfig();
  if (config.run_mode === 'remote' && !config.remote_url) {
    toast('Please enter the remote vLLM-Omni URL', 'error');
    $('#remote-url').focus();
    return;
  }
  if (config.run_mode !== 'remote' && !config.model) {
    toast('Please choose a model or enter a custom model id', 'error');
    $('#custom-model').focus();
    return;
  }
  actionInFlight = true;
  const button = $('#start-btn');
  button.disabled = true;
  button.textContent = config.run_mode === 'remote' ? 'Connecting...' : 'Starting...';
  hub.emit('ui-log', { level: 'info', message: `Starting ${config.model_type} model ${config.model || ''} (${config.run_mode})...` });
  try {
    const answer = await apiJson('/api/omni/start', { method: 'POST', body: config });
    hub.emit('ui-log', { level: 'info', message: `Start accepted: ${answer && answer.mode ? `${answer.mode} mode` : ''}${answer && answer.plugin ? ` via ${answer.plugin}` : ''}` });
  } catch (err) {
    const where = err.field ? ` (field: ${err.field})` : '';
    toast(`Failed to start: ${err.message}${where}`, 'error', 8000);
    hub.emit('ui-log', { level: 'error', message: `Failed to start: ${err.message}${where}` });
    const box = $('#status-error');
    box.textContent = `${err.message}${where}`;
    show(box, true);
  } finally {
    actionInFlight = false;
    pollStatus();
  }
}

async function stop() {
  actionInFlight = true;
  const button = $('#stop-btn');
  button.disabled = true;
  button.textContent = state.status && state.status.run_mode === 'remote' ? 'Disconnecting...' : 'Stopping...';
  try {
    await apiJson('/api/omni/stop', { method: 'POST', body: {} });
    toast('Stopped', 'info');
  } catch (err) {
    toast(`Failed to stop: ${err.message}`, 'error');
  } finally {
    actionInFlight = false;
    pollStatus();
  }
}

export function initServerControl() {
  $('#start-btn').addEventListener('click', start);
  $('#stop-btn').addEventListener('click', stop);
  // Load progress frames move the bar between polls.
  hub.on('progress', (frame) => {
    const s = state.status;
    if (s && s.state === 'starting' && (frame.phase === 'load' || (s.load && s.load.job_id === frame.job_id))) {
      renderLoad(frame);
    }
  });
  pollStatus();
}
