import type {
  CatalogJson,
  CatalogMethod,
  ExplorerCallJson,
  ExplorerCallRequestJson,
  ExplorerTarget,
  ExplorerTargetsJson,
} from '@grpcforge/runtime/vocabulary';
import { $, api, messageOf, say } from './common.js';

/**
 * `/assets/explorer.js`: the explorer's form. Targets from `GET /api/v1/explorer/targets`, methods and their
 * templates from `GET /api/v1/catalog`; Send posts `POST /api/v1/explorer/call`. The API key and the bearer token
 * live only in their password inputs: nothing writes them to storage, the address or the page.
 */

const params = new URLSearchParams(location.search);
/** pkg.Service/Method → its catalog entry. */
const methods = new Map<string, CatalogMethod>();
let targets: readonly ExplorerTarget[] = [];
/** The method whose template the request holds. */
let prefilledFor = '';

const methodInput = $('method', HTMLInputElement);
const targetSelect = $('target', HTMLSelectElement);
const requestInput = $('request', HTMLTextAreaElement);
/** The value of input `#id`, trimmed. */
const valueOf = (id: string) => $(id, HTMLInputElement).value.trim();

const streamsRequests = (method: CatalogMethod) => method.kind === 'clientStreaming' || method.kind === 'bidiStreaming';

/** Shows the method's kind and comment, prefills the request with its template, picks a target serving it. */
function methodChanged() {
  const method = methods.get(methodInput.value.trim());
  $('method-kind').textContent = method ? `${method.kind}: ${method.inputType} → ${method.outputType}` : '';
  $('method-comment').textContent = method ? method.comment : '';
  if (!method) return;
  // Another method takes another message: its template. The same one again keeps what was written.
  if (method.method !== prefilledFor || requestInput.value.trim() === '') {
    prefilledFor = method.method;
    requestInput.value = streamsRequests(method)
      ? JSON.stringify(method.requestTemplate)
      : JSON.stringify(method.requestTemplate, null, 2);
  }
  const service = method.method.slice(0, method.method.indexOf('/'));
  const chosen = targets.find((target) => target.target === targetSelect.value);
  if (!chosen?.services.includes(service)) {
    const serving = targets.find((target) => target.services.includes(service));
    if (serving) targetSelect.value = serving.target;
  }
}

async function loadTargets() {
  try {
    targets = (await api<ExplorerTargetsJson>('explorer/targets')).targets;
  } catch (error) {
    say(`cannot load the targets: ${messageOf(error)}`);
    return;
  }
  targetSelect.replaceChildren(
    ...targets.map((target) => {
      const option = document.createElement('option');
      option.value = target.target;
      option.textContent = `${target.target} · ${target.service}${target.from === 'instance' ? ' (running)' : ' (listen in grpcforge.yaml)'}`;
      return option;
    }),
  );
  if (targets.length === 0) say('no target: start a service with grpcforge serve');
  const wanted = params.get('target');
  if (wanted && targets.some((target) => target.target === wanted)) targetSelect.value = wanted;
}

async function loadCatalog() {
  try {
    for (const service of (await api<CatalogJson>('catalog')).services) {
      for (const method of service.methods) methods.set(method.method, method);
    }
  } catch (error) {
    // The explorer still calls through reflection: type the method.
    $('method-kind').textContent = `no catalog (${messageOf(error)}): type pkg.Service/Method`;
    return;
  }
  $('methods').replaceChildren(
    ...[...methods.keys()].map((name) => {
      const option = document.createElement('option');
      option.value = name;
      return option;
    }),
  );
}

/** "name: value" lines → an object. */
function metadataOf(text: string) {
  const metadata: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`metadata: expected name: value, got "${line.trim()}"`);
    metadata[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return metadata;
}

const metadataText = (metadata: Readonly<Record<string, readonly string[]>>) =>
  Object.entries(metadata)
    .flatMap(([name, values]) => values.map((value) => `${name}: ${value}`))
    .join('\n');

/**
 * The error's field violations in the table under the request (hidden when there are none), and every detail as a
 * line in the answer, as `grpcforge call` prints them.
 */
function showDetails(reply: ExplorerCallJson | undefined) {
  const violations = reply?.details?.badRequest?.fieldViolations ?? [];
  $('violations').hidden = violations.length === 0;
  $('violations')
    .querySelector('tbody')!
    .replaceChildren(
      ...violations.map((violation) => {
        const row = document.createElement('tr');
        row.dataset.field = violation.field;
        for (const text of [violation.field, violation.description, violation.reason ?? '']) {
          const cell = document.createElement('td');
          cell.textContent = text;
          row.append(cell);
        }
        return row;
      }),
    );
  const lines = [...(reply?.detailsText ?? []), ...(reply?.detailsProblem ? [`(${reply.detailsProblem})`] : [])];
  $('error-details').textContent = lines.join('\n') || '–';
}

function show(reply: ExplorerCallJson) {
  showDetails(reply);
  $('result').hidden = false;
  $('status').textContent = `${reply.status} (${reply.statusCode})`;
  $('status').className = reply.statusCode === 0 ? 'ok' : 'error';
  $('status-message').textContent = reply.message || '–';
  $('duration').textContent = `${reply.durationMs.toFixed(2)} ms`;
  $('response-count').textContent = `${reply.responses.length}${reply.truncated ? ' (cut: more were sent)' : ''}`;
  $('descriptors').textContent =
    reply.descriptors === 'contracts' ? 'the workspace contracts (the server has no reflection)' : 'server reflection';
  $('responses').textContent = reply.responses.map((response) => JSON.stringify(response)).join('\n');
  $('headers').textContent = metadataText(reply.headers) || '–';
  $('trailers').textContent = metadataText(reply.trailers) || '–';
  $('command-grpcforge').textContent = `$ ${reply.commands.grpcforge}`;
  $('command-buf-curl').textContent = `$ ${reply.commands.bufCurl}`;
}

async function send() {
  const button = $('send', HTMLButtonElement);
  button.disabled = true;
  say('');
  try {
    const apiKey = $('api-key', HTMLInputElement).value;
    const bearerToken = $('bearer-token', HTMLInputElement).value;
    const deadline = valueOf('deadline');
    const body: ExplorerCallRequestJson = {
      target: targetSelect.value,
      method: methodInput.value.trim(),
      requests: requestInput.value,
      metadata: metadataOf($('metadata', HTMLTextAreaElement).value),
      ...(apiKey ? { apiKey } : {}),
      ...(bearerToken ? { bearerToken } : {}),
      ...(deadline ? { deadlineMs: Number(deadline) } : {}),
    };
    show(await api<ExplorerCallJson>('explorer/call', body));
  } catch (error) {
    $('result').hidden = true;
    showDetails(undefined);
    say(messageOf(error));
  } finally {
    button.disabled = false;
  }
}

methodInput.addEventListener('input', methodChanged);
methodInput.addEventListener('change', methodChanged);
$('call').addEventListener('submit', (event) => {
  event.preventDefault();
  void send();
});

await Promise.all([loadTargets(), loadCatalog()]);
const wanted = params.get('method');
if (wanted) methodInput.value = wanted;
methodChanged();
document.body.dataset.ready = 'true';
