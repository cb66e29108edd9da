// Entry point: load what the host offers, then wire every panel.
import { $, show } from './dom.js';
import { loadCatalog, catalog } from './catalog.js';
import { initConfigPanel, refreshConfigPanel } from './config-panel.js';
import { initCommandPreview } from './command-preview.js';
import { initServerControl, pollStatus } from './server-control.js';
import { initRecipesModal } from './recipes-modal.js';
import { initStudio, renderStudio } from './studio.js';
import { initChat } from './chat.js';
import { initGallery } from './gallery.js';
import { initLogs, connectLogs } from './logs.js';
import { getToken, changeToken } from './api.js';

function showCatalogErrors() {
  const box = $('#catalog-error');
  box.textContent = catalog.errors.length ? `Could not load from the host: ${catalog.errors.join('; ')}` : '';
  show(box, catalog.errors.length > 0);
}

async function main() {
  $('#token-btn').addEventListener('click', changeToken);
  initLogs();
  const tokenBefore = getToken();
  await loadCatalog(); // asks for the token first when the host needs one
  showCatalogErrors();
  connectLogs(); // after the catalog, so the socket already carries a token the person entered
  initConfigPanel();
  initRecipesModal();
  initCommandPreview();
  initServerControl();
  initStudio();
  initChat();
  await initGallery();
  // A token entered while loading (after a 401): reload whatever failed before it was given.
  if (getToken() !== tokenBefore) {
    if (catalog.errors.length) { await loadCatalog(); showCatalogErrors(); refreshConfigPanel(); renderStudio(true); }
    pollStatus();
  }
  document.body.dataset.ready = 'true';
}

main().catch((err) => {
  const box = $('#catalog-error');
  box.textContent = `The page failed to start: ${err.message}`;
  show(box, true);
  console.error(err);
});
