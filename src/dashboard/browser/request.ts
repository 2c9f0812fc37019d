import type { RequestJson } from '@grpcforge/runtime/vocabulary';
import { $, api, messageOf, say } from './common.js';

/** `/assets/request.js`: one request's page, every stored column of `GET /api/v1/requests/:id`. */

const requestId = decodeURIComponent(location.pathname.slice('/requests/'.length));
const heading = document.querySelector('h1');
if (heading) heading.textContent = `Request ${requestId}`;
api<RequestJson>(`requests/${encodeURIComponent(requestId)}`).then(
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
  (error: unknown) => say(`cannot load the request: ${messageOf(error)}`),
);
