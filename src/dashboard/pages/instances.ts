import { renderPage } from './layout.js';

/** The HTML of `/instances`: every `grpcforge serve` process the store knows, as `grpcforge status` lists them. */
export function renderInstancesPage(): string {
  return renderPage({
    title: 'Instances',
    nav: 'instances',
    header: '<span class="muted">unresponsive: serving, without a heartbeat for 30 s (they are sent every 10 s)</span>',
    main: `<table id="instances" class="text">
<thead><tr><th>id</th><th>service</th><th>state</th><th>address</th><th>pid</th><th>host</th><th>uptime</th><th>heartbeat age</th><th>services</th><th>calls recorded</th><th>rows written</th><th>rows dropped</th></tr></thead>
<tbody></tbody>
</table>
<p id="empty" class="muted" hidden>no instance has registered in this store (grpcforge serve registers itself)</p>`,
    scripts: ['/assets/instances.js'],
  });
}
