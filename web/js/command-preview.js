// Editable command preview from POST /api/omni/command-preview (the host knows what it will really
// run: vllm serve argv, the podman/docker command, or the in-process load with its settings).
// Once the person edits the text it stops following the settings until Reset or a recipe.
import { $, hub } from './dom.js';
import { apiJson } from './api.js';
import { buildConfig } from './config-panel.js';
import { toast } from './toast.js';

let manuallyEdited = false;
let generation = 0; // drops answers that arrive after a newer request
let timer = null;

// data-settled on the preview box is "true" once no refresh is scheduled or in flight (tests and
// scripts wait on it instead of guessing the debounce).
function markSettled(box, mine) {
  if (mine === generation && timer === null) box.dataset.settled = 'true';
}

function shellQuote(arg) {
  const s = String(arg);
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Text shown for a preview answer: the host's command, else its argv and env rendered for a shell. */
export function previewText(preview) {
  const lines = [];
  const kind = preview.kind || preview.mode || '';
  if (kind) lines.push(`# ${kind === 'inprocess' ? 'In-process load' : `${kind} mode`}${preview.mode && preview.mode !== kind ? ` (${preview.mode})` : ''}`);
  if (typeof preview.command === 'string' && preview.command.trim()) {
    lines.push(preview.command.trimEnd());
  } else {
    for (const [k, v] of Object.entries(preview.env || {})) lines.push(`export ${k}=${shellQuote(v)}`);
    if (Array.isArray(preview.argv) && preview.argv.length) lines.push(preview.argv.map(shellQuote).join(' '));
  }
  const hasCommand = lines.length > (kind ? 1 : 0);
  if (!hasCommand && preview.settings && typeof preview.settings === 'object' && Object.keys(preview.settings).length) {
    lines.push('', '# Settings:');
    for (const [k, v] of Object.entries(preview.settings)) lines.push(`#   ${k} = ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  }
  return lines.join('\n');
}

export async function refreshPreview(force = false) {
  const box = $('#command-text');
  if (manuallyEdited && !force) {
    markSettled(box, generation);
    return;
  }
  const mine = ++generation;
  box.dataset.settled = 'false';
  try {
    const preview = await apiJson('/api/omni/command-preview', { method: 'POST', body: buildConfig() });
    if (mine !== generation || (manuallyEdited && !force)) return;
    box.value = previewText(preview || {});
    box.classList.remove('preview-error');
  } catch (err) {
    if (mine !== generation || (manuallyEdited && !force)) return;
    box.value = `# No command: ${err.message}`;
    box.classList.add('preview-error');
  }
  box.dataset.generation = String(mine);
  markSettled(box, mine);
}

function schedule() {
  clearTimeout(timer);
  $('#command-text').dataset.settled = 'false';
  timer = setTimeout(() => {
    timer = null;
    refreshPreview(false);
  }, 150);
}

async function copy() {
  const text = $('#command-text').value;
  const button = $('#command-copy-btn');
  let ok = false;
  try { await navigator.clipboard.writeText(text); ok = true; } catch {
    const box = $('#command-text');
    box.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
  }
  if (ok) {
    button.textContent = 'Copied!';
    setTimeout(() => { button.textContent = 'Copy'; }, 2000);
    toast('Command copied to clipboard', 'success');
  } else {
    toast('Copy failed: select the text and copy it by hand', 'error');
  }
}

export function initCommandPreview() {
  $('#command-text').addEventListener('input', () => { manuallyEdited = true; });
  $('#command-reset-btn').addEventListener('click', () => {
    manuallyEdited = false;
    refreshPreview(true);
    toast('Command reset to auto-generated', 'info');
  });
  $('#command-copy-btn').addEventListener('click', copy);
  hub.on('config-changed', schedule);
  hub.on('recipe-applied', () => { manuallyEdited = false; });
  // The preview can depend on the host's state (e.g. whether the model files exist yet).
  hub.on('server-state', schedule);
  refreshPreview(true);
}
