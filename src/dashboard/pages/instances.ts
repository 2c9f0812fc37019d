import { emptyTable, renderPage } from './layout.js';

const COLUMNS = [
  'id',
  'service',
  'state',
  'address',
  'pid',
  'host',
  'uptime',
  'heartbeat age',
  'restarts',
  'services',
  'calls recorded',
  'rows written',
  'rows dropped',
  'defences',
];

/**
 * The HTML of `/instances`: the `grpcforge serve` processes the store knows, as `grpcforge status` lists them (the
 * running ones, restarts folded), with a toggle that shows the stopped ones too and a note of how many are hidden.
 */
export function renderInstancesPage(): string {
  return renderPage({
    title: 'Instances',
    nav: 'instances',
    header:
      '<span class="muted">unresponsive: serving, without a heartbeat for 30 s (they are sent every 10 s); restarts: earlier runs of the service on the same host and address</span>',
    main: `<div class="filters">
<label><span>show stopped instances</span><input type="checkbox" id="show-stopped" name="all" value="true"></label>
<span id="hidden-note" class="muted"></span>
</div>
${emptyTable('instances', COLUMNS, 'text')}
<p id="empty" class="muted" hidden></p>`,
    module: '/assets/instances.js',
  });
}
