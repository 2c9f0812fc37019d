import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';

/**
 * The one Handlebars instance: `strict` so a missing view field throws instead of printing nothing, `noEscape`
 * because we emit TypeScript, not HTML. Templates only display what views computed.
 */
const engine = Handlebars.create();
const templatesRoot = new URL('../../../templates/', import.meta.url);
const compiled = new Map<string, Handlebars.TemplateDelegate>();

engine.registerPartial('header', readFileSync(new URL('partials/header.hbs', templatesRoot), 'utf8'));

/** Folder of grpcforge's templates (`templates/` in the package). */
export function templatesDir(): URL {
  return templatesRoot;
}

/**
 * Renders `templates/<name>` with a view, normalising to LF line endings, no blank first line, no run of blank lines
 * and one final newline.
 * @param name path under `templates/`, for example `gen/client.ts.hbs`.
 * @throws Error when the view lacks a field the template uses.
 */
export function renderTemplate(name: string, view: object): string {
  let template = compiled.get(name);
  if (!template) {
    template = engine.compile(readFileSync(new URL(name, templatesRoot), 'utf8'), { strict: true, noEscape: true });
    compiled.set(name, template);
  }
  return `${template(view)
    .replace(/\r\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+/, '') // an empty block at the top (no imports) leaves no blank first line
    .trimEnd()}\n`;
}
