// What the scanner keeps in the phone (IndexedDB): the public keys, the revocation list, outcome counts.
// Nothing about a person: counts are (hour, unit, outcome) -> number, never a serial or a name.
const DB_NAME = 'greencard-scanner';
const STORE = 'kv';

let opened = null;

function open() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opened;
}

/** Run `work(get, put)` in one read-write transaction; resolve with its result once committed. */
async function transaction(work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    const get = (key) => new Promise((done, fail) => {
      const request = store.get(key);
      request.onsuccess = () => done(request.result);
      request.onerror = () => fail(request.error);
    });
    const put = (key, value) => (value === undefined ? store.delete(key) : store.put(value, key));
    let result;
    Promise.resolve(work(get, put)).then((value) => { result = value; }, (error) => { tx.abort(); reject(error); });
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export function read(key) {
  return transaction((get) => get(key));
}

export function write(key, value) {
  return transaction((get, put) => { put(key, value); });
}

/** Add one scan to its (hour, unit, outcome) count. */
export function countScan(hour, unit, outcome) {
  return transaction(async (get, put) => {
    const counts = (await get('counts')) || {};
    const key = `${hour}|${unit || ''}|${outcome}`;
    counts[key] = (counts[key] || 0) + 1;
    put('counts', counts);
  });
}

/**
 * Move the current counts into a batch with a fresh random id, in one transaction, and return every
 * batch not yet received by the portal. A batch keeps its id until the portal has it, so a lost answer
 * never counts the same scans twice.
 */
export function batchesToSend(makeId, limits) {
  return transaction(async (get, put) => {
    const outbox = (await get('outbox')) || [];
    const counts = (await get('counts')) || {};
    let batch = null;
    for (const [key, scans] of Object.entries(counts)) {
      const [hour, unit, outcome] = key.split('|');
      const item = { hour: Number(hour), unit: unit || null, outcome, scans: Math.min(scans, limits.perBucket) };
      if (!batch || batch.counts.length >= limits.buckets || batch.scans + item.scans > limits.scans) {
        batch = { batch: makeId(), counts: [], scans: 0 };
        outbox.push(batch);
      }
      batch.counts.push(item);
      batch.scans += item.scans;
    }
    put('counts', undefined);
    put('outbox', outbox);
    return outbox;
  });
}

/** Forget a batch the portal has received (or refused for good). */
export function forgetBatch(batchId) {
  return transaction(async (get, put) => {
    const outbox = ((await get('outbox')) || []).filter((item) => item.batch !== batchId);
    put('outbox', outbox);
  });
}

/** Return how many scans wait to be sent. */
export function pendingScans() {
  return transaction(async (get) => {
    const counts = Object.values((await get('counts')) || {}).reduce((sum, n) => sum + n, 0);
    const queued = ((await get('outbox')) || []).reduce(
      (sum, item) => sum + item.counts.reduce((inner, count) => inner + count.scans, 0), 0);
    return counts + queued;
  });
}
