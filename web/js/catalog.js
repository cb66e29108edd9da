// What the host offers: plugins (routes and refusals from their manifests), recipes and models.
// Run-mode availability is decided here from manifest data by model_type — never from a model name.
import { apiJson } from './api.js';

export const MODEL_TYPES = [
  ['image', 'Image Generation', 'Generate images from text prompts (Text-to-Image)'],
  ['video', 'Video Generation', 'Generate videos from text prompts (Text-to-Video), in-process'],
  ['tts', 'TTS (Text-to-Speech)', 'Convert text to natural speech (Qwen3-TTS)'],
  ['audio', 'Audio (Music/SFX)', 'Generate music and sound effects (Stable Audio), in-process'],
  ['omni', 'Omni (Text + Audio Chat)', 'Multimodal chat with text AND audio input/output'],
];

export const RUN_MODES = ['subprocess', 'container', 'remote'];

export const catalog = {
  plugins: [],
  recipes: [],
  defaultRecipe: null, // the host's preselected recipe id (--default-recipe)
  models: {},
  features: null, // GET /api/features: container runtimes, venvs, GPUs (null until loaded)
  settings: null, // GET /api/settings: what the host keeps for every browser
  errors: [],
};

export async function loadCatalog() {
  catalog.errors = [];
  const [plugins, recipes, models, features, settings] = await Promise.allSettled([
    apiJson('/api/omni/plugins'), apiJson('/api/omni/recipes'), apiJson(`/api/omni/models?_=${Date.now()}`),
    apiJson('/api/features'), apiJson('/api/settings'),
  ]);
  // Features and settings refine the page; without them it still works (no error shown).
  catalog.features = features.status === 'fulfilled' ? features.value : null;
  catalog.settings = settings.status === 'fulfilled' ? settings.value : null;
  if (plugins.status === 'fulfilled') catalog.plugins = (plugins.value && plugins.value.plugins) || [];
  else catalog.errors.push(`plugins: ${plugins.reason.message}`);
  if (recipes.status === 'fulfilled') {
    catalog.recipes = (recipes.value && recipes.value.recipes) || [];
    catalog.defaultRecipe = (recipes.value && recipes.value.default) || null;
  }
  else catalog.errors.push(`recipes: ${recipes.reason.message}`);
  if (models.status === 'fulfilled') catalog.models = models.value || {};
  else catalog.errors.push(`models: ${models.reason.message}`);
  return catalog;
}

const matches = (entry, modelType, runMode) =>
  entry && entry.model_type === modelType && entry.run_mode === runMode;

/**
 * How a model type would run in a mode:
 * {available, reason, plugin, inprocess}. A manifest refusal wins (its reason is shown);
 * otherwise the first available plugin that routes the pair serves it.
 */
export function modeFor(modelType, runMode) {
  for (const plugin of catalog.plugins) {
    const refusal = (plugin.refuses || []).find((r) => matches(r, modelType, runMode));
    if (refusal) {
      return { available: false, refused: true, plugin, inprocess: false,
        reason: refusal.reason || `${plugin.name || plugin.id} refuses ${modelType} in ${runMode} mode` };
    }
  }
  // Container mode needs a container runtime on the host, whatever plugin would drive it.
  if (runMode === 'container' && catalog.features && catalog.features.container_mode === false) {
    return { available: false, plugin: null, inprocess: false,
      reason: 'No container runtime (podman or docker) was found on the host' };
  }
  const routed = catalog.plugins.filter((p) => (p.routes || []).some((r) => matches(r, modelType, runMode)));
  const usable = routed.find((p) => p.available !== false);
  if (usable) return { available: true, plugin: usable, inprocess: usable.kind === 'inprocess', reason: '' };
  if (routed.length) {
    const p = routed[0];
    return { available: false, plugin: p, inprocess: p.kind === 'inprocess',
      reason: `${p.name || p.id} is unavailable: ${p.reason || 'failed to load'}` };
  }
  return { available: false, plugin: null, inprocess: false,
    reason: `No plugin serves ${modelType} models in ${runMode} mode` };
}

export function recipeById(id) {
  return catalog.recipes.find((r) => r.id === id) || null;
}

/** Model entries for a type: the host's catalog, plus recipe models it does not list. */
export function modelsFor(modelType) {
  const list = Array.isArray(catalog.models[modelType]) ? [...catalog.models[modelType]] : [];
  for (const recipe of catalog.recipes) {
    if (recipe.model_type === modelType && recipe.model && !list.some((m) => m.id === recipe.model)) {
      list.push({ id: recipe.model, name: recipe.name || recipe.model, description: recipe.description || '' });
    }
  }
  return list;
}

export function modelInfo(modelType, id) {
  return modelsFor(modelType).find((m) => m.id === id) || null;
}
