// Gallery persistence in IndexedDB: the media blobs and their metadata survive a page reload.
// If IndexedDB is unavailable (private mode, quota) the gallery still works in memory.

const DB_NAME = 'omnihost-gallery';
const STORE = 'items';
let dbPromise = null;

function open() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (!('indexedDB' in window)) { reject(new Error('IndexedDB is not available')); return; }
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'id' });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return dbPromise;
}

async function run(mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = fn(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

export const galleryStore = {
  put: (item) => run('readwrite', (s) => s.put(item)),
  remove: (id) => run('readwrite', (s) => s.delete(id)),
  clear: () => run('readwrite', (s) => s.clear()),
  /** All items, newest first. */
  async all() {
    const items = (await run('readonly', (s) => s.getAll())) || [];
    return items.sort((a, b) => b.createdAt - a.createdAt);
  },
};
