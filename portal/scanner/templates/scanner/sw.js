// The checkpoint scanner's service worker: keeps the page and its files so that it opens with no network.
// Rendered by portal/scanner/views.py: VERSION changes whenever a kept file changes, so phones update.
// The keys and the revocation list are kept by the page itself (IndexedDB), merged from deltas.
const VERSION = {{ version|tojson }};
const CACHE = `greencard-scanner-${VERSION}`;
const PAGE = {{ page|tojson }};
const ASSETS = {{ (assets + [manifest])|tojson }};
/** Online, the page comes from the portal (new wording, the chosen language) unless it is this slow. */
const PAGE_TIMEOUT_MS = 4000;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll([PAGE, ...ASSETS].map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith('greencard-scanner-') && name !== CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (event.request.mode === 'navigate' && url.pathname === PAGE) {
    event.respondWith(page(event.request));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(event.request)));
  }
});

async function page(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), PAGE_TIMEOUT_MS)),
    ]);
    if (response.ok) await cache.put(PAGE, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(PAGE);
    if (kept) return kept;
    throw error;
  }
}
