// Logs panel: /ws/omni/logs (backlog first, then live frames), coloured levels, auto-scroll,
// save as .txt, clear, reconnect with backoff. Progress frames update one compact line per job
// instead of flooding the panel, and are forwarded on the hub for the progress bars.
import { $, el, clear, hub } from './dom.js';
import { wsUrl, isTokenDeclined } from './api.js';
import { toast } from './toast.js';

const MAX_ENTRIES = 1000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;

let socket = null;
let backoff = BACKOFF_MIN_MS;
let reconnectTimer = null;
let lastSeq = 0;
let firstFrameOfConnection = true;
const seenTimes = new Map(); // seq -> time of recent frames, to tell a replayed backlog from a restarted host
const progressLines = new Map(); // job_id -> entry element

const LEVELS = { trace: 'debug', debug: 'debug', info: 'info', warn: 'warning', warning: 'warning', error: 'error', critical: 'error', err: 'error' };

function timeText(iso) {
  const d = iso ? new Date(iso) : new Date();
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString();
}

function trim(content) {
  while (content.childElementCount > MAX_ENTRIES) {
    const first = content.firstElementChild;
    for (const [job, node] of progressLines) if (node === first) progressLines.delete(job);
    first.remove();
  }
}

function scroll(content) {
  if ($('#auto-scroll').checked) content.scrollTop = content.scrollHeight;
}

/** Adds one line. level: debug|info|warning|error|success; source: who said it. */
export function addLog({ level = 'info', source = 'ui', message = '', time = null }) {
  const content = $('#logs-content');
  const cls = LEVELS[String(level).toLowerCase()] || (level === 'success' ? 'success' : 'info');
  const entry = el('div', { class: `log-entry log-${cls}` },
    el('span', { class: 'log-time', text: `[${timeText(time)}]` }), ' ',
    el('span', { class: 'log-level', text: { success: 'OK', warning: 'WARN', debug: 'DEBUG', error: 'ERROR' }[cls] || 'INFO' }), ' ',
    el('span', { class: 'log-source', text: source }), ' ',
    el('span', { class: 'log-message', text: message }));
  content.append(entry);
  trim(content);
  scroll(content);
  return entry;
}

function progressText(f) {
  const total = Number(f.total) || 0;
  const pct = total > 0 ? ` ${Math.round((100 * f.step) / total)}%` : '';
  const steps = total > 0 ? `${f.step}/${total}` : `${f.step}`;
  return `${f.job_id || 'job'} ${f.phase || ''} ${steps}${pct}${f.message ? ` — ${f.message}` : ''}`;
}

function addProgress(frame) {
  const key = `${frame.job_id}|${frame.phase}`;
  let entry = progressLines.get(key);
  const content = $('#logs-content');
  if (!entry || !entry.isConnected) {
    entry = el('div', { class: 'log-entry log-progress' },
      el('span', { class: 'log-time' }), ' ', el('span', { class: 'log-level', text: 'PROG' }), ' ',
      el('span', { class: 'log-message' }));
    progressLines.set(key, entry);
    content.append(entry);
    trim(content);
  }
  entry.querySelector('.log-time').textContent = `[${timeText(frame.time)}]`;
  entry.querySelector('.log-message').textContent = progressText(frame);
  scroll(content);
}

function onFrame(raw) {
  if (typeof raw !== 'string' || !raw.trim()) return; // keep-alive
  let frame;
  try { frame = JSON.parse(raw); } catch { addLog({ level: 'info', source: 'host', message: raw }); return; }
  if (typeof frame.seq === 'number') {
    if (firstFrameOfConnection && frame.seq <= lastSeq && seenTimes.has(frame.seq) && seenTimes.get(frame.seq) !== frame.time) {
      // Same seq, different time: the host restarted and numbers from 1 again.
      lastSeq = 0;
      seenTimes.clear();
      addLog({ level: 'warning', source: 'logs', message: 'The host restarted; showing its new log.' });
    }
    firstFrameOfConnection = false;
    // After a reconnect the backlog repeats what we have already shown.
    if (frame.seq <= lastSeq) return;
    lastSeq = frame.seq;
    seenTimes.set(frame.seq, frame.time);
    if (seenTimes.size > 4000) seenTimes.delete(seenTimes.keys().next().value);
  }
  if (frame.type === 'progress') {
    addProgress(frame);
    hub.emit('progress', frame);
  } else if (frame.type === 'job') {
    hub.emit('job', frame); // a job's state or progress: the gallery's live view
  } else if (frame.type === 'dropped') {
    addLog({ level: 'warning', source: 'logs', message: `${frame.count} log frames were dropped (client too slow)` });
  } else if (frame.type === 'log' || frame.message !== undefined) {
    addLog({ level: frame.level, source: frame.source || 'host', message: String(frame.message ?? ''), time: frame.time });
    hub.emit('log', frame);
  }
}

function setConn(text, cls) {
  const badge = $('#logs-conn');
  badge.textContent = text;
  badge.dataset.state = cls;
}

export function connectLogs() {
  if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
  clearTimeout(reconnectTimer);
  if (isTokenDeclined()) { setConn('token needed', 'offline'); return; } // the Token button reloads the page
  setConn('connecting', 'connecting');
  let opened = false;
  let ws;
  try { ws = new WebSocket(wsUrl('/ws/omni/logs')); } catch (err) { scheduleReconnect(); return; }
  socket = ws;
  ws.addEventListener('open', () => {
    opened = true;
    firstFrameOfConnection = true;
    backoff = BACKOFF_MIN_MS;
    setConn('live', 'live');
  });
  ws.addEventListener('message', (e) => onFrame(e.data));
  ws.addEventListener('close', () => {
    if (socket !== ws) return;
    socket = null;
    setConn(opened ? 'reconnecting' : 'offline', 'offline');
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(connectLogs, backoff);
  backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
}

/** Reconnect now (e.g. after a token was entered). The backlog is de-duplicated by seq. */
export function reconnectLogs() {
  backoff = BACKOFF_MIN_MS;
  if (socket) { const old = socket; socket = null; old.close(); }
  connectLogs();
}

function saveLogs() {
  const lines = Array.from($('#logs-content').children, (n) => n.textContent);
  if (!lines.length) { toast('No logs to save', 'warning'); return; }
  const blob = new Blob([lines.join('\n') + '\n'], { type: 'text/plain' });
  const url = URL.createObjectURL(blob);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const a = el('a', { href: url, download: `omnihost-logs-${stamp}.txt` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  toast('Logs saved', 'success');
}

export function initLogs() {
  $('#logs-save-btn').addEventListener('click', saveLogs);
  $('#logs-clear-btn').addEventListener('click', () => {
    clear($('#logs-content'));
    progressLines.clear();
  });
  $('#auto-scroll').addEventListener('change', () => scroll($('#logs-content')));
  hub.on('ui-log', (entry) => addLog({ source: 'ui', ...entry }));
  addLog({ level: 'info', source: 'ui', message: 'Waiting for the host log stream...' });
}
