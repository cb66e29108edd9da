// The status line's device memory, from /api/omni/status's device_memory (what an in-process
// plugin reports: device, what is measured, the load's and the last job's peak, now).

/** 1536 MiB -> "1.50 GiB"; null/negative -> ''. */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u += 1; }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

/**
 * Short text for the status line ("cuda:0 peak 9.81 GiB") and a longer one for its tooltip, or
 * null when the status has no device memory (no model, or a plugin that does not report it).
 */
export function deviceMemoryText(m) {
  if (!m || typeof m !== 'object' || typeof m.device !== 'string') return null;
  const peak = Number.isFinite(m.last_job_peak_bytes) ? m.last_job_peak_bytes : m.load_peak_bytes;
  const peakText = formatBytes(peak);
  const now = formatBytes(m.current_bytes);
  const short = peakText ? `${m.device} peak ${peakText}` : (now ? `${m.device} ${now}` : m.device);
  const parts = [];
  if (now) parts.push(`now ${now}`);
  if (formatBytes(m.load_peak_bytes)) parts.push(`load peak ${formatBytes(m.load_peak_bytes)}`);
  if (formatBytes(m.last_job_peak_bytes)) parts.push(`last job peak ${formatBytes(m.last_job_peak_bytes)}`);
  const long = `${m.device} memory: ${parts.join(', ') || 'not measured'}${m.measure ? ` (${m.measure})` : ''}`;
  return { short, long };
}
