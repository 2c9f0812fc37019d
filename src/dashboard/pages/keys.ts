import { emptyNote, emptyTable, renderPage } from './layout.js';

/** The last column holds the revoke button. */
const COLUMNS = ['prefix', 'name', 'roles', 'state', 'created', 'expires', 'last used', 'requests', 'id', ''];

/** The HTML of `/keys`: the API keys (never the keys themselves), a form that creates one, and revoke buttons. */
export function renderKeysPage(): string {
  return renderPage({
    title: 'API keys',
    nav: 'keys',
    header: '<span class="muted">keys for grpcforge serve (x-api-key metadata), as grpcforge keys manages them</span>',
    main: `<form id="create" class="create">
<label>name <input name="name" required maxlength="100" placeholder="ci-bot"></label>
<label>roles <input name="roles" placeholder="deployer, reader"></label>
<label>expires in days <input name="expiresInDays" inputmode="numeric" size="6" placeholder="never"></label>
<button type="submit">Create key</button>
</form>
<div id="new-key" hidden>
<p>new API key <strong id="new-key-name"></strong>: <code id="new-key-value"></code></p>
<p>Copy it now: it will not be shown again (the store keeps only its hash).
<button type="button" id="new-key-done">Done</button></p>
</div>
${emptyTable('keys', COLUMNS, 'text')}
${emptyNote('no API key yet')}`,
    module: '/assets/keys.js',
  });
}
