import type { ApiKeyJson, ApiKeysJson, CreateApiKeyRequestJson, CreatedApiKeyJson } from '@grpcforge/runtime/vocabulary';
import { $, api, cell, messageOf, say, tableBody } from './common.js';

/** `/assets/keys.js`: the keys table from `GET /api/v1/keys`; creates (`POST /api/v1/keys`) and revokes keys. */

/** The names of the keys listed: a taken one is refused here (the server answers 409 if the list was stale). */
let names = new Set<string>();

async function load() {
  try {
    const { keys } = await api<ApiKeysJson>('keys');
    names = new Set(keys.map((key) => key.name));
    const body = tableBody('keys');
    body.replaceChildren();
    for (const key of keys) {
      const row = document.createElement('tr');
      row.dataset.id = key.id;
      row.dataset.name = key.name;
      cell(row, key.prefix);
      cell(row, key.name);
      cell(row, key.roles.length ? key.roles.join(', ') : '–');
      cell(row, key.state).className = `state state-${key.state}`;
      cell(row, key.createdAt);
      cell(row, key.expiresAt ?? 'never');
      cell(row, key.lastUsedAt ?? 'never');
      cell(row, String(key.requestCount));
      cell(row, key.id);
      const actions = document.createElement('td');
      if (key.state === 'active') {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'revoke';
        button.textContent = 'Revoke';
        button.addEventListener('click', () => void revoke(key, button));
        actions.append(button);
      }
      row.append(actions);
      body.append(row);
    }
    $('empty').hidden = keys.length > 0;
  } catch (error) {
    say(`cannot load the API keys: ${messageOf(error)}`);
  }
}

async function revoke(key: ApiKeyJson, button: HTMLButtonElement) {
  if (!confirm(`Revoke the API key "${key.name}" (${key.prefix})? Servers refuse it within 5 s.`)) return;
  button.disabled = true;
  try {
    await api(`keys/${encodeURIComponent(key.id)}/revoke`, {});
    say(`revoked ${key.name}`);
  } catch (error) {
    say(`cannot revoke ${key.name}: ${messageOf(error)}`);
  }
  await load();
}

const form = $('create', HTMLFormElement);
form.addEventListener('submit', (event) => {
  event.preventDefault();
  void create();
});

async function create() {
  const fields = new FormData(form);
  const text = (field: string) => {
    const value = fields.get(field);
    return typeof value === 'string' ? value : '';
  };
  const name = text('name').trim();
  const roles = text('roles')
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean);
  if (names.has(name)) {
    $('new-key').hidden = true;
    say(`cannot create the key: an API key named "${name}" exists`);
    return;
  }
  const days = text('expiresInDays').trim();
  // Whole numbers as numbers; anything else as typed, for the server to refuse by name.
  const expiresInDays = /^\d+$/.test(days) ? Number(days) : days;
  const request: Omit<CreateApiKeyRequestJson, 'expiresInDays'> & { expiresInDays?: number | string } = {
    name,
    roles,
    ...(days ? { expiresInDays } : {}),
  };
  try {
    const created = await api<CreatedApiKeyJson>('keys', request);
    say('');
    $('new-key-name').textContent = created.name;
    $('new-key-value').textContent = created.key;
    $('new-key').hidden = false;
    form.reset();
  } catch (error) {
    $('new-key').hidden = true;
    say(`cannot create the key: ${messageOf(error)}`);
  }
  await load();
}

// The key lives in the page only until it is dismissed (or the page is left).
$('new-key-done').addEventListener('click', () => {
  $('new-key-value').textContent = '';
  $('new-key').hidden = true;
});

void load();
