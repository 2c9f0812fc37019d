/**
 * `/assets/explorer.js`: the explorer's form. Targets from `GET /api/v1/explorer/targets`, methods and their
 * templates from `GET /api/v1/catalog`; Send posts `POST /api/v1/explorer/call`. The API key and the bearer token
 * live only in their password inputs: nothing writes them to storage, the address or the page.
 */
export const EXPLORER_SCRIPT = `'use strict';
(() => {
  const { $, say, api } = window.dashboard;
  const params = new URLSearchParams(location.search);
  /** pkg.Service/Method → its catalog entry. */
  const methods = new Map();
  let targets = [];
  /** The method whose template the request holds. */
  let prefilledFor = '';

  const streamsRequests = (method) => method.kind === 'clientStreaming' || method.kind === 'bidiStreaming';

  /** Shows the method's kind and comment, prefills the request with its template, picks a target serving it. */
  function methodChanged() {
    const method = methods.get($('method').value.trim());
    $('method-kind').textContent = method ? method.kind + ': ' + method.inputType + ' → ' + method.outputType : '';
    $('method-comment').textContent = method ? method.comment : '';
    if (!method) return;
    // Another method takes another message: its template. The same one again keeps what was written.
    if (method.method !== prefilledFor || $('request').value.trim() === '') {
      prefilledFor = method.method;
      $('request').value = streamsRequests(method)
        ? JSON.stringify(method.requestTemplate)
        : JSON.stringify(method.requestTemplate, null, 2);
    }
    const service = method.method.slice(0, method.method.indexOf('/'));
    const chosen = targets.find((target) => target.target === $('target').value);
    if (!chosen || !chosen.services.includes(service)) {
      const serving = targets.find((target) => target.services.includes(service));
      if (serving) $('target').value = serving.target;
    }
  }

  async function loadTargets() {
    try {
      targets = (await api('explorer/targets')).targets;
    } catch (error) {
      say('cannot load the targets: ' + error.message);
      return;
    }
    $('target').replaceChildren(
      ...targets.map((target) => {
        const option = document.createElement('option');
        option.value = target.target;
        option.textContent = target.target + ' · ' + target.service + (target.from === 'instance' ? ' (running)' : ' (listen in grpcforge.yaml)');
        return option;
      }),
    );
    if (targets.length === 0) say('no target: start a service with grpcforge serve');
    const wanted = params.get('target');
    if (wanted && targets.some((target) => target.target === wanted)) $('target').value = wanted;
  }

  async function loadCatalog() {
    try {
      for (const service of (await api('catalog')).services) for (const method of service.methods) methods.set(method.method, method);
    } catch (error) {
      // The explorer still calls through reflection: type the method.
      $('method-kind').textContent = 'no catalog (' + error.message + '): type pkg.Service/Method';
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
  function metadataOf(text) {
    const metadata = {};
    for (const line of text.split('\\n')) {
      if (!line.trim()) continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error('metadata: expected name: value, got "' + line.trim() + '"');
      metadata[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
    return metadata;
  }

  const metadataText = (metadata) =>
    Object.entries(metadata)
      .flatMap(([name, values]) => values.map((value) => name + ': ' + value))
      .join('\\n');

  function show(reply) {
    $('result').hidden = false;
    $('status').textContent = reply.status + ' (' + reply.statusCode + ')';
    $('status').className = reply.statusCode === 0 ? 'ok' : 'error';
    $('status-message').textContent = reply.message || '–';
    $('duration').textContent = reply.durationMs.toFixed(2) + ' ms';
    $('response-count').textContent = reply.responses.length + (reply.truncated ? ' (cut: more were sent)' : '');
    $('descriptors').textContent = reply.descriptors === 'contracts' ? 'the workspace contracts (the server has no reflection)' : 'server reflection';
    $('responses').textContent = reply.responses.map((response) => JSON.stringify(response)).join('\\n');
    $('headers').textContent = metadataText(reply.headers) || '–';
    $('trailers').textContent = metadataText(reply.trailers) || '–';
    $('command-grpcforge').textContent = '$ ' + reply.commands.grpcforge;
    $('command-buf-curl').textContent = '$ ' + reply.commands.bufCurl;
  }

  $('method').addEventListener('input', methodChanged);
  $('method').addEventListener('change', methodChanged);
  $('call').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('send').disabled = true;
    say('');
    try {
      const body = {
        target: $('target').value,
        method: $('method').value.trim(),
        requests: $('request').value,
        metadata: metadataOf($('metadata').value),
      };
      if ($('api-key').value) body.apiKey = $('api-key').value;
      if ($('bearer-token').value) body.bearerToken = $('bearer-token').value;
      if ($('deadline').value.trim()) body.deadlineMs = Number($('deadline').value.trim());
      show(await api('explorer/call', body));
    } catch (error) {
      $('result').hidden = true;
      say(error.message);
    } finally {
      $('send').disabled = false;
    }
  });

  void (async () => {
    await Promise.all([loadTargets(), loadCatalog()]);
    const wanted = params.get('method');
    if (wanted) $('method').value = wanted;
    methodChanged();
    document.body.dataset.ready = 'true';
  })();
})();
`;
