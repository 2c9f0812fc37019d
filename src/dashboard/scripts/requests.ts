/** `/assets/requests.js`: the requests page (filters kept in the address, pages through `nextBefore`). */
export const REQUESTS_SCRIPT = `'use strict';
(() => {
  const { $, say, api, callRow } = window.dashboard;
  const form = $('filters');
  const FIELDS = ['service', 'method', 'code', 'principal', 'since', 'minDurationMs', 'errorsOnly'];
  const body = $('calls').tBodies[0];
  let before = null;
  let next = null;
  let pageNumber = 1;

  const initial = new URLSearchParams(location.search);
  // Page size: 50, or ?limit= in the address (1-500).
  const limit = initial.get('limit');
  for (const name of FIELDS) {
    const value = initial.get(name);
    if (value === null) continue;
    const input = form.elements[name];
    if (input.type === 'checkbox') input.checked = value === 'true';
    else input.value = value;
  }

  function filters() {
    const params = new URLSearchParams();
    for (const name of FIELDS) {
      const input = form.elements[name];
      if (input.type === 'checkbox') {
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
    history.replaceState(null, '', location.pathname + (query ? '?' + query : ''));
    if (before !== null) params.set('before', String(before));
    try {
      const page = await api('requests?' + params.toString());
      say('');
      body.replaceChildren(...page.logs.map(callRow));
      $('empty').hidden = page.logs.length > 0;
      next = page.nextBefore;
      $('next-page').disabled = next === null;
      $('page-info').textContent = 'page ' + pageNumber;
    } catch (error) {
      say('cannot load the requests: ' + error.message);
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
    form.elements.errorsOnly.checked = true;
    fromStart();
  });
  $('view-slow').addEventListener('click', () => {
    form.reset();
    form.elements.minDurationMs.value = $('slow-ms').value;
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
})();
`;

/** `/assets/request.js`: one request's page, every stored column of `GET /api/v1/requests/:id`. */
export const REQUEST_SCRIPT = `'use strict';
(() => {
  const { $, say, api } = window.dashboard;
  const requestId = decodeURIComponent(location.pathname.slice('/requests/'.length));
  document.querySelector('h1').textContent = 'Request ' + requestId;
  api('requests/' + encodeURIComponent(requestId)).then(
    ({ log }) => {
      const list = $('columns');
      for (const [column, value] of Object.entries(log)) {
        const term = document.createElement('dt');
        term.textContent = column;
        const detail = document.createElement('dd');
        detail.dataset.column = column;
        detail.textContent = value === null ? '–' : String(value);
        list.append(term, detail);
      }
    },
    (error) => say('cannot load the request: ' + error.message),
  );
})();
`;
