// HTTP and WebSocket access to the host. One place knows about the bearer token:
// a 401 asks the person for it (once, shared by every request waiting), stores it in
// localStorage and retries; WebSockets carry it as ?token= because browsers cannot set headers.

const TOKEN_KEY = 'omnihost.token';
let tokenPrompt = null; // the pending "ask for token" promise, so parallel 401s ask once
let tokenDeclined = false; // the person cancelled the prompt: polling must not re-open it every 2 s

export function getToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lives for this request only */ }
}

/**
 * A host started on a non-loopback address without --token prints a URL carrying a generated
 * token (http://HOST:PORT/?token=...), as Jupyter does. Take it from the address once, keep it
 * like a typed-in token, and remove it from the address bar (and so from history and bookmarks).
 * Returns true when a token was taken.
 */
export function adoptTokenFromUrl(location = window.location, history = window.history) {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token === null) return false;
  url.searchParams.delete('token');
  if (token.trim()) setToken(token.trim());
  history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
  return Boolean(token.trim());
}

// Runs when the module loads, before any request of the page can go out without the token.
try { adoptTokenFromUrl(); } catch { /* not in a browser page (unit tests import this module) */ }

/** Error carrying the HTTP status and the host's {error, field} body. */
export class ApiError extends Error {
  constructor(status, body, fallback) {
    const message = (body && (body.error || body.detail || body.message)) || fallback || `HTTP ${status}`;
    super(typeof message === 'string' ? message : JSON.stringify(message));
    this.status = status;
    this.body = body;
    this.field = body && body.field;
    this.cancelled = Boolean(body && body.cancelled);
  }
}

function askForToken(reason) {
  if (!tokenPrompt) {
    tokenPrompt = new Promise((resolve) => {
      const dialog = document.getElementById('token-dialog');
      const input = document.getElementById('token-input');
      const note = document.getElementById('token-reason');
      note.textContent = reason;
      input.value = '';
      const done = (value) => {
        dialog.removeEventListener('close', onClose);
        tokenPrompt = null;
        resolve(value);
      };
      const onClose = () => done(dialog.returnValue === 'ok' ? input.value.trim() : null);
      dialog.addEventListener('close', onClose);
      if (!dialog.open) dialog.showModal();
      input.focus();
    });
  }
  return tokenPrompt;
}

/**
 * fetch() with the bearer token. On 401 the person is asked for a token and the request is
 * retried with it; cancelling the dialog gives up with the 401's message.
 */
export async function apiFetch(path, options = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers(options.headers || {});
    const token = getToken();
    if (token) headers.set('Authorization', `Bearer ${token}`);
    const response = await fetch(path, { ...options, headers });
    if (response.status !== 401 || attempt >= 3) return response;
    if (tokenDeclined) return response;
    const body = await response.clone().json().catch(() => null);
    const reason = token ? 'The stored token was refused. Enter the host token:' :
      'This host requires an access token. Enter it:';
    const entered = await askForToken((body && body.error) ? `${reason} (${body.error})` : reason);
    if (!entered) { tokenDeclined = true; return response; }
    setToken(entered);
  }
}

/** True after the person cancelled the token prompt (nothing authorised will work until they set one). */
export function isTokenDeclined() { return tokenDeclined; }

/** The header's Token button: ask (again) and reload the page with the new token. */
export async function changeToken() {
  tokenDeclined = false;
  const entered = await askForToken('Enter the host access token (leave empty to remove it):');
  if (entered === null) return;
  setToken(entered);
  window.location.reload();
}

async function parseBody(response) {
  const type = response.headers.get('Content-Type') || '';
  if (type.includes('application/json')) return response.json().catch(() => null);
  const text = await response.text().catch(() => '');
  try { return JSON.parse(text); } catch { return text ? { error: text } : null; }
}

/** GET/POST JSON; throws ApiError with the host's message for any non-2xx answer. */
export async function apiJson(path, { method = 'GET', body, signal } = {}) {
  const options = { method, signal, headers: {} };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  if (method === 'GET') options.cache = 'no-store';
  const response = await apiFetch(path, options);
  const data = await parseBody(response);
  if (!response.ok) throw new ApiError(response.status, data, response.statusText);
  if (data && data.success === false) throw new ApiError(response.status, data, 'request failed');
  return data;
}

export function wsUrl(path) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = getToken();
  if (token) url.searchParams.set('token', token);
  return url.toString();
}

/** A job id the host accepts ([A-Za-z0-9_-]{1,64}) and that is unique enough per page. */
export function newJobId(prefix = 'web') {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${prefix}-${Date.now().toString(36)}-${random}`;
}
