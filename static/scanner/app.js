// The checkpoint scanner page: sync when online, verify in the phone, count outcomes, send counts back.
import * as store from './store.js';
import { makeDecoder, readPhoto, startCamera } from './camera.js';
import { dayToDate, revocationState, tokenFromText, verify, verifyingKeys } from './verifier.js';

const settings = JSON.parse(document.getElementById('scanner-settings').textContent);
const S = settings.strings;
const OUTCOMES = new Set(Object.keys(settings.labels));
/** The same card seen again by the camera within this many ms is the same scan, not a new one. */
const SAME_CARD_MS = 4000;
/** How long the portal's own answer is awaited when online before the phone's verdict stands alone. */
const ONLINE_ANSWER_MS = 3000;
const RESYNC_MS = 5 * 60 * 1000;
const FULL_LIST_EVERY_MS = 24 * 3600 * 1000;
const COUNT_LIMITS = { buckets: 200, scans: 5000, perBucket: 2000 };

const $ = (id) => document.getElementById(id);
const state = { keys: new Map(), list: revocationState(null), keysMeta: null, listMeta: null, syncing: false };
let decoder = null;
let camera = { text: null, seenAt: -Infinity };

function format(text, values = {}) {
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ''));
}

// ---------------------------------------------------------------------------------------------
// Showing
// ---------------------------------------------------------------------------------------------

const pad = (n) => String(n).padStart(2, '0');

function hcmcParts(ms) {
  const d = new Date(ms + 7 * 3600 * 1000);
  return { date: `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`,
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` };
}

function dateOfDay(day) {
  const d = dayToDate(day);
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

function isoDate(text) {
  if (!text) return '';
  const [y, m, d] = text.split('-');
  return `${d}/${m}/${y}`;
}

const hhmm = (minutes) => `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;

function windowText(start, end, direction) {
  return `${start}–${end} (${direction === 'to_home' ? S.to_home : S.to_work})`;
}

function age(ms) {
  const minutes = Math.max(0, Math.round(ms / 60000));
  if (minutes < 60) return format(S.minutes, { n: minutes });
  if (minutes < 48 * 60) return format(S.hours, { n: Math.floor(minutes / 60) });
  return format(S.days, { n: Math.floor(minutes / 1440) });
}

function fact(list, term, value, strong = false) {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  if (strong) dd.className = 'strong';
  if (Array.isArray(value)) {
    value.forEach((text) => {
      const span = document.createElement('span');
      span.className = 'window';
      span.textContent = text;
      dd.appendChild(span);
    });
    if (!value.length) dd.textContent = '—';
  } else {
    dd.textContent = value;
  }
  list.append(dt, dd);
}

function unitName(shortCode) {
  const unit = (settings.units || {})[shortCode];
  return unit ? `${unit} (${shortCode})` : shortCode;
}

/** Show a verdict: the portal's wording and colours for `outcome`, and what the card says. */
function showVerdict(outcome, { payload = null, online = null, note = '', checkedAt = Date.now() } = {}) {
  const label = settings.labels[outcome] || settings.labels.invalid;
  const section = $('verdict');
  // The classes the portal's checkpoint page uses, so verify.css colours both alike.
  section.className = ['verdict', label.signal && `verdict-${label.signal}`, `verdict-${outcome}`].filter(Boolean).join(' ');
  section.hidden = false;
  section.dataset.outcome = outcome;
  $('verdict-icon').textContent = label.icon;
  $('verdict-icon').className = ['verdict-icon', label.signal && `verdict-icon-${label.signal}`].filter(Boolean).join(' ');
  $('verdict-word').textContent = label.word;
  $('verdict-text').textContent = label.text;
  $('verdict-instruction').textContent = label.instruction ? `${S.what_to_do} ${label.instruction}` : '';
  $('verdict-instruction').hidden = !label.instruction;
  $('verdict-note').textContent = note;
  $('verdict-note').hidden = !note;
  const when = hcmcParts(checkedAt);
  $('checked-at').textContent = `${S.checked_at} ${when.date} ${when.time} ${S.hcmc_time}`;
  $('checked-at').hidden = false;
  const facts = $('holder-facts');
  facts.replaceChildren();
  const holder = $('holder');
  if (online && online.pass) {
    const card = online.pass;
    $('holder-name').textContent = card.holder_name;
    fact(facts, S.unit, settings.language === 'en' ? card.unit.name_en : card.unit.name_vi);
    fact(facts, S.windows, card.windows.map((w) => windowText(w.start, w.end, w.direction)));
    fact(facts, S.valid, `${isoDate(card.valid_from)} – ${isoDate(card.valid_until)}`, true);
    fact(facts, S.serial, `${card.serial} · ${format(S.version, { version: card.version })}`);
    $('holder-source').textContent = `${S.checked_online}. ${S.compare_id}`;
    holder.hidden = false;
  } else if (payload) {
    $('holder-name').textContent = payload.name;
    fact(facts, S.unit, unitName(payload.unit));
    fact(facts, S.windows, payload.windows.map((w) => windowText(hhmm(w.start), hhmm(w.end), w.direction)));
    fact(facts, S.valid, `${dateOfDay(payload.validFromDay)} – ${dateOfDay(payload.validUntilDay)}`, true);
    fact(facts, S.serial, `${payload.serial} · ${format(S.version, { version: payload.version })}`);
    $('holder-source').textContent = `${S.checked_offline}. ${S.offline_holder}. ${S.compare_id}`;
    holder.hidden = false;
  } else {
    holder.hidden = true;
  }
  section.scrollIntoView({ block: 'start' });
}

async function showFreshness() {
  const now = Date.now();
  const keys = state.keysMeta;
  const list = state.listMeta;
  if (!keys || !list) {
    $('keys-age').textContent = S.never_synced;
    $('list-age').textContent = '';
  } else {
    $('keys-age').textContent = format(S.keys_age, { age: age(now - keys.checkedAt) });
    $('list-age').textContent = format(S.list_age, {
      age: age(now - list.checkedAt), count: state.list.revoked.size + state.list.superseded.size });
  }
  const staleMs = settings.stale_after_hours * 3600 * 1000;
  const stale = !keys || !list || now - Math.min(keys.checkedAt, list.checkedAt) > staleMs;
  $('stale-warning').textContent = format(S.stale, { hours: settings.stale_after_hours });
  $('stale-warning').hidden = !stale || !keys || !list;
  const skew = list ? list.skewMs : keys ? keys.skewMs : 0;
  $('skew-warning').hidden = !(Math.abs(skew) > settings.clock_skew_seconds * 1000);
  $('skew-warning').textContent = format(S.clock_skew, { minutes: Math.round(Math.abs(skew) / 60000) });
  const pending = await store.pendingScans();
  $('pending').hidden = !pending;
  $('pending').textContent = format(S.pending, { n: pending });
}

function showNetwork(text) {
  const online = navigator.onLine;
  $('network').textContent = text || (online ? S.online : S.offline);
  $('network').className = online ? 'pill' : 'pill pill-offline';
}

// ---------------------------------------------------------------------------------------------
// Keys, list and counts: refreshed whenever online
// ---------------------------------------------------------------------------------------------

async function load() {
  const keys = await store.read('keys');
  const list = await store.read('list');
  if (keys) {
    state.keys = verifyingKeys(keys.document);
    state.keysMeta = keys;
  }
  if (list) {
    state.list = revocationState(list);
    state.listMeta = list;
  }
}

/** GET `url` with If-None-Match; return {status, body, etag, skewMs} (skew: portal's clock minus the phone's). */
async function conditionalGet(url, etag) {
  const sentAt = Date.now();
  const response = await fetch(url, { cache: 'no-store', headers: etag ? { 'If-None-Match': etag } : {} });
  const receivedAt = Date.now();
  const serverDate = Date.parse(response.headers.get('Date') || '');
  // The Date header has whole seconds: half a second of error, far below the 2-minute warning.
  const skewMs = Number.isNaN(serverDate) ? 0 : serverDate + 500 - (sentAt + receivedAt) / 2;
  if (response.status === 304) return { status: 304, etag, skewMs, receivedAt };
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return { status: 200, body: await response.json(), etag: response.headers.get('ETag'), skewMs, receivedAt };
}

async function syncKeys() {
  const previous = state.keysMeta;
  const answer = await conditionalGet(settings.urls.keys, previous && previous.etag);
  const document = answer.status === 304 ? previous.document : answer.body;
  const record = { document, etag: answer.etag, checkedAt: answer.receivedAt, skewMs: answer.skewMs };
  state.keys = verifyingKeys(document);
  state.keysMeta = record;
  await store.write('keys', record);
}

async function syncList() {
  const previous = state.listMeta;
  const full = !previous || Date.now() - (previous.fullAt || 0) > FULL_LIST_EVERY_MS;
  const url = full ? settings.urls.revocations : `${settings.urls.revocations}?since=${previous.version}`;
  const answer = await conditionalGet(url, full ? null : previous.etag);
  let record;
  if (answer.status === 304) {
    record = { ...previous, checkedAt: answer.receivedAt, skewMs: answer.skewMs };
  } else {
    const body = answer.body;
    const revoked = new Set(body.full ? [] : state.list.revoked);
    const superseded = new Map(body.full ? [] : state.list.superseded);
    body.revoked.forEach((serial) => { revoked.add(serial); superseded.delete(serial); });
    body.superseded.forEach(([serial, version]) => {
      if (!revoked.has(serial)) superseded.set(serial, Math.max(version, superseded.get(serial) || 0));
    });
    record = {
      version: body.version, revoked: [...revoked], superseded: [...superseded], etag: answer.etag,
      checkedAt: answer.receivedAt, skewMs: answer.skewMs, fullAt: body.full ? answer.receivedAt : previous.fullAt,
    };
  }
  state.list = revocationState(record);
  state.listMeta = record;
  await store.write('list', record);
}

function batchId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

async function sendCounts() {
  const outbox = await store.batchesToSend(batchId, COUNT_LIMITS);
  for (const item of outbox) {
    const response = await fetch(settings.urls.counts, {
      method: 'POST', cache: 'no-store', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ batch: item.batch, counts: item.counts }),
    });
    // 200: received (perhaps already); 400/413: refused for good, sending it again would not help.
    if (response.ok || response.status === 400 || response.status === 413) {
      await store.forgetBatch(item.batch);
    } else {
      break; // 429 or the portal away: keep the batch (same id) for the next time
    }
  }
}

async function sync() {
  if (state.syncing || !navigator.onLine) return;
  state.syncing = true;
  showNetwork(S.syncing);
  document.body.dataset.sync = 'running';
  try {
    await syncKeys();
    await syncList();
    await sendCounts();
    document.body.dataset.sync = 'done';
    showNetwork();
  } catch (error) {
    document.body.dataset.sync = 'failed';
    // The network went away during the sync (or was never there): say so, not that the portal failed.
    showNetwork(navigator.onLine ? S.sync_failed : undefined);
  } finally {
    state.syncing = false;
    await showFreshness();
  }
}

// ---------------------------------------------------------------------------------------------
// Checking a card
// ---------------------------------------------------------------------------------------------

async function askPortal(token) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ONLINE_ANSWER_MS);
  try {
    const response = await fetch(settings.urls.verify + token, { cache: 'no-store', signal: controller.signal });
    if (!response.ok) return null;
    const answer = await response.json();
    return OUTCOMES.has(answer.outcome) ? answer : null;
  } catch (error) {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** Verify `text` (a QR code's link or a pasted one) and show the verdict. */
async function check(text) {
  const now = Date.now();
  const token = tokenFromText(text);
  const result = state.keys.size ? verify(text, state.keys, state.list, now, OUTCOMES) : null;
  if (result) {
    const notYet = result.outcome === 'expired' && result.payload && hcmcDayOf(now) < result.payload.validFromDay;
    const note = notYet ? format(S.not_before, { date: dateOfDay(result.payload.validFromDay) }) : '';
    showVerdict(result.outcome, { payload: result.payload, note, checkedAt: now });
  }
  document.body.dataset.checks = String(Number(document.body.dataset.checks || 0) + 1);
  // Online, the portal has the last word (it knows revocations of the last minutes and the full name)
  // and records the scan itself; otherwise the phone counts it, to send later.
  const askable = result ? Boolean(result.payload) : /^[A-Za-z0-9_-]{1,240}$/.test(token);
  const answer = navigator.onLine && askable ? await askPortal(token) : null;
  if (answer) {
    showVerdict(answer.outcome, { payload: result && result.payload, online: answer, checkedAt: now });
  } else if (result) {
    const hour = Math.floor(now / 3600000) * 3600;
    await store.countScan(hour, result.payload ? result.payload.unit : null, result.outcome);
    await showFreshness();
  } else {
    showVerdictless(S.no_keys);
  }
}

function hcmcDayOf(ms) {
  return Math.floor((ms + 7 * 3600 * 1000) / 86400000) - Date.UTC(2020, 0, 1) / 86400000;
}

function onCameraText(text) {
  const seen = performance.now();
  const same = text === camera.text && seen - camera.seenAt < SAME_CARD_MS;
  camera = { text, seenAt: seen };
  if (!same) check(text);
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

async function main() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(settings.urls.service_worker, { scope: settings.urls.scope }).catch(() => {});
  }
  await load();
  showNetwork();
  await showFreshness();
  window.addEventListener('online', () => { showNetwork(); sync(); });
  window.addEventListener('offline', () => showNetwork());
  setInterval(sync, RESYNC_MS);
  setInterval(showFreshness, 30000);
  $('paste-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('paste').value;
    if (text.trim()) check(text);
  });
  decoder = await makeDecoder();
  $('photo').addEventListener('change', async () => {
    const file = $('photo').files[0];
    if (!file) return;
    const text = await readPhoto(file, decoder).catch(() => null);
    $('photo').value = '';
    if (text) check(text);
    else showVerdictless(S.photo_none);
  });
  sync();
  try {
    $('camera-status').textContent = S.camera_starting;
    const name = await startCamera($('camera'), decoder, onCameraText);
    $('camera-status').textContent = S.camera_ready;
    document.body.dataset.decoder = name;
  } catch (error) {
    $('camera-status').textContent = S.camera_denied;
  }
  document.body.dataset.ready = 'true';
}

function showVerdictless(message) {
  $('camera-status').textContent = message;
}

main();
