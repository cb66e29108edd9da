// Gallery: the host's job history, newest first, one tile per job. A queued or running job shows
// a progress bar (step i/N, ETA) and Cancel; a finished one its player, a lightbox, download with
// a meaningful name, and delete. Jobs from any browser or API client appear live ("job" frames on
// the log WebSocket, with polling as a fallback); older history loads page by page.
import { $, el, clear, show, hub, formatSeconds } from './dom.js';
import { galleryStore, itemFromJob } from './gallery-store.js';
import { downloadName } from './filename.js';
import { toast } from './toast.js';

const items = [];          // newest first (by creation)
const urls = new Map();    // id -> object URL of the output
const waiters = new Map(); // id -> [resolve] for trackJob()
let nextBefore = null;     // cursor of the next (older) page
let total = 0;
let pollTimer = null;
const pendingLookups = new Set(); // ids being fetched after a frame about an unknown job

const PENDING = new Set(['queued', 'running']);
const isPending = (item) => PENDING.has(item.state);

function releaseUrl(id) {
  const url = urls.get(id);
  if (url) URL.revokeObjectURL(url);
  urls.delete(id);
}

function renderCount() {
  const n = items.length;
  $('#gallery-count').textContent = `${n} item${n === 1 ? '' : 's'}`;
  show($('#gallery-placeholder'), n === 0);
  const more = $('#gallery-more-btn');
  if (more) show(more, Boolean(nextBefore));
}

function download(item) {
  const a = el('a', { href: urls.get(item.id), download: downloadName(item) });
  document.body.append(a);
  a.click();
  a.remove();
}

function describe(item) {
  const bits = [item.task || item.type];
  if (Number.isFinite(item.seed)) bits.push(`seed ${item.seed}`);
  if (Number.isFinite(item.duration) && item.duration > 0) bits.push(`${item.duration.toFixed(1)}s`);
  if (Number.isFinite(item.generationTime)) bits.push(`made in ${item.generationTime.toFixed(1)}s`);
  return bits.join(' · ');
}

function mediaFor(item, inLightbox) {
  const src = urls.get(item.id);
  if (item.type === 'video') {
    const video = el('video', { src, playsinline: true, preload: 'metadata', class: 'tile-media' });
    video.muted = true;
    video.loop = true;
    if (inLightbox) { video.controls = true; video.autoplay = true; }
    else {
      video.addEventListener('mouseenter', () => video.play().catch(() => {}));
      video.addEventListener('mouseleave', () => { video.pause(); video.currentTime = 0; });
    }
    return video;
  }
  if (item.type === 'image') return el('img', { src, alt: item.prompt || 'generated image', class: 'tile-media' });
  return el('audio', { src, controls: true, preload: 'metadata', class: 'tile-audio' });
}

function openLightbox(item) {
  const dialog = $('#lightbox');
  const body = clear($('#lightbox-body'));
  body.append(mediaFor(item, true));
  $('#lightbox-caption').textContent = `${item.prompt || ''} (${describe(item)})`;
  const link = $('#lightbox-download');
  link.href = urls.get(item.id);
  link.download = downloadName(item);
  dialog.showModal();
}

function closeLightbox() {
  const dialog = $('#lightbox');
  for (const m of dialog.querySelectorAll('video, audio')) m.pause();
  if (dialog.open) dialog.close();
}

function progressText(item) {
  if (item.state === 'queued') return item.position ? `queued (#${item.position})` : 'queued';
  const p = item.progress || {};
  const parts = [p.phase || 'running'];
  if (p.total > 0) parts.push(`step ${p.step}/${p.total}`);
  if (Number.isFinite(p.eta_s) && p.eta_s > 0) parts.push(`ETA ${formatSeconds(p.eta_s)}`);
  return parts.join(' · ');
}

function pendingTile(item) {
  const bar = el('progress', { class: 'tile-progress', max: 1 });
  const p = item.progress || {};
  if (item.state === 'running' && p.total > 0) { bar.max = p.total; bar.value = Math.min(p.step, p.total); }
  else bar.removeAttribute('value');
  return [
    el('p', { class: 'tile-caption', title: item.prompt || '', text: (item.prompt || '').slice(0, 80) }),
    bar,
    el('p', { class: 'tile-meta tile-progress-text', text: progressText(item) }),
    el('div', { class: 'tile-actions' },
      el('button', { type: 'button', class: 'btn small danger tile-delete', text: 'Cancel', onclick: () => removeItem(item.id) })),
  ];
}

function finishedTile(item) {
  if (item.state === 'failed' || !urls.has(item.id)) {
    const why = item.state === 'failed' ? `failed: ${item.error || 'unknown error'}` : 'output no longer stored';
    return [
      el('p', { class: 'tile-caption', title: item.prompt || '', text: (item.prompt || '').slice(0, 80) }),
      el('p', { class: 'tile-meta tile-error', text: why }),
      el('div', { class: 'tile-actions' },
        el('button', { type: 'button', class: 'btn small danger tile-delete', text: 'Delete', onclick: () => removeItem(item.id) })),
    ];
  }
  const media = mediaFor(item, false);
  const open = el('button', { type: 'button', class: 'tile-open', 'aria-label': `Open ${item.type}: ${item.prompt || ''}`,
    onclick: () => openLightbox(item) }, media.tagName === 'AUDIO' ? el('span', { text: 'Open' }) : media);
  return [
    media.tagName === 'AUDIO' ? el('div', { class: 'tile-audio-wrap' }, media) : null,
    open,
    el('p', { class: 'tile-caption', title: item.prompt || '', text: (item.prompt || '').slice(0, 80) }),
    el('p', { class: 'tile-meta', text: describe(item) }),
    el('div', { class: 'tile-actions' },
      el('button', { type: 'button', class: 'btn small tile-download', text: 'Download', onclick: () => download(item) }),
      el('button', { type: 'button', class: 'btn small danger tile-delete', text: 'Delete', onclick: () => removeItem(item.id) })),
  ];
}

function nodeFor(id) { return $(`#gallery-grid li[data-id="${CSS.escape(id)}"]`); }

function render(item) {
  let node = nodeFor(item.id);
  const fresh = !node;
  if (fresh) node = el('li', {});
  node.className = `gallery-tile tile-${item.type}${isPending(item) ? ' tile-pending' : ''}`;
  node.dataset.id = item.id;
  node.dataset.type = item.type;
  node.dataset.state = item.state;
  node.replaceChildren(...(isPending(item) ? pendingTile(item) : finishedTile(item)).filter(Boolean));
  if (fresh) {
    // Keep creation order: newest first.
    const index = items.indexOf(item);
    const after = index > 0 ? nodeFor(items[index - 1].id) : null;
    if (after) after.after(node); else $('#gallery-grid').prepend(node);
  }
}

/** Fetches a finished job's output before its tile shows it, so the player always has a source. */
async function settle(item) {
  if (item.state === 'succeeded' && !item.evicted && !urls.has(item.id)) {
    try { urls.set(item.id, URL.createObjectURL(await galleryStore.output(item.id))); } catch { /* shown as gone */ }
  }
}

function place(item) {
  const at = items.findIndex((i) => i.id === item.id);
  if (at >= 0) { Object.assign(items[at], item); return items[at]; }
  let index = items.findIndex((i) => i.createdAt < item.createdAt);
  if (index < 0) index = items.length;
  items.splice(index, 0, item);
  return item;
}

function drop(id) {
  const at = items.findIndex((i) => i.id === id);
  if (at >= 0) items.splice(at, 1);
  const node = nodeFor(id);
  if (node) node.remove();
  releaseUrl(id);
  renderCount();
}

function resolveWaiters(item) {
  const list = waiters.get(item.id);
  if (!list || isPending(item)) return;
  waiters.delete(item.id);
  for (const resolve of list) resolve(item);
}

/** Applies a job's new state (from an event, a poll or a page). Cancelled jobs leave the gallery. */
async function update(item) {
  if (item.state === 'cancelled') { drop(item.id); resolveWaiters(item); return; }
  await settle(item);
  const placed = place(item);
  render(placed);
  renderCount();
  resolveWaiters(placed);
}

function onJobFrame(frame) {
  if (!frame || !frame.job || !frame.job.id) return;
  lastHeard.set(frame.job.id, Date.now());
  if (frame.event === 'removed') { drop(frame.job.id); return; }
  const known = items.find((i) => i.id === frame.job.id);
  if (frame.event === 'progress') {
    if (!known || !isPending(known)) return;
    known.state = 'running';
    known.progress = frame.job.progress;
    render(known);
    return;
  }
  if (!known) {
    // A job this page has not seen: frames may be replayed from the log's backlog (a job since
    // deleted, or long finished), so the host's record decides what is shown.
    if (!pendingLookups.has(frame.job.id)) {
      pendingLookups.add(frame.job.id);
      galleryStore.get(frame.job.id).then(update).catch(() => {}).finally(() => pendingLookups.delete(frame.job.id));
    }
    return;
  }
  const item = itemFromJob(frame.job);
  if (!isPending(known) && isPending(item)) return; // a late frame of an older state
  if (item.prompt === undefined) item.prompt = known.prompt;
  update(item);
}

// When each pending job last had a "job" frame. Frames come for this host's jobs and (with a
// shared PostgreSQL database) for other hosts' jobs as they happen; the poll only covers tiles
// that heard nothing lately (no log socket, or a queued job whose place moved).
const lastHeard = new Map();
const HEARD_RECENTLY_MS = 5000;

async function poll() {
  const now = Date.now();
  const quiet = items.filter((i) => isPending(i) && now - (lastHeard.get(i.id) || 0) > HEARD_RECENTLY_MS);
  for (const id of lastHeard.keys()) if (!items.some((i) => i.id === id && isPending(i))) lastHeard.delete(id);
  for (const item of quiet) {
    try { await update(await galleryStore.get(item.id)); } catch (err) { if (err.status === 404) drop(item.id); }
  }
}

/**
 * A job the page just submitted: its tile appears at once (queued); the promise resolves with the
 * job's item when it has ended (succeeded, failed or cancelled).
 */
export function trackJob(id, hint = {}) {
  const promise = new Promise((resolve) => {
    if (!waiters.has(id)) waiters.set(id, []);
    waiters.get(id).push(resolve);
  });
  if (!items.some((i) => i.id === id)) {
    update({ id, jobId: id, state: 'queued', createdAt: Date.now(), progress: null, position: null, error: '', ...hint });
  }
  galleryStore.get(id).then(update).catch(() => {});
  return promise;
}

/**
 * A cancel answered 409 already_finished: the job ended before the cancel reached it, and its
 * result is kept. Says so (not as an error) and shows the result: the tile, and whoever awaits
 * trackJob, get the job's final record. False (nothing done) for any other error.
 */
export function finishedBeforeCancel(id, err) {
  if (!err || err.status !== 409) return false;
  toast('The job had already finished; its result is kept', 'info');
  galleryStore.get(id).then(update).catch(() => {});
  return true;
}

async function removeItem(id) {
  const item = items.find((i) => i.id === id);
  if (!item) return;
  // A pending tile's button cancels (the record stays in history as cancelled); a finished
  // tile's deletes it and its file.
  const pending = isPending(item);
  try {
    const answer = await (pending ? galleryStore.cancel(id) : galleryStore.remove(id));
    if (answer && answer.outcome === 'cancel_requested') { toast('Cancelling...', 'info'); return; }
  } catch (err) {
    if (pending && finishedBeforeCancel(id, err)) return;
    if (err.status !== 404) { toast(`${pending ? 'Cancel' : 'Delete'} failed: ${err.message}`, 'error'); return; }
  }
  drop(id);
  total = Math.max(0, total - 1);
  toast(pending ? 'Job cancelled' : 'Item deleted', 'info');
}

async function clearAll() {
  if (!items.length) { toast('Gallery is already empty', 'info'); return; }
  if (!window.confirm(`Clear all ${total || items.length} item(s) from the gallery?`)) return;
  // Everything in history, page by page (pending jobs are cancelled and removed once they
  // stopped; one still stopping stays until a later round or the next clear).
  for (let round = 0; round < 1000; round++) {
    const page = await galleryStore.page().catch(() => null);
    if (!page || !page.items.length) break;
    let progress = false;
    for (const item of page.items) {
      try { await galleryStore.remove(item.id); progress = true; } catch { /* gone already */ }
      if (!isPending(item)) drop(item.id);
    }
    if (!progress || page.items.every(isPending)) break;
  }
  for (const item of [...items]) if (!isPending(item)) drop(item.id);
  nextBefore = null;
  renderCount();
  toast('Gallery cleared', 'info');
}

async function loadPage() {
  const page = await galleryStore.page(nextBefore);
  total = page.total;
  nextBefore = page.nextBefore;
  for (const item of page.items) await update(item);
  renderCount();
}

export async function initGallery() {
  $('#gallery-clear-btn').addEventListener('click', clearAll);
  $('#lightbox-close-btn').addEventListener('click', closeLightbox);
  const dialog = $('#lightbox');
  dialog.addEventListener('click', (e) => { if (e.target === dialog) closeLightbox(); });
  dialog.addEventListener('close', () => { for (const m of dialog.querySelectorAll('video, audio')) m.pause(); });
  const more = el('button', { type: 'button', id: 'gallery-more-btn', class: 'btn small', text: 'Load older',
    onclick: () => loadPage().catch((err) => toast(`Gallery: ${err.message}`, 'error')) });
  $('#gallery-grid').after(more);
  hub.on('job', onJobFrame);
  try { await loadPage(); } catch (err) {
    toast(`Gallery history unavailable: ${err.message}`, 'warning');
  }
  renderCount();
  clearInterval(pollTimer);
  pollTimer = setInterval(() => { if (items.some(isPending)) poll(); }, 2000);
}

/** Decodes base64 from the host into a Blob without a data: URL round-trip (the chat's audio). */
export function base64ToBlob(b64, mime) {
  const clean = String(b64).replace(/^data:[^,]*,/, '');
  const binary = atob(clean);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Blob([bytes], { type: mime });
}
