import type { ContractErrorCatalog, ContractErrorReason } from '../../../contract/model.js';
import { UserError } from '../../../util/errors.js';
import {
  CODEGEN_RUNTIME_VALUES,
  runtimeImport,
  type CodegenRuntimeType,
  type CodegenRuntimeValue,
} from '../../runtime-symbols.js';
import { commentLines, lowerFirst, stringLiteral, wrapText, type HeaderView } from './common.js';

/** Path of an error catalog's generated module, relative to the service folder: `src/gen/errors/auth.v1.AuthErrorReason.ts`. */
export function errorCatalogPath(catalog: Pick<ContractErrorCatalog, 'fullName'>): string {
  return `src/gen/errors/${catalog.fullName}.ts`;
}

/** What a workspace service does with a catalog's package: serve its services (constructors), consume them (guards). */
export interface ErrorCatalogRoles {
  readonly serves: boolean;
  readonly consumes: boolean;
}

/** Exported names of an error catalog's module. */
export interface ErrorCatalogNames {
  /** The constructors: `authErrors`. */
  readonly constructors: string;
  /** The domain constant: `authErrorDomain`. */
  readonly domain: string;
  /** The reason → status code table: `authErrorReasons`. */
  readonly reasons: string;
}

/**
 * Names of a catalog's exports, from its enum's short name: the stem is the name without a trailing `Reason` or
 * `Reasons`, then without a trailing `Error` or `Errors` (`AuthErrorReason`, `AuthErrors` and `AuthReason` all give
 * `Auth`); the constructors are `<stem>Errors`, the domain `<stem>ErrorDomain`, the table `<stem>ErrorReasons`, the
 * stem's leading capitals lower-cased (`authErrors`; `httpErrors` for `HTTPErrorReason`). An enum named only
 * `ErrorReason` gives `errors`, `errorDomain`, `errorReasons`. Each catalog has its own module, so two catalogs' names
 * never meet in one file, and none of these can be a runtime helper's name (`catalogError`, `isCatalogError`).
 */
export function errorCatalogNames(catalog: Pick<ContractErrorCatalog, 'name'>): ErrorCatalogNames {
  const stem = lowerInitials(catalog.name.replace(/Reasons?$/, '').replace(/Errors?$/, ''));
  const named = (suffix: string) => (stem ? `${stem}${suffix}` : lowerFirst(suffix));
  return { constructors: named('Errors'), domain: named('ErrorDomain'), reasons: named('ErrorReasons') };
}

/** `Auth` → `auth`, `HTTPCode` → `httpCode`, `HTTP` → `http`: a PascalCase name's leading capitals lower-cased. */
function lowerInitials(name: string): string {
  const capitals = /^[A-Z]+/.exec(name)?.[0] ?? '';
  // In `HTTPCode` the last capital of the run starts the next word.
  const run = capitals.length > 1 && capitals.length < name.length ? capitals.length - 1 : capitals.length;
  return name.slice(0, run).toLowerCase() + name.slice(run);
}

/** `INVALID_CREDENTIALS` → `InvalidCredentials`. */
function pascalReason(reason: string): string {
  return reason
    .split('_')
    .map((part) => part.charAt(0) + part.slice(1).toLowerCase())
    .join('');
}

/**
 * The constructor key and guard name of every reason of a catalog: `invalidCredentials` and `isInvalidCredentials`.
 * @throws UserError `name-clash` when two reasons give the same name (`A_1B` and `A1B` are both `a1b`), or for the
 *   reason `CATALOG_ERROR`, whose guard would be the runtime's `isCatalogError` that the guards call.
 */
export function errorReasonNames(catalog: ContractErrorCatalog): Map<string, { key: string; guard: string }> {
  const names = new Map<string, { key: string; guard: string }>();
  const owners = new Map<string, string>();
  for (const { reason, enumValueName } of catalog.reasons) {
    const pascal = pascalReason(reason);
    const other = owners.get(pascal);
    if (other !== undefined) {
      throw new UserError(
        'name-clash',
        `error reasons ${other} and ${enumValueName} of ${catalog.fullName} would both be named "${lowerFirst(pascal)}"`,
        [`rename one of them in ${catalog.file}`],
      );
    }
    if ((CODEGEN_RUNTIME_VALUES as readonly string[]).includes(`is${pascal}`)) {
      throw new UserError(
        'name-clash',
        `error reason ${enumValueName} of ${catalog.fullName}: its guard would be "is${pascal}", the runtime helper generated guards call`,
        [`rename it in ${catalog.file}`],
      );
    }
    owners.set(pascal, enumValueName);
    names.set(reason, { key: lowerFirst(pascal), guard: `is${pascal}` });
  }
  return names;
}

/** Width of generated JSDoc text inside a member (indented by two). */
const MEMBER_WIDTH = 108;

/** Text for a JSDoc block: free text from the contract (a domain, a message) cannot end the comment. */
function inComment(text: string): string {
  return text.replace(/\*\//g, '*\\/');
}

/** The JSDoc lines of a reason (without the ` *` margin): its proto comment, then `lines`, wrapped. */
function reasonDocLines(reason: ContractErrorReason, lines: readonly string[]): string[] {
  const comment = commentLines(reason.comment);
  const body = lines
    .map(inComment)
    .flatMap((line) => (line.startsWith('@') ? [line] : wrapText(line, MEMBER_WIDTH)))
    .map((line) => ` ${line}`);
  return comment.length > 0 ? [...comment, '', ...body] : body;
}

/** The metadata keys as a TypeScript union of string literals: `'username' | 'unlockTime'`. */
function keyUnion(keys: readonly string[]): string {
  return keys.map((key) => stringLiteral(key)).join(' | ');
}

/**
 * View of `templates/gen/error-catalog.ts.hbs`: a catalog's domain and reasons, with typed constructors when the
 * workspace service serves a service of the catalog's package and typed guards when it consumes one.
 * @throws UserError `name-clash` (see {@link errorReasonNames}).
 */
export function buildErrorCatalogView(catalog: ContractErrorCatalog, roles: ErrorCatalogRoles, header: HeaderView) {
  const names = errorCatalogNames(catalog);
  const reasonNames = errorReasonNames(catalog);
  const nameOf = (reason: ContractErrorReason) => reasonNames.get(reason.reason)!;
  const values: CodegenRuntimeValue[] = [];
  const types: CodegenRuntimeType[] = [];
  if (roles.serves) {
    values.push('catalogError');
    types.push('DomainError');
    if (catalog.reasons.some((reason) => reason.metadataKeys.length > 0)) types.push('CatalogMetadataValue');
  }
  if (roles.consumes) {
    values.push('isCatalogError');
    types.push('CatalogClientError');
  }
  const [first] = catalog.reasons;
  const firstExample = first
    ? `${names.constructors}.${nameOf(first).key}(${first.metadataKeys.length > 0 ? `{ ${first.metadataKeys.join(', ')} }` : ''})`
    : '';
  return {
    ...header,
    runtimeImport: runtimeImport(values, types),
    fullName: catalog.fullName,
    file: catalog.file,
    domainName: names.domain,
    domainLiteral: stringLiteral(catalog.domain),
    reasonsName: names.reasons,
    constructorsName: names.constructors,
    reasonsDocLines: [
      ...wrapText(
        `The error reasons \`${catalog.file}\` declares in \`${catalog.fullName}\`, each with the status code it is answered with.`,
      ).map((line) => ` ${line}`),
      ...commentLines(catalog.comment),
    ],
    reasons: catalog.reasons.map((reason) => ({ reason: reason.reason, code: reason.code })),
    serves: roles.serves,
    constructorDocLines: [
      `Errors of \`${catalog.fullName}\` for handlers to throw: each returns a \`DomainError\` with the reason's status`,
      inComment(`code and google.rpc.ErrorInfo \`{ reason, domain: '${catalog.domain}', metadata }\` in its details.`),
      `@example throw ${firstExample};`,
    ],
    constructors: catalog.reasons.map((reason) => {
      const withMetadata = reason.metadataKeys.length > 0;
      return {
        key: nameOf(reason).key,
        params: withMetadata
          ? `metadata: { readonly ${reason.metadataKeys.map((key) => `${key}: CatalogMetadataValue`).join('; readonly ')} }, message?: string`
          : 'message?: string',
        code: reason.code,
        reason: reason.reason,
        messageLiteral: stringLiteral(reason.message),
        metadataLine: withMetadata ? `{ ${reason.metadataKeys.map((key) => `${key}: metadata.${key}`).join(', ')} }` : '',
        docLines: reasonDocLines(reason, [
          `\`${reason.reason}\`, answered ${reason.code}.`,
          ...(withMetadata ? ['@param metadata google.rpc.ErrorInfo.metadata of this error, each value sent as a string'] : []),
          `@param message the status message; default ${JSON.stringify(reason.message)}`,
        ]),
      };
    }),
    guards: roles.consumes
      ? catalog.reasons.map((reason) => {
          const keys = reason.metadataKeys;
          return {
            name: nameOf(reason).guard,
            narrowed: `CatalogClientError<${stringLiteral(reason.reason)}${keys.length > 0 ? `, ${keyUnion(keys)}` : ''}>`,
            args: `${names.domain}, ${stringLiteral(reason.reason)}${keys.length > 0 ? `, [${keys.map((key) => stringLiteral(key)).join(', ')}]` : ''}`,
            docLines: reasonDocLines(reason, [
              `Whether \`error\` is \`${reason.reason}\` of \`${catalog.fullName}\`: a \`RichClientError\` (what a generated client throws) whose google.rpc.ErrorInfo has that reason in the domain \`${catalog.domain}\`${keys.length > 0 ? `, with the metadata ${keys.map((key) => `\`${key}\``).join(', ')}` : ''}. The server answers it ${reason.code}.`,
            ]),
          };
        })
      : [],
  };
}
