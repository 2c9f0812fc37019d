import { renderPage } from './layout.js';
import { CALLS_HEAD } from './requests.js';

/** The HTML of `/tail`: calls as they are recorded (server-sent events), newest first, pausable. */
export function renderTailPage(): string {
  return renderPage({
    title: 'Live tail',
    nav: 'tail',
    header: '<button type="button" id="pause">Pause</button>\n<span id="tail-state" class="muted">connecting…</span>',
    main: `<table id="calls" class="text">${CALLS_HEAD}<tbody></tbody></table>`,
    scripts: ['/assets/tail.js'],
  });
}
