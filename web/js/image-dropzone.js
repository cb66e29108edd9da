// The video studio's input image (image-to-video). What the loaded model takes comes from the host:
// status.image_input = {image: 'required'|'accepted'|'refused', last_image: ...}, null until the
// model's plugin has said. The dropzone is shown only for a ready video model that requires or
// accepts an image; it takes a file by drop, click-to-pick (or Enter/Space) and paste, shows a
// preview and clears. The picture goes out as a data URL in the request's "image" field, checked
// by the host (PNG, JPEG or WebP, at most status.limits.max_image_bytes).
import { el, show, hub } from './dom.js';
import { state } from './state.js';
import { toast } from './toast.js';

const ACCEPTED = ['image/png', 'image/jpeg', 'image/webp'];

let root = null;
let dataUrl = null; // the chosen image, as read
let mode = 'unknown'; // 'unknown' until a ready video model's plugin has said (shown on the root as data-mode)
let typeNow = () => '';
const parts = {};

function takesImage() {
  return mode === 'required' || mode === 'accepted';
}

function modeFromStatus(s) {
  if (!s || !s.ready || s.model_type !== 'video' || typeNow() !== 'video') return 'unknown';
  if (!s.image_input || typeof s.image_input !== 'object') return 'unknown';
  const m = s.image_input.image;
  return m === 'required' || m === 'accepted' ? m : 'refused';
}

export function clearImage() {
  dataUrl = null;
  if (!root) return;
  parts.input.value = '';
  parts.preview.removeAttribute('src');
  show(parts.previewBox, false);
}

function take(file) {
  if (!file) return;
  if (!ACCEPTED.includes(file.type)) {
    toast('Please choose a PNG, JPEG or WebP image', 'warning');
    return;
  }
  const limit = state.status && state.status.limits ? Number(state.status.limits.max_image_bytes) : NaN;
  if (Number.isFinite(limit) && file.size > limit) {
    toast(`The image is ${file.size} bytes; this host accepts at most ${limit}`, 'warning');
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    dataUrl = String(reader.result);
    parts.preview.src = dataUrl;
    parts.name.textContent = file.name || 'pasted image';
    show(parts.previewBox, true);
  };
  reader.onerror = () => toast('Could not read the image file', 'error');
  reader.readAsDataURL(file);
}

function render() {
  if (!root) return;
  const next = modeFromStatus(state.status);
  if (next !== mode) {
    mode = next;
    if (!takesImage()) clearImage();
  }
  root.dataset.mode = mode;
  show(root, takesImage());
  parts.label.textContent = mode === 'required'
    ? 'Input image (required by this model): drop, paste or click to choose'
    : 'Input image (optional, becomes the first frame): drop, paste or click to choose';
}

/** The request fields for the chosen image ({} when none or when the model takes none). */
export function imageFields() {
  return takesImage() && dataUrl ? { image: dataUrl } : {};
}

/** A message when the loaded model needs an image and none is chosen, else ''. */
export function missingImage() {
  return mode === 'required' && !dataUrl ? 'This model needs an input image: drop one in the image box' : '';
}

/** Shows the input image's hash from a result's metadata (or hides the line). */
export function showResultImage(metadata) {
  if (!root) return;
  const hash = metadata && typeof metadata.input_image_sha256 === 'string' ? metadata.input_image_sha256 : '';
  parts.hash.textContent = hash ? `Last result's input image: sha256 ${hash}` : '';
  show(parts.hash, Boolean(hash));
}

/** Builds the dropzone before `anchor`; `studioType` returns the studio's model type. */
export function initImageDropzone(anchor, studioType) {
  typeNow = studioType;
  parts.input = el('input', { type: 'file', accept: ACCEPTED.join(','), hidden: true, id: 'video-image-input' });
  parts.label = el('span', { text: '' });
  parts.zone = el('div', {
    id: 'video-image-dropzone', class: 'dropzone', tabindex: '0', role: 'button',
    'aria-label': 'Input image: drop an image here, paste one, or press Enter to browse',
  }, parts.label, parts.input);
  parts.preview = el('img', { id: 'video-image-preview-img', alt: 'Input image preview' });
  parts.name = el('span', { class: 'help' });
  parts.clear = el('button', { type: 'button', id: 'video-image-clear-btn', class: 'btn small', text: 'Clear' });
  parts.previewBox = el('div', { id: 'video-image-preview', class: 'image-preview', hidden: true },
    parts.preview, parts.name, parts.clear);
  parts.hash = el('p', { id: 'video-image-hash', class: 'help', hidden: true });
  root = el('div', { id: 'video-image', class: 'group', hidden: true }, parts.zone, parts.previewBox, parts.hash);
  anchor.before(root);

  parts.zone.addEventListener('click', () => parts.input.click());
  parts.zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); parts.input.click(); }
  });
  parts.zone.addEventListener('dragover', (e) => { e.preventDefault(); parts.zone.classList.add('dragover'); });
  parts.zone.addEventListener('dragleave', () => parts.zone.classList.remove('dragover'));
  parts.zone.addEventListener('drop', (e) => {
    e.preventDefault();
    parts.zone.classList.remove('dragover');
    take(e.dataTransfer && e.dataTransfer.files[0]);
  });
  parts.input.addEventListener('change', () => take(parts.input.files[0]));
  parts.clear.addEventListener('click', clearImage);
  // A pasted picture goes to the dropzone while it is shown (text pastes are left alone).
  document.addEventListener('paste', (e) => {
    if (root.hidden || !e.clipboardData) return;
    const item = Array.from(e.clipboardData.items || []).find((i) => i.kind === 'file' && ACCEPTED.includes(i.type));
    if (!item) return;
    e.preventDefault();
    take(item.getAsFile());
  });
  hub.on('status', render);
  hub.on('model-type-changed', render);
  render();
}
