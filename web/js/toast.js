// Transient notifications. role=status / alert so screen readers announce them.
import { el } from './dom.js';

export function toast(message, kind = 'info', ms = 4000) {
  const host = document.getElementById('toasts');
  if (!host) return;
  const node = el('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status', text: message });
  host.appendChild(node);
  // Keep the stack short: the oldest notices go first.
  while (host.childElementCount > 4) host.firstElementChild.remove();
  setTimeout(() => node.classList.add('leaving'), ms);
  setTimeout(() => node.remove(), ms + 400);
}
