import type { RequestsJson } from '@grpcforge/runtime/vocabulary';
import { $, api, callRow, messageOf, say, tableBody } from './common.js';

/** `/assets/requests.js`: the requests page (filters kept in the address, pages through `nextBefore`). */

const form = $('filters', HTMLFormElement);
const FIELDS = ['service', 'method', 'code', 'principal', 'since', 'minDurationMs', 'errorsOnly'] as const;
const body = tableBody('calls');
let before: number | null = null;
let next: number | null = null;
let pageNumber = 1;

/** The form's input or select named `name`. */
function field(name: (typeof FIELDS)[number]): HTMLInputElement | HTMLSelectElement {
  const input = form.elements.namedItem(name);
  if (!(input instanceof HTMLInputElement || input instanceof HTMLSelectElement))
    throw new Error(`the form has no field ${name}`);
  return input;
}
const isCheckbox = (input: HTMLInputElement | HTMLSelectElement): input is HTMLInputElement =>
  input instanceof HTMLInputElement && input.type === 'checkbox';

const initial = new URLSearchParams(location.search);
// Page size: 50, or ?limit= in the address (1-500).
const limit = initial.get('limit');
for (const name of FIELDS) {
  const value = initial.get(name);
  if (value === null) continue;
  const input = field(name);
  if (isCheckbox(input)) input.checked = value === 'true';
  else input.value = value;
}

function filters() {
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const input = field(name);
    if (isCheckbox(input)) {
      if (input.checked) params.set(name, 'true');
    } else if (input.value.trim()) {
      params.set(name, input.value.trim());
    }
  }
  return params;
}

async function load() {
  const params = filters();
  if (limit) params.set('limit', limit);
  const query = params.toString();
  history.replaceState(null, '', location.pathname + (query ? `?${query}` : ''));
  if (before !== null) params.set('before', String(before));
  try {
    const page = await api<RequestsJson>(`requests?${params.toString()}`);
    say('');
    body.replaceChildren(...page.logs.map(callRow));
    next = page.nextBefore;
    // A page looks at a bounded stretch of the log: none here may still mean some further back.
    const noneHere = page.logs.length === 0 && next !== null;
    $('empty').hidden = page.logs.length > 0 || noneHere;
    $('next-page', HTMLButtonElement).disabled = next === null;
    $('page-info').textContent = noneHere
      ? `page ${pageNumber}: no match in this stretch of the log, older ones may have some`
      : `page ${pageNumber}`;
  } catch (error) {
    say(`cannot load the requests: ${messageOf(error)}`);
  }
}

const fromStart = () => {
  before = null;
  pageNumber = 1;
  void load();
};
form.addEventListener('submit', (event) => {
  event.preventDefault();
  fromStart();
});
$('view-all').addEventListener('click', () => {
  form.reset();
  fromStart();
});
$('view-errors').addEventListener('click', () => {
  form.reset();
  (field('errorsOnly') as HTMLInputElement).checked = true;
  fromStart();
});
$('view-slow').addEventListener('click', () => {
  form.reset();
  field('minDurationMs').value = $('slow-ms', HTMLInputElement).value;
  fromStart();
});
$('first-page').addEventListener('click', fromStart);
$('next-page').addEventListener('click', () => {
  if (next === null) return;
  before = next;
  pageNumber += 1;
  void load();
});
void load();
