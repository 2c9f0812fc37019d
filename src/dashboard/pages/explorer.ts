import { renderPage } from './layout.js';

/**
 * The HTML of `/explorer`: a form that calls one method of a running service through `POST /api/v1/explorer/call`
 * (target, method, request JSON prefilled from the catalog's template, metadata, an API key or a bearer token in
 * password inputs that nothing stores, a deadline), and the answer: status, duration, responses as JSON lines,
 * headers, trailers and the equivalent commands. An error's details (google.rpc.Status) show in the answer, and its
 * field violations (BadRequest) in a table under the request they are about.
 */
export function renderExplorerPage(): string {
  return renderPage({
    title: 'API explorer',
    nav: 'explorer',
    header: '<span class="muted">call a method of a running service, through its server reflection</span>',
    main: `<form id="call" class="explorer" autocomplete="off">
<div class="row">
<label>target <select id="target" name="target" required></select></label>
<label>method <input id="method" name="method" list="methods" size="48" required placeholder="pkg.Service/Method" spellcheck="false"></label>
<datalist id="methods"></datalist>
<span id="method-kind" class="muted"></span>
</div>
<p id="method-comment" class="muted comment"></p>
<div class="row">
<label>API key (x-api-key) <input id="api-key" name="apiKey" type="password" autocomplete="off" size="30"></label>
<label>bearer token <input id="bearer-token" name="bearerToken" type="password" autocomplete="off" size="30"></label>
<label>deadline ms <input id="deadline" name="deadlineMs" inputmode="numeric" size="7" placeholder="10000"></label>
</div>
<label>request: JSON; for a stream, one message a line (JSON lines)
<textarea id="request" name="request" rows="10" cols="90" spellcheck="false"></textarea></label>
<div id="violations" hidden>
<p class="error">The server refused these fields of the request (google.rpc.BadRequest):</p>
<table class="text"><thead><tr><th>field</th><th>description</th><th>rule</th></tr></thead><tbody></tbody></table>
</div>
<label>metadata: name: value, one a line
<textarea id="metadata" name="metadata" rows="2" cols="90" spellcheck="false"></textarea></label>
<p><button type="submit" id="send">Send</button>
<span class="muted">The key and the token go to this one call; the page and the dashboard keep neither.</span></p>
</form>
<section id="result" hidden>
<h2>Answer</h2>
<dl class="columns">
<dt>status</dt><dd id="status"></dd>
<dt>message</dt><dd id="status-message"></dd>
<dt>details</dt><dd id="error-details" class="details"></dd>
<dt>duration</dt><dd id="duration"></dd>
<dt>responses</dt><dd id="response-count"></dd>
<dt>descriptors</dt><dd id="descriptors"></dd>
</dl>
<h2>Responses (JSON lines)</h2>
<pre id="responses"></pre>
<h2>Headers</h2>
<pre id="headers"></pre>
<h2>Trailers</h2>
<pre id="trailers"></pre>
<h2>The same call from a shell</h2>
<pre id="command-grpcforge"></pre>
<pre id="command-buf-curl"></pre>
</section>`,
    module: '/assets/explorer.js',
  });
}
