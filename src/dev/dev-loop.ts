import { join, relative } from 'node:path';
import { generateWorkspace } from '../codegen/generate.js';
import type { WriteAction } from '../codegen/write.js';
import type { ResolvedConfig, ResolvedService } from '../config/resolved.js';
import type { LoadedContract } from '../contract/load-contract.js';
import { checkBufLint } from '../lint/buf-checks.js';
import { GrpcforgeError, UserError, errorMessage, systemErrorCode } from '../util/errors.js';
import { toPosix } from '../util/fs.js';
import { preflightServer, startServiceProcess, type ServiceProcess } from './service-process.js';
import { ServiceTypeChecker, findWorkspaceTsc } from './type-check.js';
import { watchWorkspace, type WorkspaceChange, type WorkspaceWatcher } from './watch-workspace.js';

/** How a line of `dev` output is meant: the CLI styles it. */
export type DevLineLevel = 'info' | 'warn' | 'error' | 'child';

/** One line of `dev` output. */
export interface DevLine {
  /** A workspace service's name, or `dev` for the loop itself. */
  readonly source: string;
  readonly level: DevLineLevel;
  readonly text: string;
}

/** A loaded workspace: a valid config and a contract with every service the config names. */
export interface DevWorkspace {
  readonly config: ResolvedConfig;
  readonly contract: LoadedContract;
}

/** Options of {@link startDev}. */
export interface DevOptions {
  /**
   * Loads grpcforge.yaml and builds the contracts (the CLI's loader).
   * @throws UserError whose `details` are the problems, `file:line:col` first.
   */
  readonly loadWorkspace: () => Promise<DevWorkspace>;
  /** Workspace services to serve; empty: every service that serves something. */
  readonly services: readonly string[];
  /** Quiet time after the last file event before a rebuild or restart, in ms. */
  readonly debounceMs: number;
  /** Run `tsc --noEmit` over each restarted service, beside the restart. */
  readonly typeCheck: boolean;
  /** Every line of output, as it happens. */
  readonly print: (line: DevLine) => void;
  /** Called with the names of the services served, before the first line about them and after each config reload. */
  readonly onServices?: (names: readonly string[]) => void;
}

/** A running `dev` loop. */
export interface DevSession {
  /** Stops watching and stops every child (SIGTERM, bounded wait, then SIGKILL). Idempotent. */
  stop(): Promise<void>;
}

/** Write actions that change a file on disk (what makes a service restart). */
const CHANGED: ReadonlySet<WriteAction> = new Set(['written', 'created', 'removed']);
/** How long an event on a file generate just wrote is taken as generate's own. */
const SELF_WRITE_MS = 3_000;
/** How long a new server may take to print `listening on`. */
const START_TIMEOUT_MS = 60_000;

/**
 * Generates, then serves every service of the workspace (or those named) as child `grpcforge serve` processes, and
 * keeps them current: a contract or config change lints and regenerates, then restarts the services whose generated
 * code changed (every service for grpcforge.yaml and buf.gen.yaml); a change under a service's `src/` restarts that
 * service. Before a server is stopped, its new build is loaded in a throwaway process: when that fails (a syntax error,
 * a missing import), the error is printed and the running server keeps answering.
 * @throws UserError when the first generate fails or a named service is unknown or serves nothing.
 */
export async function startDev(options: DevOptions): Promise<DevSession> {
  const say = (source: string, level: DevLineLevel, text: string) => options.print({ source, level, text });
  const running = new Map<string, ServiceProcess>();
  /** Changes not handled yet, by path, with when they were seen. */
  const pending = new Map<string, { readonly change: WorkspaceChange; readonly at: number }>();
  const selfWritten = new Map<string, number>();
  let stopping = false;
  // Read through a function: the flag changes while a restart awaits, which TypeScript's narrowing cannot see.
  const isStopping = () => stopping;
  let timer: NodeJS.Timeout | undefined;
  let draining: Promise<void> | undefined;
  let watcher: WorkspaceWatcher | undefined;

  let workspace = await options.loadWorkspace();
  let targets = selectServices(workspace.config, options.services);
  options.onServices?.(targets.map((service) => service.name));
  /** Services already said to have no process, so a config reload says it only of new ones. */
  const announced = new Set<string>();
  /** One line for each service that serves nothing (only consumes, or nothing at all): dev runs no process for it. */
  const announceUnserved = () => {
    if (options.services.length > 0) return;
    for (const service of workspace.config.services) {
      if (service.serves.length > 0) announced.delete(service.name);
      if (service.serves.length > 0 || announced.has(service.name)) continue;
      announced.add(service.name);
      const consumes = service.consumes.map((consume) => consume.service).join(', ');
      say(
        service.name,
        'info',
        consumes ? `serves nothing: no process for it (it only consumes ${consumes})` : 'serves nothing: no process for it',
      );
    }
  };
  const tscPath = findWorkspaceTsc(workspace.config.workspaceDir);
  const checker = tscPath ? new ServiceTypeChecker(tscPath, workspace.config.workspaceDir) : undefined;
  if (options.typeCheck && !checker?.hasTsconfig()) {
    say('dev', 'warn', 'type check off: the workspace has no typescript package or no tsconfig.json');
  }

  /** Lints and regenerates; the services whose files changed, or undefined when the build failed. */
  const build = async (loaded: DevWorkspace): Promise<Set<string>> => {
    const { config, contract } = loaded;
    const [findings, { report }] = await Promise.all([
      checkBufLint(contract.bufDir, config.workspaceDir).catch((error: unknown) => {
        say('dev', 'warn', `buf lint did not run: ${errorMessage(error)}`);
        return [];
      }),
      generateWorkspace(config, contract),
    ]);
    for (const finding of findings) {
      const where = finding.file ? `${finding.file}:${finding.line ?? 1}:${finding.column ?? 1}: ` : '';
      say('dev', 'warn', `${where}${finding.message} (buf lint ${finding.rule})`);
    }
    const changed = new Set<string>();
    const now = Date.now();
    for (const entry of report.entries) {
      if (entry.action === 'orphaned') say('dev', 'warn', `${entry.path}: its RPC left the contract (kept)`);
      if (!CHANGED.has(entry.action)) continue;
      selfWritten.set(join(config.workspaceDir, entry.path), now);
      changed.add(entry.service);
      if (entry.action === 'created' && entry.path.includes('/src/handlers/'))
        say(entry.service, 'info', `created ${entry.path}`);
    }
    return changed;
  };

  /** Reloads and rebuilds after a contract or config change; undefined (and the errors printed) when it failed. */
  const rebuild = async (): Promise<Set<string> | undefined> => {
    try {
      const loaded = await options.loadWorkspace();
      const nextTargets = selectServices(loaded.config, options.services);
      const changed = await build(loaded);
      workspace = loaded;
      targets = nextTargets;
      options.onServices?.(targets.map((service) => service.name));
      announceUnserved();
      return changed;
    } catch (error) {
      reportError(error);
      say('dev', 'error', 'build failed: the servers keep running the last good build');
      return undefined;
    }
  };

  const reportError = (error: unknown) => {
    if (error instanceof GrpcforgeError) {
      say('dev', 'error', error.message);
      if (error instanceof UserError) for (const line of error.details) say('dev', 'error', `  ${line}`);
    } else {
      say('dev', 'error', `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  };

  const stopTimeout = () => workspace.config.server.shutdownTimeoutMs + 5_000;

  const typeCheck = (service: ResolvedService) => {
    if (!options.typeCheck || !checker?.hasTsconfig() || stopping) return;
    void checker.check(service.name, service.dir).then((result) => {
      if (result.outcome === 'cancelled' || stopping) return;
      for (const line of result.lines) say(service.name, 'error', line);
      say(
        service.name,
        result.outcome === 'clean' ? 'info' : 'error',
        result.outcome === 'clean' ? 'types ok' : 'type errors (tsx runs it anyway)',
      );
    });
  };

  /** Starts a service's new build in place of the running one; the old one stays when the new build does not load. */
  const restart = async (service: ResolvedService, reason: string) => {
    const old = running.get(service.name);
    const preflight = await preflightServer(service.dir, workspace.config.workspaceDir);
    if (stopping) return;
    if (!preflight.ok) {
      for (const line of preflight.errorLines) say(service.name, 'error', line);
      say(
        service.name,
        'error',
        old ? 'the new build does not load: the running server keeps answering' : 'the build does not load: not started',
      );
      typeCheck(service);
      return;
    }
    if (old) {
      say(service.name, 'info', `restarting (${reason})`);
      running.delete(service.name);
      await old.stop(stopTimeout());
    }
    if (isStopping()) return;
    const child = startServiceProcess({
      service: service.name,
      configPath: workspace.config.configPath,
      workspaceDir: workspace.config.workspaceDir,
      onLine: (line) => say(service.name, 'child', line),
    });
    running.set(service.name, child);
    say(service.name, 'info', `started, pid ${child.pid}`);
    void child.exited.then((code) => {
      if (running.get(service.name) !== child) return;
      running.delete(service.name);
      if (!stopping) say(service.name, 'error', `exited with code ${String(code)}: waiting for a change`);
    });
    typeCheck(service);
    const timeout = setTimeout(() => void child.stop(stopTimeout()), START_TIMEOUT_MS);
    await child.listening.catch(() => {});
    clearTimeout(timeout);
  };

  /** Restarts the services named, starts the targets that are not running, stops those no longer served. */
  const reconcile = async (restartNames: ReadonlySet<string>, reason: string) => {
    const wanted = new Set(targets.map((service) => service.name));
    const stops = [...running.entries()]
      .filter(([name]) => !wanted.has(name))
      .map(async ([name, child]) => {
        say(name, 'info', 'no longer served: stopping');
        await child.stop(stopTimeout());
        running.delete(name);
      });
    const starts = targets
      .filter((service) => restartNames.has(service.name) || !running.has(service.name))
      .map((service) => restart(service, reason));
    await Promise.all([...stops, ...starts]);
  };

  /** Replaces the watcher with one over the current workspace; resolves when it reports every change. */
  const watchTargets = async () => {
    const previous = watcher;
    const { config } = workspace;
    watcher = watchWorkspace(
      {
        contractRoot: config.contract.root,
        configFiles: [config.configPath, config.contract.template, join(workspace.contract.bufDir, 'buf.yaml')],
        services: config.services.map((service) => ({ name: service.name, dir: service.dir })),
      },
      onChange,
      (error) => say('dev', 'warn', `file watcher: ${errorMessage(error)}`),
    );
    await Promise.all([previous?.close(), watcher.ready]);
  };

  // generate's own writes (new handler files; src/gen is not watched) are no changes to react to. Its events can
  // arrive before generateWorkspace returns, so an event counts as generate's when it is near the write in time.
  const isSelfWritten = (path: string, at: number) => {
    const wroteAt = selfWritten.get(path);
    return wroteAt !== undefined && Math.abs(at - wroteAt) < SELF_WRITE_MS;
  };

  const processBatch = async (seen: readonly { readonly change: WorkspaceChange; readonly at: number }[]) => {
    const changes = seen.filter(({ change, at }) => !isSelfWritten(change.path, at)).map(({ change }) => change);
    const restartNames = new Set<string>();
    const reasons = new Set<string>();
    let needsBuild = false;
    let configChanged = false;
    for (const change of changes) {
      const rel = toPosix(relative(workspace.config.workspaceDir, change.path));
      reasons.add(rel);
      if (change.kind === 'service') restartNames.add(change.service);
      else needsBuild = true;
      if (change.kind === 'config') configChanged = true;
    }
    if (reasons.size === 0) return;
    say('dev', 'info', `changed: ${[...reasons].sort().join(', ')}`);
    if (needsBuild) {
      const changed = await rebuild();
      if (changed) {
        for (const name of configChanged ? targets.map((service) => service.name) : changed) restartNames.add(name);
        if (configChanged) await watchTargets();
        say('dev', 'info', `regenerated${changed.size ? `: ${[...changed].sort().join(', ')} changed` : ', nothing changed'}`);
      }
    }
    if (stopping) return;
    await reconcile(restartNames, [...reasons].sort().join(', '));
  };

  const drain = async () => {
    while (pending.size > 0 && !stopping) {
      const batch = [...pending.values()];
      pending.clear();
      try {
        await processBatch(batch);
      } catch (error) {
        reportError(error);
      }
    }
  };

  function onChange(change: WorkspaceChange): void {
    if (stopping) return;
    if (isSelfWritten(change.path, Date.now())) return;
    pending.set(change.path, { change, at: Date.now() });
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (draining) return; // the running drain picks the change up
      draining = drain().finally(() => {
        draining = undefined;
        if (pending.size > 0 && !stopping) onChange([...pending.values()].at(-1)!.change);
      });
    }, options.debounceMs);
  }

  try {
    const changed = await build(workspace);
    say('dev', 'info', `generated${changed.size ? `: ${[...changed].sort().join(', ')} changed` : ', up to date'}`);
  } catch (error) {
    // Only the environment's failures (a file that cannot be written) are the user's to fix; a bug stays a bug.
    if (systemErrorCode(error) === undefined) throw error;
    throw new UserError('generate-failed', `generate failed: ${errorMessage(error)}`);
  }
  await watchTargets();
  announceUnserved();
  await reconcile(new Set(), 'start');
  say('dev', 'info', `watching ${targets.length} service${targets.length === 1 ? '' : 's'}: Ctrl-C stops everything`);

  let stopped: Promise<void> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        clearTimeout(timer);
        await watcher?.close();
        checker?.stopAll();
        const stopAll = () => Promise.all([...running.values()].map((child) => child.stop(stopTimeout())));
        await stopAll();
        // A restart under way may have spawned a child after the first pass.
        await draining;
        await stopAll();
        running.clear();
      })()),
  };
}

/**
 * The services `dev` serves: those named, or every service that serves something and has a `listen` address.
 * @throws UserError `unknown-service` or `nothing-to-serve`.
 */
export function selectServices(config: ResolvedConfig, names: readonly string[]): ResolvedService[] {
  if (names.length === 0) return config.services.filter((service) => service.serves.length > 0 && service.listen);
  return names.map((name) => {
    const service = config.services.find((candidate) => candidate.name === name);
    if (!service) {
      throw new UserError('unknown-service', `no service "${name}" in grpcforge.yaml`, [
        `known: ${config.services.map((candidate) => candidate.name).join(', ') || '(none)'}`,
      ]);
    }
    if (service.serves.length === 0 || !service.listen) {
      throw new UserError('nothing-to-serve', `service "${name}" serves nothing`, [`add services under services.${name}.serves`]);
    }
    return service;
  });
}
