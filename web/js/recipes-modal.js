// Recipes modal: one card per recipe from /api/omni/recipes, grouped by model type. Apply goes
// through config-panel's applyRecipe (type, then model, then parameters). Escape closes it
// (native <dialog>), as do the × button and a click on the backdrop.
import { $, el, clear } from './dom.js';
import { catalog, MODEL_TYPES, modeFor } from './catalog.js';
import { applyRecipe } from './config-panel.js';
import { toast } from './toast.js';

const CHIP_KEYS = [
  ['num_inference_steps', 'steps'], ['steps', 'steps'], ['guidance_scale', 'guidance'], ['guidance', 'guidance'],
  ['duration', 's'], ['fps', 'fps'], ['resolution', ''], ['gpu_memory_utilization', 'GPU mem'],
  ['flow_shift', 'shift'],
];

function chips(recipe) {
  const d = recipe.defaults || {};
  const out = [];
  for (const [key, unit] of CHIP_KEYS) {
    if (d[key] === undefined || d[key] === null) continue;
    out.push(unit === 's' ? `${d[key]}s` : unit ? `${unit} ${d[key]}` : String(d[key]));
  }
  if (d.height && d.width && d.resolution === undefined) out.push(`${d.height}x${d.width}`);
  if (d.enable_cpu_offload) out.push('CPU offload');
  if (d.enable_torch_compile) out.push('torch.compile');
  if (d.vae_use_tiling) out.push('VAE tiling');
  return out;
}

function card(recipe) {
  const hints = recipe.hints || {};
  const local = modeFor(recipe.model_type, 'subprocess');
  const notes = [];
  if (hints.requires_hf_token) notes.push('Requires a HuggingFace token');
  const container = modeFor(recipe.model_type, 'container');
  // A manifest refusal is the authoritative reason; the recipe's hint only adds to an allowed mode.
  if (!container.available && container.refused) notes.push(`Container: ${container.reason}`);
  else if (hints.container_limitation) notes.push(`Container limitation: ${hints.container_limitation}`);
  const isDefault = recipe.id === catalog.defaultRecipe;
  return el('article', { class: `recipe-card${isDefault ? ' recipe-default' : ''}`, dataset: { recipeId: recipe.id, modelType: recipe.model_type } },
    el('div', { class: 'row' }, el('span', { class: `badge badge-${recipe.model_type}`, text: recipe.model_type }),
      isDefault ? el('span', { class: 'badge', text: 'default: runs here' }) : null),
    el('h4', { text: recipe.name || recipe.id }),
    el('p', { class: 'help', text: recipe.description || '' }),
    el('p', { class: 'recipe-model' }, el('code', { text: recipe.model || '' })),
    el('ul', { class: 'chips' }, chips(recipe).map((c) => el('li', { text: c }))),
    notes.length ? el('ul', { class: 'recipe-notes' }, notes.map((n) => el('li', { text: n }))) : null,
    el('button', {
      type: 'button', class: 'btn primary small recipe-apply', text: 'Apply recipe',
      'aria-label': `Apply recipe ${recipe.name || recipe.id}`,
      title: local.available ? '' : local.reason,
      onclick: () => {
        applyRecipe(recipe);
        close();
        toast(`Loaded: ${recipe.name || recipe.id}`, 'success');
      },
    }));
}

function render() {
  const list = clear($('#recipes-list'));
  if (!catalog.recipes.length) {
    list.append(el('p', { class: 'placeholder', text: 'The host lists no recipes.' }));
    return;
  }
  // The default recipe's group first: it is the one that runs on this machine without downloads.
  const first = (catalog.recipes.find((r) => r.id === catalog.defaultRecipe) || {}).model_type;
  const order = [...MODEL_TYPES].sort((a, b) => (b[0] === first) - (a[0] === first));
  for (const [type, label] of order) {
    const recipes = catalog.recipes.filter((r) => r.model_type === type)
      .sort((a, b) => (b.id === catalog.defaultRecipe) - (a.id === catalog.defaultRecipe));
    if (!recipes.length) continue;
    list.append(el('section', { class: 'recipe-group' }, el('h3', { text: label }),
      el('div', { class: 'recipe-grid' }, recipes.map(card))));
  }
}

export function open() {
  render();
  const dialog = $('#recipes-modal');
  dialog.showModal();
  const first = dialog.querySelector('.recipe-apply');
  if (first) first.focus();
}

export function close() {
  const dialog = $('#recipes-modal');
  if (dialog.open) dialog.close();
  $('#browse-recipes-btn').focus();
}

export function initRecipesModal() {
  $('#browse-recipes-btn').addEventListener('click', open);
  $('#recipes-close-btn').addEventListener('click', close);
  const dialog = $('#recipes-modal');
  dialog.addEventListener('click', (e) => { if (e.target === dialog) close(); });
}
