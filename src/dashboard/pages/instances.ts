import { emptyNote, emptyTable, renderPage } from './layout.js';

const COLUMNS = [
  'id',
  'service',
  'state',
  'address',
  'pid',
  'host',
  'uptime',
  'heartbeat age',
  'services',
  'calls recorded',
  'rows written',
  'rows dropped',
];

/** The HTML of `/instances`: every `grpcforge serve` process the store knows, as `grpcforge status` lists them. */
export function renderInstancesPage(): string {
  return renderPage({
    title: 'Instances',
    nav: 'instances',
    header: '<span class="muted">unresponsive: serving, without a heartbeat for 30 s (they are sent every 10 s)</span>',
    main: `${emptyTable('instances', COLUMNS, 'text')}
${emptyNote('no instance has registered in this store (grpcforge serve registers itself)')}`,
    scripts: ['/assets/instances.js'],
  });
}
