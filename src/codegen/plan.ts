import type { ResolvedConfig, ResolvedService } from '../config/resolved.js';
import { buildDescriptorSubset } from '../contract/descriptor-subset.js';
import type { ContractService, ContractSet } from '../contract/model.js';
import { handlerFilePath, pascalCase, tsProtoModulePath } from '../contract/names.js';
import { relative } from 'node:path';
import { InternalError } from '../util/errors.js';
import { toPosix } from '../util/fs.js';
import { splitTsProtoPreamble } from './header.js';
import type { GenerationPlan, PlannedFile } from './plan-types.js';
import { renderTemplate } from './render/engine.js';
import type { HeaderView } from './render/views/common.js';
import { buildClientView, buildStubView, clientPath, stubPath, type ClientTlsPaths } from './render/views/consumer.js';
import {
  buildHandlerView,
  buildServerIndexView,
  buildWiringView,
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
  return {
    files: files.sort((a, b) => a.path.localeCompare(b.path)),
    services: input.config.services.map((service) => ({
      name: service.name,
      dir: service.dirRelative,
      genDir: inService(service.dirRelative, 'src/gen'),
      handlersDir: inService(service.dirRelative, 'src/handlers'),
    })),
  };
}

function planService(
  service: ResolvedService,
  input: PlanInput,
  lookup: (fullName: string) => ContractService,
): PlannedFile[] {
  const files: PlannedFile[] = [];
  const add = (path: string, ownership: PlannedFile['ownership'], content: string) =>
    files.push({ path: inService(service.dirRelative, path), ownership, content, service: service.name });
  const header = (sources: readonly string[], via = ''): HeaderView => ({ sources: [...new Set(sources)].sort(), via, version: input.version });
  const pbFile = (contractService: ContractService) => `${input.tsProtoOut}/${tsProtoModulePath(contractService.file)}`;

  for (const [path, text] of input.tsProtoFiles.get(service.name) ?? new Map<string, string>()) {
    const preamble = splitTsProtoPreamble(text);
    const plugin = input.version && preamble.pluginVersion ? `protoc-gen-ts_proto ${preamble.pluginVersion}` : 'protoc-gen-ts_proto';
    // The body is ts-proto's, byte for byte: only the header goes through a template.
    const view = header(preamble.source ? [preamble.source] : [], `${plugin} (buf.gen.yaml)`);
    add(path, 'generated', `${renderTemplate('gen/ts-proto-header.hbs', view)}${preamble.body}\n`);
  }

  const served = service.serves.map(lookup).sort((a, b) => a.fullName.localeCompare(b.fullName));
  const shortNames = served.map((contractService) => contractService.name);
  const unique = new Set(shortNames).size === shortNames.length;
  const servedWithNames = served.map((contractService) => ({
    service: contractService,
    names: servedNames(
      contractService,
      unique ? contractService.name : `${pascalCase(contractService.packageName)}${contractService.name}`,
    ),
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
    const subset = buildDescriptorSubset(input.contract, served.map((contractService) => contractService.fullName));
    const view = buildServerIndexView(
      service.name,
      servedWithNames,
      Buffer.from(subset).toString('base64'),
      header(served.map((contractService) => contractService.file)),
    );
    add('src/gen/server/index.ts', 'generated', renderTemplate('gen/server-index.ts.hbs', view));
    add('src/middleware/auth.ts', 'scaffold', renderTemplate('scaffold/middleware-auth.ts.hbs', { serviceName: service.name }));
    add('src/middleware/logging.ts', 'scaffold', renderTemplate('scaffold/middleware-logging.ts.hbs', { serviceName: service.name }));
  }

  for (const consume of service.consumes) {
    const contractService = lookup(consume.service);
    const sources = header([contractService.file]);
    const clientView = buildClientView(service.name, contractService, consume, pbFile(contractService), sources, clientTlsPaths(input.config));
    add(clientPath(contractService), 'generated', renderTemplate('gen/client.ts.hbs', clientView));
    add(stubPath(contractService), 'generated', renderTemplate('gen/stub.ts.hbs', buildStubView(contractService, pbFile(contractService), sources)));
  }
  return files;
}

/** The workspace's TLS files relative to the workspace, as generated clients name them; `undefined` without TLS. */
function clientTlsPaths(config: ResolvedConfig): ClientTlsPaths | undefined {
  if (!config.tls) return undefined;
  const relativeToWorkspace = (path: string) => toPosix(relative(config.workspaceDir, path));
  return {
    ca: config.tls.ca === undefined ? undefined : relativeToWorkspace(config.tls.ca),
    cert: relativeToWorkspace(config.tls.cert),
    key: relativeToWorkspace(config.tls.key),
  };
}
