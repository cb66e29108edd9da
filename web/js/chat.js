// Omni chat over SSE (POST /api/omni/chat): text deltas stream into the assistant bubble, audio
// parts become players, and {"error"} events are shown in the bubble (never swallowed).
import { $, el, clear, hub } from './dom.js';
import { apiFetch, ApiError } from './api.js';
import { readSse } from './sse.js';
import { state, serverReady } from './state.js';
import { readParams } from './param-controls.js';
import { currentSpecs } from './studio.js';
import { base64ToBlob } from './gallery.js';
import { toast } from './toast.js';

const WELCOME = 'Chat with the omni model. Text in, text and audio out.';
let history = [];
let controller = null;

function bubble(role, text) {
  const node = el('div', { class: `chat-msg chat-${role}` },
    el('span', { class: 'chat-role', text: role === 'user' ? 'You' : role === 'assistant' ? 'Assistant' : 'System' }),
    el('div', { class: 'chat-text', text }));
  $('#chat-messages').append(node);
  node.scrollIntoView({ block: 'end' });
  return node;
}

function reset() {
  history = [];
  clear($('#chat-messages'));
  bubble('system', WELCOME);
}

async function send() {
  const input = $('#chat-input');
  const text = input.value.trim();
  if (!text || state.busy) return;
  if (!serverReady()) { toast('Please start an omni model first', 'warning'); return; }
  input.value = '';
  history.push({ role: 'user', content: text });
  bubble('user', text);
  const reply = bubble('assistant', '');
  const textNode = reply.querySelector('.chat-text');
  textNode.classList.add('streaming');
  let answer = '';
  let errorText = '';
  state.busy = true;
  hub.emit('status', state.status || {});
  $('#chat-stop-btn').hidden = false;
  controller = new AbortController();
  const { values } = readParams($('#chat-params'), currentSpecs());
  try {
    const response = await apiFetch('/api/omni/chat', {
      method: 'POST', signal: controller.signal,
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify({ messages: history, ...values }), // the plugin's manifest defaults fill the rest
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new ApiError(response.status, body, response.statusText);
    }
    await readSse(response, (event) => {
      if (event.error) {
        errorText = typeof event.error === 'string' ? event.error : JSON.stringify(event.error);
        return;
      }
      if (typeof event.text === 'string') {
        answer += event.text;
        textNode.textContent = answer;
      }
      if (event.audio) {
        const mime = event.audio_format || 'audio/wav';
        const url = URL.createObjectURL(base64ToBlob(event.audio, mime));
        reply.append(el('audio', { controls: true, src: url, class: 'chat-inline-audio' }));
      }
    });
  } catch (err) {
    errorText = err.name === 'AbortError' ? 'Stopped.' : err.message;
  } finally {
    controller = null;
    state.busy = false;
    $('#chat-stop-btn').hidden = true;
    textNode.classList.remove('streaming');
    hub.emit('status', state.status || {});
  }
  if (errorText) {
    reply.classList.add('chat-error');
    reply.append(el('div', { class: 'error-text', text: `Error: ${errorText}` }));
    if (errorText !== 'Stopped.') toast(`Chat error: ${errorText}`, 'error');
  }
  if (!answer && !errorText && !reply.querySelector('audio')) textNode.textContent = 'No response received';
  if (answer) history.push({ role: 'assistant', content: answer });
}

function exportChat() {
  if (!history.length) { toast('No chat history to export', 'warning'); return; }
  const data = JSON.stringify({ timestamp: new Date().toISOString(), model: state.status && state.status.model, messages: history }, null, 2);
  const url = URL.createObjectURL(new Blob([data], { type: 'application/json' }));
  const a = el('a', { href: url, download: `omnihost-chat-${Date.now()}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function initChat() {
  reset();
  $('#chat-send-btn').addEventListener('click', send);
  $('#chat-stop-btn').addEventListener('click', () => controller && controller.abort());
  $('#chat-clear-btn').addEventListener('click', reset);
  $('#chat-export-btn').addEventListener('click', exportChat);
  $('#chat-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); send(); }
  });
}
