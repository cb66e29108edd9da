// Shared page state. Modules read it and announce changes on the hub (dom.js).
export const state = {
  status: null,        // last /api/omni/status answer
  activeRecipe: null,  // the recipe last applied (its defaults feed the studio parameters)
  busy: false,         // a generation or chat is in flight
};

/** The model type the studio works with: the running model's, else the one being configured. */
export function studioModelType() {
  const s = state.status;
  if (s && (s.running || s.state === 'starting' || s.state === 'ready') && s.model_type) return s.model_type;
  const select = document.getElementById('model-type');
  return select ? select.value : 'image';
}

export function serverReady() {
  const s = state.status;
  return Boolean(s && s.ready);
}
