import type { CatalogJson, CatalogService, MethodKindJson } from '@grpcforge/runtime/vocabulary';
import { $, api, cell, messageOf, say } from './common.js';

/** `/assets/catalog.js`: the service catalog from `GET /api/v1/catalog`, once (it changes only with a restart). */

const KINDS: Readonly<Record<MethodKindJson, string>> = {
  unary: 'unary',
  serverStreaming: 'server streaming',
  clientStreaming: 'client streaming',
  bidiStreaming: 'bidi streaming',
};

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** A <details> with a message's name and its JSON template. */
function template(label: string, typeName: string, value: unknown) {
  const details = element('details', undefined, 'template');
  details.append(element('summary', `${label} ${typeName}`), element('pre', JSON.stringify(value, null, 2)));
  return details;
}

function serviceSection(service: CatalogService) {
  const section = element('section', undefined, 'service');
  section.dataset.service = service.service;
  const title = element('h2', service.service);
  if (service.deprecated) title.append(' ', element('span', 'deprecated', 'deprecated'));
  section.append(title);
  const about: string[] = [];
  if (service.servedBy.length > 0) about.push(`served by ${service.servedBy.join(', ')}`);
  if (service.consumedBy.length > 0) about.push(`consumed by ${service.consumedBy.join(', ')}`);
  about.push(service.file);
  section.append(element('p', about.join(' · '), 'muted'));
  if (service.comment) section.append(element('p', service.comment, 'comment'));
  const table = element('table', undefined, 'text methods');
  const head = table.createTHead().insertRow();
  for (const label of ['method', 'kind', 'idempotency', 'comment', 'request and response', '']) head.append(element('th', label));
  const body = table.createTBody();
  for (const method of service.methods) {
    const row = body.insertRow();
    row.dataset.method = method.method;
    const name = cell(row, method.name);
    name.className = 'method-name';
    if (method.deprecated) name.append(' ', element('span', 'deprecated', 'deprecated'));
    cell(row, KINDS[method.kind]).className = 'kind';
    cell(row, method.idempotency === 'unknown' ? '' : method.idempotency);
    cell(row, method.comment).className = 'comment';
    const shapes = row.insertCell();
    shapes.append(template('request', method.inputType, method.requestTemplate));
    shapes.append(template('response', method.outputType, method.responseTemplate));
    const link = element('a', 'try it', 'try-it');
    link.href = `/explorer?method=${encodeURIComponent(method.method)}`;
    row.insertCell().append(link);
  }
  section.append(table);
  return section;
}

async function load() {
  try {
    const reply = await api<CatalogJson>('catalog');
    $('catalog').replaceChildren(...reply.services.map(serviceSection));
    $('empty').hidden = reply.services.length > 0;
  } catch (error) {
    say(`no service catalog: ${messageOf(error)}`);
  }
}
void load();
