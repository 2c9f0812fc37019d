import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { ServiceImplementation, TsProtoServiceDefinition } from 'nice-grpc';
import { logStoreSettingsOf, toServiceManifest } from '../../build/service-manifest.js';
import type { ResolvedConfig, ResolvedService } from '../../config/resolved.js';
import type { GeneratedStubModule, ResolvedServerModule, Scenario } from '@grpcforge/runtime';
import {
  GENERATED_SERVER_MODULE_PATH,
  GENERATED_STUB_MODULE_EXPORTS,
  generatedStubModulePath,
} from '@grpcforge/runtime/vocabulary';
import { UserError, errorMessage } from '../../util/errors.js';
import { loadConfigFor, requireService } from '../context.js';
import { assertServedAuthMethods } from '../served-auth-methods.js';
import { parseWholeNumber } from '../flags.js';
import { err, out } from '../output/print.js';
import { stopWithParent } from '../stop-with-parent.js';

/** The flags of `grpcforge serve` (commander's camelCase names). */
export interface ServeFlags {
  readonly host?: string;
  readonly port?: string;
  readonly shutdownTimeout?: string;
  /** commander's --no-log-store. */
  readonly logStore: boolean;
  readonly stub?: boolean;
  readonly scenario?: string;
  /** --allow-grpc-trace: let GRPC_TRACE print (metadata values of credentials masked). */
  readonly allowGrpcTrace?: boolean;
}

/** `grpcforge serve <service>`, loaded when the command runs (src/cli/commands/serve.ts registers it). */
export async function runServe(name: string, flags: ServeFlags, command: Command): Promise<void> {
  const { grpcTracing } = await import('@grpcforge/runtime');
  const tracing = grpcTracing(process.env);
  if (tracing && !flags.allowGrpcTrace) {
    throw new UserError(
      'grpc-trace-refused',
      `${tracing} makes grpc-js print every request's metadata to stderr, API keys and bearer tokens included`,
      [`unset ${tracing.slice(0, tracing.indexOf('='))}, or pass --allow-grpc-trace (credential values are then masked)`],
    );
  }
  const config = await loadConfigFor(command);
  if (flags.stub) return serveStub(config, name, flags);
  if (flags.scenario) throw new UserError('bad-flag', '--scenario goes with --stub');
  const service = requireService(config, name);
  // Relative paths (TLS files, the JWT key, a sqlite: store, generated clients' TLS files) resolve against the
  // workspace root, wherever serve was started: the manifest is written as if it lay there.
  const manifest = toServiceManifest(config, name, { manifestDir: config.workspaceDir });
  const port = parseWholeNumber(flags.port, '--port', manifest.listen.port);
  const shutdownTimeoutMs = parseWholeNumber(flags.shutdownTimeout, '--shutdown-timeout', manifest.server.shutdownTimeoutMs);
  const { installGrpcLogger, openServiceHostStore, setClientFileBase, startServiceHost } = await import('@grpcforge/runtime');
  // Before the handlers load: their modules may create clients whose TLS paths are relative to the workspace.
  setClientFileBase(config.workspaceDir);
  const hostOptions = {
    manifest,
    baseDir: config.workspaceDir,
    overrides: {
      port,
      shutdownTimeoutMs,
      ...(flags.host !== undefined ? { host: flags.host } : {}),
      ...(flags.logStore ? {} : { logStore: false }),
    },
    status: err,
  };
  // The store's writer thread starts while tsx compiles the handlers; the host awaits it where it would open it.
  const store = openServiceHostStore(hostOptions);
  store.catch(() => undefined);
  let entry: Awaited<ReturnType<typeof loadServerEntry>>;
  let toUserError: (error: unknown) => unknown;
  try {
    entry = await loadServerEntry(service);
    await assertServedAuthMethods(config, service, entry.services);
    ({ toUserError } = await import('../runtime-options.js'));
    await installGrpcLogger();
  } catch (error) {
    // Until the host owns it, the store is ours to close: its writer thread would keep the process alive.
    await store.then((opened) => opened?.close()).catch(() => undefined);
    throw error;
  }
  const host = await startServiceHost({ ...hostOptions, entry, store, signals: true }).catch((error: unknown) => {
    const mapped = toUserError(error);
    if (mapped instanceof UserError && mapped.code === 'port-in-use' && mapped.message.startsWith('cannot listen on')) {
      throw new UserError(mapped.code, mapped.message, [
        'see which grpcforge server runs there: `grpcforge status`',
        'or take a free port: `grpcforge serve ' + name + ' --port 0`',
      ]);
    }
    throw mapped;
  });
  stopWithParent((reason) => host.stopAndExit(reason));
  if (tracing) err(`${tracing}: grpc-js tracing allowed by --allow-grpc-trace; credential values in it are masked`);
  // Only now: a supervisor that signals as soon as it reads this line must reach the drain, not Node's default.
  out(`listening on ${host.address}`);
}

/** `serve --stub`: a recording fake of one contract service, answering from a scenario file. */
async function serveStub(config: ResolvedConfig, name: string, flags: ServeFlags): Promise<void> {
  await registerTypeScriptLoader();
  const runtime = await import('@grpcforge/runtime');
  let definition: TsProtoServiceDefinition | undefined;
  let descriptorSet: Uint8Array;
  let port = flags.port;
  if (name.includes('.')) {
    const consumer = config.services.find((service) => service.consumes.some((consume) => consume.service === name));
    if (!consumer)
      throw new UserError('unknown-service', `no service in grpcforge.yaml consumes "${name}"`, [
        'stub a consumed service, or name a workspace service',
      ]);
    const module = join(consumer.dir, generatedStubModulePath(name));
    if (!existsSync(module))
      throw new UserError('not-generated', `no generated stub of ${name} in ${consumer.name}`, [
        'run `grpcforge generate` first',
      ]);
    const stubModule = (await import(pathToFileURL(module).href)) as Partial<GeneratedStubModule>;
    definition = stubModule[GENERATED_STUB_MODULE_EXPORTS.definition];
    // The contracts, for reflection and for checking the scenario's bodies against the message types.
    const { loadContract } = await import('../../contract/load-contract.js');
    descriptorSet = (await loadContract(config.contract.root, config.workspaceDir)).contract.descriptorSet;
    const provider = config.services.find((service) => service.serves.includes(name));
    port ??= provider?.listen ? String(provider.listen.port) : undefined;
  } else {
    const service = requireService(config, name);
    const entry = await loadServerEntry(service);
    definition = entry.services[0]?.definition as TsProtoServiceDefinition | undefined;
    descriptorSet = entry.descriptorSet;
    if (entry.services.length > 1) {
      throw new UserError(
        'ambiguous-stub',
        `"${name}" serves ${entry.services.length} services: stub one by its fully-qualified name`,
      );
    }
    port ??= service.listen ? String(service.listen.port) : undefined;
  }
  if (!definition) throw new UserError('nothing-to-serve', `nothing to stub for "${name}"`);
  let scenario: Partial<Scenario> = {};
  if (flags.scenario) {
    const { parse } = await import('yaml');
    const { readFile } = await import('node:fs/promises');
    try {
      // An empty file parses to null: a scenario without rules.
      scenario = (parse(await readFile(flags.scenario, 'utf8')) as Partial<Scenario> | null) ?? {};
    } catch (error) {
      throw new UserError('scenario-invalid', `cannot read the scenario ${flags.scenario}: ${errorMessage(error)}`);
    }
  }
  let handlers: Record<string, unknown>;
  try {
    handlers = runtime.createScenarioHandlers(definition, { ...scenario, methods: scenario.methods ?? {} }, { descriptorSet });
  } catch (error) {
    throw new UserError('scenario-invalid', `${flags.scenario ?? 'scenario'}: ${errorMessage(error)}`);
  }
  const stubbed = definition;
  const stubPort = parseWholeNumber(port, '--port', 0);
  const { toUserError } = await import('../runtime-options.js');
  // Registered like a server, so `status` shows the stub (its calls are not recorded in the store).
  const host = await runtime
    .startStubHost({
      name,
      fullName: stubbed.fullName,
      start: () =>
        runtime.startStub(stubbed, handlers as Partial<ServiceImplementation<TsProtoServiceDefinition>>, {
          host: flags.host ?? '127.0.0.1',
          port: stubPort,
          descriptorSet,
          // grpcforge.yaml's server settings, as `serve` applies them to the real service.
          validation: config.server.validation,
          errors: config.server.errors,
        }),
      ...(config.logStore.enabled && flags.logStore
        ? { logStore: logStoreSettingsOf(config.logStore, config.workspaceDir) }
        : {}),
      baseDir: config.workspaceDir,
      status: err,
      signals: true,
    })
    .catch((error: unknown) => {
      throw toUserError(error);
    });
  err(
    `stub of ${stubbed.fullName}${flags.scenario ? ` from ${flags.scenario}` : ' (every RPC answers UNIMPLEMENTED)'}` +
      ', health, reflection',
  );
  stopWithParent((reason) => host.stopAndExit(reason));
  out(`listening on ${host.address}`);
}

/** Registers tsx once, so generated and user TypeScript loads as ESM. */
async function registerTypeScriptLoader(): Promise<void> {
  const { register } = await import('tsx/esm/api');
  register();
}

/**
 * Loads the server module `generate` wrote for a service (its handlers, descriptors, hooks and middleware), checked
 * against the runtime's `GeneratedServerModule`.
 * @throws UserError `not-generated` before `generate` or for code of an older grpcforge, `handlers-failed` when a
 *   handler does not load.
 */
async function loadServerEntry(service: ResolvedService): Promise<ResolvedServerModule> {
  const entryPath = join(service.dir, GENERATED_SERVER_MODULE_PATH);
  if (!existsSync(entryPath)) {
    throw new UserError('not-generated', `service "${service.name}" has no generated server code`, [
      'run `grpcforge generate` first',
    ]);
  }
  await registerTypeScriptLoader();
  let loaded: object;
  try {
    loaded = (await import(pathToFileURL(entryPath).href)) as object;
  } catch (error) {
    const hints = ['check the files under ' + join(service.dirRelative, 'src/handlers') + ' (run `npx tsc` for type errors)'];
    // Generated code is ESM; without "type": "module" Node loads .ts files as CommonJS.
    if (/require\(\)|ERR_REQUIRE_ESM|Cannot use import statement/.test(errorMessage(error))) {
      hints.unshift('the workspace package.json needs "type": "module" (grpcforge init writes it)');
    }
    const missing = missingPackage(error);
    if (missing) hints.unshift(`run \`npm install\` in the workspace (package "${missing}" is not installed)`);
    throw new UserError('handlers-failed', `cannot load the handlers of "${service.name}": ${errorMessage(error)}`, hints);
  }
  const { readServerModule } = await import('@grpcforge/runtime');
  const { toUserError } = await import('../runtime-options.js');
  try {
    return readServerModule(loaded, service.name);
  } catch (error) {
    throw toUserError(error);
  }
}

/** The package an import could not find (ESM `Cannot find package 'x'`, CommonJS `Cannot find module 'x'`), if any. */
function missingPackage(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  const specifier = /Cannot find (?:package|module) '([^']+)'/.exec(errorMessage(error))?.[1];
  // A relative or absolute specifier is a missing file of the workspace, not a package.
  if (!specifier || /^(?:[./\\]|[A-Za-z]:|file:)/.test(specifier)) return undefined;
  const [scopeOrName, name] = specifier.split('/');
  return specifier.startsWith('@') && name ? [scopeOrName, name].join('/') : scopeOrName;
}
