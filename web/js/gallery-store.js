// The gallery's history lives on the host (/api/jobs): every generation is a job, recorded in the
// host's database with its output file, so the gallery survives a reload, a host restart and a
// change of browser. This module is the only one that knows the job API's shapes.
import { apiJson, apiFetch } from './api.js';

export const PAGE_SIZE = 24;

/** The gallery's media type for a job's task. */
export function mediaType(task) {
  return task === 'tts' || task === 'audio' ? 'audio' : task === 'image' ? 'image' : 'video';
}

/** One gallery item from a job record (GET /api/jobs answer items, "job" WebSocket frames). */
export function itemFromJob(job) {
  const meta = job.metadata || {};
  const started = job.started_at ? Date.parse(job.started_at) : NaN;
  const finished = job.finished_at ? Date.parse(job.finished_at) : NaN;
  const seed = Number.isSafeInteger(job.seed) ? job.seed : (Number.isSafeInteger(meta.seed) ? meta.seed : undefined);
  return {
    id: job.id,
    jobId: job.id,
    state: job.state,
    task: job.task,
    type: mediaType(job.task),
    prompt: job.prompt !== undefined ? job.prompt : job.text,
    seed,
    mime: job.output ? job.output.mime_type : undefined,
    evicted: Boolean(job.output && job.output.evicted),
    duration: Number(meta.duration),
    generationTime: Number.isFinite(started) && Number.isFinite(finished) ? (finished - started) / 1000 : NaN,
    createdAt: job.created_at ? Date.parse(job.created_at) : Date.now(),
    progress: job.progress || null,
    position: job.position || null,
    error: job.error || '',
    model: job.model,
    metadata: meta,
  };
}

export const galleryStore = {
  /** A page of history, newest first: {items, total, nextBefore}. */
  async page(before = null) {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (before) query.set('before', String(before));
    const answer = await apiJson(`/api/jobs?${query}`);
    return { items: answer.items.map(itemFromJob), total: answer.total, nextBefore: answer.next_before };
  },
  async get(id) { return itemFromJob(await apiJson(`/api/jobs/${encodeURIComponent(id)}`)); },
  /** Cancels a queued or running job; the record stays in history (cancelled). A job that had
   *  already finished answers 409 and keeps its result. */
  cancel: (id) => apiJson(`/api/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  /** Deletes an item: a pending job is cancelled first (the host waits briefly for a running one
   *  to stop; {outcome: 'cancel_requested'} when it did not), then it and its file leave history.
   *  A plain DELETE would only cancel, and keep a job that finished meanwhile. */
  remove: (id) => apiJson(`/api/jobs/${encodeURIComponent(id)}?purge=true`, { method: 'DELETE' }),
  /** The output as a Blob (through fetch, so a bearer token travels with it). */
  async output(id) {
    const response = await apiFetch(`/api/jobs/${encodeURIComponent(id)}/output`, { cache: 'force-cache' });
    if (!response.ok) throw new Error(`output unavailable (HTTP ${response.status})`);
    return response.blob();
  },
};
