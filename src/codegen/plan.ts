import type { ResolvedConfig, ResolvedService } from '../config/resolved.js';
import { buildDescriptorSubset, descriptorSetImports } from '../contract/descriptor-subset.js';
import { VALIDATE_PROTO } from '@grpcforge/runtime/vocabulary';
import type { ContractService, ContractSet } from '../contract/model.js';
import { handlerFilePath, methodNamesOf, tsProtoModulePath, uniqueShortNames } from '../contract/names.js';
import { relative } from 'node:path';
import { GENERATED_SERVER_MODULE_PATH, SERVICE_MIDDLEWARE_PATH } from '@grpcforge/runtime/vocabulary';
import { InternalError, UserError } from '../util/errors.js';
import { toPosix } from '../util/fs.js';
import { splitTsProtoPreamble } from './header.js';
import type { GenerationPlan, PlannedFile } from './plan-types.js';
import { renderTemplate } from './render/engine.js';
import type { HeaderView } from './render/views/common.js';
import {
  buildClientView,
  buildContextView,
  buildStubView,
  clientPath,
  consumedNames,
  stubPath,
  type ClientTlsPaths,
} from './render/views/consumer.js';
import { buildErrorCatalogView, errorCatalogPath } from './render/views/errors.js';
import {
  AUTH_HOOKS_PATH,
  buildHandlerView,
  buildServerIndexView,
  buildWiringView,
  CONTEXT_PATH,
  LOGGING_HOOKS_PATH,
  inService,
  servedNames,
  wiringPath,
} from './render/views/server.js';

/** Everything the plan is computed from. */
export interface PlanInput {
  readonly config: ResolvedConfig;
  readonly contract: ContractSet;
  /** ts-proto's output per workspace service name: path relative to the service folder → text. */
  readonly tsProtoFiles: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** ts-proto's `out` from buf.gen.yaml, relative to a service folder, for example `src/gen/pb`. */
  readonly tsProtoOut: string;
  /** grpcforge version written in headers; '' writes none (`codegen.annotateVersion: false`). */
  readonly version: string;
}

/**
 * Computes every file `generate` writes, for every service, without touching the disk. Pure and deterministic:
 * the same input gives the same plan, byte for byte. `generate`, `generate --check` and lint's drift check share it.
 * @throws InternalError when the config names a service the contract lacks (the caller checks names first).
 */
export function planGeneration(input: PlanInput): GenerationPlan {
  return addTsProtoFiles(planOwnFiles(input), input);
}

/** What {@link planOwnFiles} computes: every file but ts-proto's, still to be checked and sorted. */
export interface PartialPlan {
  readonly files: readonly PlannedFile[];
  readonly services: GenerationPlan['services'];
  readonly notes: GenerationPlan['notes'];
}

/**
 * The part of {@link planGeneration} that needs no ts-proto output (wiring, handlers, clients, stubs): `generate`
 * computes it while ts-proto runs. Pure. `input.tsProtoFiles` is not read.
 */
export function planOwnFiles(input: Omit<PlanInput, 'tsProtoFiles'>): PartialPlan {
  const byName = new Map(input.contract.services.map((service) => [service.fullName, service]));
  const lookup = (fullName: string): ContractService => {
    const service = byName.get(fullName);
    if (!service) throw new InternalError(`planGeneration: "${fullName}" is not in the contract`);
    return service;
  };
  const files: PlannedFile[] = [];
  for (const service of input.config.services) {
    files.push(...planService(service, input, lookup));
  }
  const notes = [...new Set(input.config.services.flatMap((service) => service.serves))].sort().flatMap((name) => {
    const contractService = lookup(name);
    return [...methodNamesOf(contractService)].flatMap(([rpc, names]) =>
      names.fileNameTakenBy
        ? [
            `${contractService.fullName}: RPCs "${names.fileNameTakenBy}" and "${rpc}" share the handler file name; ${rpc}'s handler is ${names.fileName}.ts`,
          ]
        : [],
    );
  });
  return {
    files,
    services: input.config.services.map((service) => ({
      name: service.name,
      dir: service.dirRelative,
      genDir: inService(service.dirRelative, 'src/gen'),
      handlersDir: inService(service.dirRelative, 'src/handlers'),
    })),
    notes,
  };
}

function planService(
  service: ResolvedService,
  input: Omit<PlanInput, 'tsProtoFiles'>,
  lookup: (fullName: string) => ContractService,
): PlannedFile[] {
  const files: PlannedFile[] = [];
  const add = (path: string, ownership: PlannedFile['ownership'], content: string) =>
    files.push({ path: inService(service.dirRelative, path), ownership, content, service: service.name });
  const header = (sources: readonly string[], via = ''): HeaderView => ({
    sources: [...new Set(sources)].sort(),
    via,
    version: input.version,
  });
  const pbFile = (contractService: ContractService) => `${input.tsProtoOut}/${tsProtoModulePath(contractService.file)}`;

  const served = service.serves.map(lookup).sort((a, b) => a.fullName.localeCompare(b.fullName));
  const servedUnique = uniqueShortNames(served);
  const servedWithNames = served.map((contractService) => ({
    service: contractService,
    names: servedNames(contractService, servedUnique.get(contractService.fullName) ?? contractService.name),
  }));
  const consumed = [...service.consumes]
    .map((consume) => ({ consume, service: lookup(consume.service) }))
    .sort((a, b) => a.service.fullName.localeCompare(b.service.fullName));
  const consumedUnique = uniqueShortNames(consumed.map((entry) => entry.service));
  const consumedWithNames = consumed.map((entry) => ({
    ...entry,
    names: consumedNames(consumedUnique.get(entry.service.fullName) ?? entry.service.name),
  }));
  for (const { service: contractService, names } of servedWithNames) {
    const view = buildWiringView(contractService, names, pbFile(contractService), header([contractService.file]));
    add(wiringPath(contractService), 'generated', renderTemplate('gen/server-wiring.ts.hbs', view));
    for (const method of contractService.methods) {
      const handlerView = buildHandlerView(contractService, method, names);
      add(handlerFilePath(contractService, method), 'scaffold', renderTemplate('scaffold/handler.ts.hbs', handlerView));
    }
  }
  if (served.length > 0) {
    const subset = buildDescriptorSubset(
      input.contract,
      served.map((contractService) => contractService.fullName),
    );
    const view = buildServerIndexView(
      service.name,
      servedWithNames,
      Buffer.from(subset).toString('base64'),
      header(served.map((contractService) => contractService.file)),
    );
    add(GENERATED_SERVER_MODULE_PATH, 'generated', renderTemplate('gen/server-index.ts.hbs', view));
    // The user-owned files the server module re-exports, each created once: one missing in a workspace generated
    // before it existed (src/middleware/index.ts) is created by the next `generate`.
    const named = { serviceName: service.name };
    add(AUTH_HOOKS_PATH, 'scaffold', renderTemplate('scaffold/middleware-auth.ts.hbs', named));
    add(LOGGING_HOOKS_PATH, 'scaffold', renderTemplate('scaffold/middleware-logging.ts.hbs', named));
    add(SERVICE_MIDDLEWARE_PATH, 'scaffold', renderTemplate('scaffold/middleware-index.ts.hbs', named));
  }

  // A consumer-only service (a job, a CLI, a worker) has code too: its context is where that code gets its clients.
  if (served.length > 0 || consumedWithNames.length > 0) {
    const view = buildContextView(service.name, consumedWithNames, served.length > 0);
    add(CONTEXT_PATH, 'scaffold', renderTemplate('scaffold/context.ts.hbs', view));
  }

  for (const { consume, service: contractService, names } of consumedWithNames) {
    const sources = header([contractService.file]);
    const clientView = buildClientView(
      service.name,
      contractService,
      consume,
      names,
      pbFile(contractService),
      sources,
      clientTlsPaths(input.config, service),
    );
    add(clientPath(contractService), 'generated', renderTemplate('gen/client.ts.hbs', clientView));
    // A stub validates requests by the same rules as the real server: it carries the service's descriptors when
    // they hold any buf.validate rule (otherwise it has nothing to check, and stays small).
    const stubDescriptors = buildDescriptorSubset(input.contract, [contractService.fullName]);
    const withRules = descriptorSetImports(stubDescriptors, VALIDATE_PROTO);
    const stubView = buildStubView(
      contractService,
      names,
      pbFile(contractService),
      sources,
      withRules ? Buffer.from(stubDescriptors).toString('base64') : undefined,
    );
    add(stubPath(contractService), 'generated', renderTemplate('gen/stub.ts.hbs', stubView));
  }

  // A catalog belongs to the services of its package: their handlers get its constructors, their consumers its guards.
  const servedPackages = new Set(served.map((contractService) => contractService.packageName));
  const consumedPackages = new Set(consumed.map((entry) => entry.service.packageName));
  for (const catalog of input.contract.errorCatalogs) {
    const roles = { serves: servedPackages.has(catalog.package), consumes: consumedPackages.has(catalog.package) };
    if (!roles.serves && !roles.consumes) continue;
    const view = buildErrorCatalogView(catalog, roles, header([catalog.file]));
    add(errorCatalogPath(catalog), 'generated', renderTemplate('gen/error-catalog.ts.hbs', view));
  }
  return files;
}

/**
 * Completes a {@link planOwnFiles} result with ts-proto's files (each under grpcforge's header), checks that no two
 * paths clash and sorts by path: the plan {@link planGeneration} returns.
 * @throws UserError `name-clash`.
 */
export function addTsProtoFiles(
  partial: PartialPlan,
  input: Pick<PlanInput, 'config' | 'tsProtoFiles' | 'version'>,
): GenerationPlan {
  const files: PlannedFile[] = [];
  // Services share most of ts-proto's files: each distinct text gets its header once.
  const withHeader = new Map<string, string>();
  for (const service of input.config.services) {
    for (const [path, text] of input.tsProtoFiles.get(service.name) ?? new Map<string, string>()) {
      let content = withHeader.get(text);
      if (content === undefined) {
        const preamble = splitTsProtoPreamble(text);
        const plugin =
          input.version && preamble.pluginVersion ? `protoc-gen-ts_proto ${preamble.pluginVersion}` : 'protoc-gen-ts_proto';
        // The body is ts-proto's, byte for byte: only the header goes through a template.
        const view: HeaderView = {
          sources: preamble.source ? [preamble.source] : [],
          via: `${plugin} (buf.gen.yaml)`,
          version: input.version,
        };
        content = `${renderTemplate('gen/ts-proto-header.hbs', view)}${preamble.body}\n`;
        withHeader.set(text, content);
      }
      files.push({ path: inService(service.dirRelative, path), ownership: 'generated', content, service: service.name });
    }
    // In the order planGeneration always had (a service's ts-proto files, then its own), so a clash names the same pair.
    files.push(...partial.files.filter((file) => file.service === service.name));
  }
  assertDistinctPaths(files);
  return { files: files.sort((a, b) => a.path.localeCompare(b.path)), services: partial.services, notes: partial.notes };
}

/**
 * Refuses a plan in which two files share a path, or paths that differ only in case (one file on macOS and Windows):
 * for example two workspace services with the same folder, or services whose fully-qualified names differ only in case.
 * @throws UserError `name-clash` naming both files and the services they belong to.
 */
function assertDistinctPaths(files: readonly PlannedFile[]): void {
  const seen = new Map<string, PlannedFile>();
  for (const file of files) {
    const key = file.path.toLowerCase();
    const other = seen.get(key);
    if (other) {
      const owners = other.service === file.service ? `service ${file.service}` : `services ${other.service} and ${file.service}`;
      throw new UserError(
        'name-clash',
        `two generated files would be one on disk: "${other.path}" and "${file.path}" (${owners})`,
        ['give the services distinct folders (services.<name>.dir) and the contract services distinct names'],
      );
    }
    seen.set(key, file);
  }
}

/** The service's TLS files relative to the workspace, as its generated clients name them; `undefined` without TLS. */
function clientTlsPaths(config: ResolvedConfig, service: ResolvedService): ClientTlsPaths | undefined {
  const { tls } = service;
  if (!tls) return undefined;
  const relativeToWorkspace = (path: string) => toPosix(relative(config.workspaceDir, path));
  return {
    ca: tls.ca === undefined ? undefined : relativeToWorkspace(tls.ca),
    cert: relativeToWorkspace(tls.cert),
    key: relativeToWorkspace(tls.key),
  };
}
