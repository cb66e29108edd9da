// Renders parameter controls (specs from params.js, i.e. from a plugin manifest) and reads them
// back as typed request fields. Controls of one manifest "group" sit together under its name.
import { el, clear, readNumber } from './dom.js';

function formatValue(spec, value) {
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  const text = spec.integer ? String(Math.trunc(n)) : (Number.isInteger(spec.step) ? String(n) : n.toFixed(2).replace(/0$/, ''));
  return `${text}${spec.suffix || ''}`;
}

function control(spec, prefix) {
  const id = `${prefix}-${spec.name}`;
  const label = el('label', { for: id, text: spec.label });
  let input;
  let extra = null;
  if (spec.kind === 'range') {
    input = el('input', { id, type: 'range', min: spec.min, max: spec.max, step: spec.step ?? (spec.integer ? 1 : 'any') });
    input.value = String(spec.default);
    extra = el('output', { for: id, id: `${id}-value`, text: formatValue(spec, spec.default) });
    input.addEventListener('input', () => { extra.textContent = formatValue(spec, input.value); });
  } else if (spec.kind === 'number') {
    input = el('input', { id, type: 'number', step: spec.step ?? (spec.integer ? 1 : 'any') });
    if (typeof spec.min === 'number') input.min = String(spec.min);
    if (typeof spec.max === 'number') input.max = String(spec.max);
    input.value = spec.default === undefined ? '' : String(spec.default);
    if (spec.optional) input.placeholder = 'plugin default';
  } else if (spec.kind === 'check') {
    input = el('input', { id, type: 'checkbox' });
    input.checked = Boolean(spec.default);
  } else if (spec.kind === 'select') {
    input = el('select', { id });
    const options = [...(spec.options || [])];
    if (spec.default !== undefined && !options.some(([v]) => v === String(spec.default))) {
      options.unshift([String(spec.default), `${spec.default} (recipe)`]);
    }
    for (const [value, text] of options) input.append(el('option', { value, text }));
    input.value = spec.default === undefined ? '' : String(spec.default);
  } else {
    input = el('input', { id, type: 'text', placeholder: spec.placeholder || (spec.optional ? 'plugin default' : '') });
    if (typeof spec.maxLength === 'number') input.maxLength = spec.maxLength;
    input.value = String(spec.default ?? '');
  }
  input.dataset.param = spec.name;
  const wrap = spec.kind === 'check'
    ? el('div', { class: `field param param-check` }, el('label', { class: 'check', for: id }, input, ` ${spec.label}`))
    : el('div', { class: `field param param-${spec.kind}` }, el('div', { class: 'row spread' }, label, extra), input);
  if (spec.help) wrap.append(el('p', { class: 'help', text: spec.help }));
  if ((spec.kind === 'range' || spec.kind === 'number') && (typeof spec.min === 'number' || typeof spec.max === 'number')) {
    const bounds = `${spec.min ?? '…'} – ${spec.max ?? '…'}`;
    const steps = spec.multiple_of > 1 ? `, multiples of ${spec.multiple_of}` : '';
    wrap.append(el('p', { class: 'help range-hint', text: (spec.default === undefined ? bounds : `${bounds}, default ${formatValue(spec, spec.default)}`) + steps }));
  }
  return wrap;
}

/** Renders `specs` into `container`; ids are `<prefix>-<name>` (param-... for the studio). */
export function renderParams(container, specs, prefix = 'param') {
  clear(container);
  const groups = new Map();
  for (const spec of specs) {
    if (!spec.group) { container.append(control(spec, prefix)); continue; }
    if (!groups.has(spec.group)) {
      const box = el('fieldset', { class: 'param-group' }, el('legend', { text: spec.group }));
      box.dataset.group = spec.group;
      groups.set(spec.group, box);
      container.append(box);
    }
    groups.get(spec.group).append(control(spec, prefix));
  }
}

/**
 * Reads the controls into request fields. Out-of-range numbers are reported (naming the field)
 * rather than silently clamped; an empty number field falls back to its default (0 stays 0), or
 * is left out when the plugin's own default applies.
 */
export function readParams(container, specs) {
  const values = {};
  const errors = [];
  for (const spec of specs) {
    const input = container.querySelector(`[data-param="${spec.name}"]`);
    if (!input) continue;
    if (spec.kind === 'range' || spec.kind === 'number') {
      let n = readNumber(input, null);
      if (n === null && spec.optional) continue; // not given: the plugin's own default applies
      if (n === null) n = Number(spec.default);
      if (spec.integer) n = Math.trunc(n);
      if ((typeof spec.min === 'number' && n < spec.min) || (typeof spec.max === 'number' && n > spec.max)) {
        errors.push(`${spec.label} must be between ${spec.min ?? '…'} and ${spec.max ?? '…'} (got ${n})`);
        continue;
      }
      if (spec.multiple_of > 1 && n % spec.multiple_of !== 0) {
        errors.push(`${spec.label} must be a multiple of ${spec.multiple_of} (got ${n})`);
        continue;
      }
      values[spec.name] = n;
    } else if (spec.kind === 'check') {
      values[spec.name] = input.checked;
    } else {
      if (spec.optional && input.value === '') continue;
      values[spec.name] = input.value;
    }
  }
  return { values, errors };
}
