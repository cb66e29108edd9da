// Download names that say what the file is: omnihost-<type>-<prompt-slug>-seed<seed>-<timestamp>.<ext>

const EXT = {
  'video/mp4': 'mp4', 'video/webm': 'webm', 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp',
  'audio/wav': 'wav', 'audio/x-wav': 'wav', 'audio/wave': 'wav', 'audio/flac': 'flac', 'audio/x-flac': 'flac',
  'audio/mpeg': 'mp3', 'audio/mp3': 'mp3', 'audio/ogg': 'ogg', 'audio/webm': 'webm',
};

export function extensionFor(mime, fallback = 'bin') {
  const base = String(mime || '').split(';')[0].trim().toLowerCase();
  return EXT[base] || fallback;
}

export function slug(text, max = 32) {
  const s = String(text || '').toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, max).replace(/-+$/, '');
  return s || 'untitled';
}

function stamp(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export function downloadName(item) {
  const seed = Number.isFinite(item.seed) ? `-seed${item.seed}` : '';
  const fallback = item.type === 'video' ? 'mp4' : item.type === 'image' ? 'png' : 'wav';
  return `omnihost-${item.task || item.type}-${slug(item.prompt)}${seed}-${stamp(item.createdAt)}.${extensionFor(item.mime, fallback)}`;
}
