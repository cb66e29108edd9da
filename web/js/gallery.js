// Gallery: newest first, one tile per result (video, audio, image) with a player, a lightbox,
// download with a meaningful name, delete, clear. Blobs persist in IndexedDB across reloads.
import { $, el, clear, show } from './dom.js';
import { galleryStore } from './gallery-store.js';
import { downloadName } from './filename.js';
import { toast } from './toast.js';

const items = [];            // newest first
const urls = new Map();      // id -> object URL
let persistent = true;

function urlFor(item) {
  if (!urls.has(item.id)) urls.set(item.id, URL.createObjectURL(item.blob));
  return urls.get(item.id);
}

function releaseUrl(id) {
  const url = urls.get(id);
  if (url) URL.revokeObjectURL(url);
  urls.delete(id);
}

function renderCount() {
  const n = items.length;
  $('#gallery-count').textContent = `${n} item${n === 1 ? '' : 's'}`;
  show($('#gallery-placeholder'), n === 0);
}

function download(item) {
  const a = el('a', { href: urlFor(item), download: downloadName(item) });
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
  const src = urlFor(item);
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
  const audio = el('audio', { src, controls: true, preload: 'metadata', class: 'tile-audio' });
  return audio;
}

function openLightbox(item) {
  const dialog = $('#lightbox');
  const body = clear($('#lightbox-body'));
  body.append(mediaFor(item, true));
  $('#lightbox-caption').textContent = `${item.prompt || ''} (${describe(item)})`;
  const link = $('#lightbox-download');
  link.href = urlFor(item);
  link.download = downloadName(item);
  dialog.showModal();
}

function closeLightbox() {
  const dialog = $('#lightbox');
  for (const m of dialog.querySelectorAll('video, audio')) m.pause();
  if (dialog.open) dialog.close();
}

function tile(item) {
  const media = mediaFor(item, false);
  const open = el('button', { type: 'button', class: 'tile-open', 'aria-label': `Open ${item.type}: ${item.prompt || ''}`,
    onclick: () => openLightbox(item) }, media.tagName === 'AUDIO' ? el('span', { text: 'Open' }) : media);
  const li = el('li', { class: `gallery-tile tile-${item.type}`, dataset: { id: item.id, type: item.type } },
    media.tagName === 'AUDIO' ? el('div', { class: 'tile-audio-wrap' }, media) : null,
    open,
    el('p', { class: 'tile-caption', title: item.prompt || '', text: (item.prompt || '').slice(0, 80) }),
    el('p', { class: 'tile-meta', text: describe(item) }),
    el('div', { class: 'tile-actions' },
      el('button', { type: 'button', class: 'btn small tile-download', text: 'Download', onclick: () => download(item) }),
      el('button', { type: 'button', class: 'btn small danger tile-delete', text: 'Delete', onclick: () => removeItem(item.id) })));
  return li;
}

export async function addItem(data) {
  const item = {
    id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    createdAt: Date.now(),
    ...data,
  };
  items.unshift(item);
  $('#gallery-grid').prepend(tile(item));
  renderCount();
  if (persistent) {
    try { await galleryStore.put(item); } catch (err) {
      persistent = false;
      toast(`Gallery is not saved across reloads: ${err.message}`, 'warning');
    }
  }
  return item;
}

async function removeItem(id) {
  const index = items.findIndex((i) => i.id === id);
  if (index < 0) return;
  items.splice(index, 1);
  const node = $(`#gallery-grid li[data-id="${CSS.escape(id)}"]`);
  if (node) node.remove();
  releaseUrl(id);
  renderCount();
  if (persistent) await galleryStore.remove(id).catch(() => {});
  toast('Item deleted', 'info');
}

async function clearAll() {
  if (!items.length) { toast('Gallery is already empty', 'info'); return; }
  if (!window.confirm(`Clear all ${items.length} item(s) from the gallery?`)) return;
  for (const item of items) releaseUrl(item.id);
  items.length = 0;
  clear($('#gallery-grid'));
  renderCount();
  if (persistent) await galleryStore.clear().catch(() => {});
  toast('Gallery cleared', 'info');
}

export async function initGallery() {
  $('#gallery-clear-btn').addEventListener('click', clearAll);
  $('#lightbox-close-btn').addEventListener('click', closeLightbox);
  const dialog = $('#lightbox');
  dialog.addEventListener('click', (e) => { if (e.target === dialog) closeLightbox(); });
  dialog.addEventListener('close', () => { for (const m of dialog.querySelectorAll('video, audio')) m.pause(); });
  try {
    const saved = await galleryStore.all();
    for (const item of saved) {
      items.push(item);
      $('#gallery-grid').append(tile(item));
    }
  } catch (err) {
    persistent = false;
  }
  renderCount();
}

/** Decodes base64 from the host into a Blob without a data: URL round-trip. */
export function base64ToBlob(b64, mime) {
  const clean = String(b64).replace(/^data:[^,]*,/, '');
  const binary = atob(clean);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Blob([bytes], { type: mime });
}
