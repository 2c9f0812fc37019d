import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type { ResolvedConfig, ResolvedService } from '../config/resolved.js';
import { runBufGenerate, type BufImage } from '../contract/buf.js';
import type { ContractSet } from '../contract/model.js';
import { UserError } from '../util/errors.js';

/** What grpcforge needs to know of buf.gen.yaml. */
export interface GenerateTemplateInfo {
  /** `out` of the ts-proto plugin, relative to a service folder, for example `src/gen/pb`. */
  readonly tsProtoOut: string;
}

/**
 * Reads the buf generate template and checks what grpcforge relies on: `version: v2`, a ts-proto plugin, and every
 * plugin's `out` inside `src/gen/` (generate runs the template once for the workspace into a temporary `--output`,
 * each service gets its part below its own folder, and everything in `src/gen/` is regenerated).
 * @throws UserError `template-invalid` naming the key and what was expected.
 */
export async function readGenerateTemplate(templatePath: string): Promise<GenerateTemplateInfo> {
  const file = basename(templatePath);
  let text: string;
  try {
    text = await readFile(templatePath, 'utf8');
  } catch {
    throw new UserError('template-invalid', `${file}: cannot read ${templatePath}`, [
      'grpcforge init writes one; contract.template in grpcforge.yaml points elsewhere',
    ]);
  }
  // yaml is loaded here, not at the top: a run the cache answers never reads the template this way.
  const { parse } = await import('yaml');
  const template = parse(text) as { version?: unknown; plugins?: unknown } | null;
  const fail = (key: string, message: string) => new UserError('template-invalid', `${file}: ${key}: ${message}`);
  if (template?.version !== 'v2') throw fail('version', `expected "v2", got ${JSON.stringify(template?.version)}`);
  if (!Array.isArray(template.plugins) || template.plugins.length === 0)
    throw fail('plugins', 'expected a list with the ts-proto plugin');
  let tsProtoOut: string | undefined;
  template.plugins.forEach((plugin: Record<string, unknown>, index) => {
    const out = plugin.out;
    if (typeof out !== 'string' || !/^src\/gen\/[^.]/.test(out.replace(/^\.\//, ''))) {
      throw fail(
        `plugins[${index}].out`,
        `${JSON.stringify(out)} must be a folder inside src/gen/ (grpcforge runs the template with --output <service folder> and owns src/gen/)`,
      );
    }
    const local = [plugin.local].flat().join(' ');
    if (/ts[-_]proto/.test(local)) tsProtoOut = out.replace(/^\.\//, '').replace(/\/$/, '');
  });
  if (!tsProtoOut) throw fail('plugins', 'no ts-proto plugin (expected `local: protoc-gen-ts_proto`)');
  return { tsProtoOut };
}

const require = createRequire(import.meta.url);

/**
 * Folders where buf looks for `protoc-gen-ts_proto`: the workspace's own `node_modules/.bin` first (a team may pin
 * its ts-proto), then the ts-proto that ships with grpcforge.
 */
export function tsProtoPluginPath(workspaceDir: string): string[] {
  const paths: string[] = [];
  const workspaceBin = join(workspaceDir, 'node_modules', '.bin');
  if (existsSync(join(workspaceBin, 'protoc-gen-ts_proto'))) paths.push(workspaceBin);
  paths.push(dirname(require.resolve('ts-proto/package.json')));
  return paths;
}

/** The fully-qualified services one workspace service serves or consumes, sorted: its buf `--type` filter. */
export function typesOf(service: ResolvedService): string[] {
  return [...new Set([...service.serves, ...service.consumes.map((consume) => consume.service)])].sort();
}

/** The `--type` filter of one run over the whole workspace: every service any workspace service serves or consumes. */
export function unionTypesOf(config: ResolvedConfig): string[] {
  return [...new Set(config.services.flatMap(typesOf))].sort();
}

/**
 * Runs ts-proto through `buf generate` for one service, restricted with buf's type filter to what it serves and
 * consumes (and what those need). What `generate` did before it ran one run for the whole workspace
 * ({@link runUnionTsProto}); kept as the fallback for templates whose output cannot be split per file, and as the
 * reference the split is tested against.
 * @returns the files, keyed by path relative to the service folder; empty when the service has no services.
 * @throws UserError `contract-invalid` when buf or the plugin fails.
 */
export async function generateTsProtoFiles(
  config: ResolvedConfig,
  bufDir: string,
  service: ResolvedService,
): Promise<Map<string, string>> {
  return runTypes(config, bufDir, typesOf(service));
}

/**
 * Runs ts-proto through `buf generate` once for the whole workspace, with the type filter set to the union of what
 * every service serves and consumes. Needs only the config (and the image, when given), so it can start before the
 * contract model is loaded.
 * @param image the contracts compiled once (`buildImage` of contract/buf.ts): buf generates from it instead of compiling again.
 * @returns the files, keyed by path relative to a service folder; empty when no service serves or consumes anything.
 * @throws UserError `contract-invalid` when buf or the plugin fails (or the image's rejection).
 */
export function runUnionTsProto(config: ResolvedConfig, bufDir: string, image?: Promise<BufImage>): Promise<Map<string, string>> {
  return runTypes(config, bufDir, unionTypesOf(config), image);
}

async function runTypes(
  config: ResolvedConfig,
  bufDir: string,
  types: readonly string[],
  image?: Promise<BufImage>,
): Promise<Map<string, string>> {
  if (types.length === 0) return new Map();
  return runBufGenerate({
    bufDir,
    workspaceDir: config.workspaceDir,
    template: config.contract.template,
    types,
    pluginPath: tsProtoPluginPath(config.workspaceDir),
    ...(image ? { image } : {}),
  });
}

/**
 * Splits the output of {@link runUnionTsProto} per workspace service, at file granularity: a service gets the
 * generated file of every .proto in the import closure of the files that declare what it serves and consumes (and
 * that the union run generated). Only the output of ts-proto's own naming (`<out>/<file>.ts` for `<file>.proto`)
 * can be split: any other file (another plugin, ts-proto's `outputIndex`, a `fileSuffix`) makes it return
 * `undefined`, and the caller runs once per distinct type filter instead.
 * @param files the union run's output, keyed by path relative to a service folder.
 */
export function splitTsProtoFiles(
  config: ResolvedConfig,
  contract: ContractSet,
  tsProtoOut: string,
  files: ReadonlyMap<string, string>,
): Map<string, Map<string, string>> | undefined {
  const prefix = `${tsProtoOut}/`;
  const protoOf = new Map<string, string>();
  const known = new Set(contract.files.map((file) => file.path));
  for (const path of files.keys()) {
    const proto = path.startsWith(prefix) ? `${path.slice(prefix.length).replace(/\.ts$/, '')}.proto` : '';
    if (!path.endsWith('.ts') || !known.has(proto)) return undefined;
    protoOf.set(proto, path);
  }
  const imports = new Map(contract.files.map((file) => [file.path, file.dependencies]));
  const declaredIn = new Map(contract.services.map((service) => [service.fullName, service.file]));
  const byService = new Map<string, Map<string, string>>();
  for (const service of config.services) {
    const closure = new Set<string>();
    const visit = (proto: string) => {
      if (closure.has(proto)) return;
      closure.add(proto);
      for (const dependency of imports.get(proto) ?? []) visit(dependency);
    };
    for (const type of typesOf(service)) {
      const file = declaredIn.get(type);
      if (file !== undefined) visit(file);
    }
    const own = new Map<string, string>();
    for (const proto of [...closure].sort()) {
      const path = protoOf.get(proto);
      if (path !== undefined) own.set(path, files.get(path)!);
    }
    byService.set(service.name, own);
  }
  return byService;
}
