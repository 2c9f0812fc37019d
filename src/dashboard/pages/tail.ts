import { renderPage } from './layout.js';
import { CALLS_TABLE } from './requests.js';

/** The HTML of `/tail`: calls as they are recorded (server-sent events), newest first, pausable. */
export function renderTailPage(): string {
  return renderPage({
    title: 'Live tail',
    nav: 'tail',
    header: '<button type="button" id="pause">Pause</button>\n<span id="tail-state" class="muted">connecting…</span>',
    main: CALLS_TABLE,
    module: '/assets/tail.js',
  });
}
