import { posix } from 'node:path';
import { GENERATED_HASH_HEADER } from '../codegen/header.js';
import type { PlannedFile } from '../codegen/plan-types.js';
import type { ResolvedConfig } from '../config/resolved.js';
import { renderCompose } from './compose.js';
import { resolveDeployModel, type DeployOptions } from './deploy-model.js';
import { DOCKERIGNORE, renderDockerfile } from './dockerfile.js';
import { kubernetesNotes, planKubernetesFiles, renderKubernetesFile } from './kubernetes.js';

/** The deploy targets of `grpcforge deploy`. */
export const DEPLOY_TARGETS = ['compose', 'kubernetes'] as const;
/** A deploy target. */
export type DeployKind = (typeof DEPLOY_TARGETS)[number];

/** Defaults of the deploy options. */
export const DEPLOY_DEFAULTS = { outDir: 'deploy', nodeImage: '22-bookworm-slim', imagePrefix: '' } as const;

/** Everything `grpcforge deploy <target>` would write, computed without touching the disk. */
export interface DeployPlan {
  readonly target: DeployKind;
  /** Workspace-relative out folder. */
  readonly outDir: string;
  /** Sorted by path; `generated` files carry the header, the `.dockerignore` suggestion is `scaffold`. */
  readonly files: readonly PlannedFile[];
  /** Folders (workspace-relative) in which a generated file that is not planned is stale. */
  readonly ownedDirs: readonly string[];
  /**
   * Files an older grpcforge deploy wrote that may hold the user's values (`kubernetes/secret.yaml`): never removed
   * nor rewritten, reported `kept`.
   */
  readonly retired: readonly string[];
  /** What a deployment cannot fix or must provide (the Secrets to create), one line each. */
  readonly warnings: readonly string[];
}

/** The command that writes a plan again, as the header's second line records it (`grpcforge deploy compose`). */
export function deployCommandLine(target: DeployKind, options: DeployOptions): string {
  const flags = [
    ...(options.outDir !== DEPLOY_DEFAULTS.outDir ? ['--out', options.outDir] : []),
    ...(options.nodeImage !== DEPLOY_DEFAULTS.nodeImage ? ['--node-image', options.nodeImage] : []),
    ...(options.imagePrefix !== DEPLOY_DEFAULTS.imagePrefix ? ['--image-prefix', options.imagePrefix] : []),
    ...(options.namespace ? ['--namespace', options.namespace] : []),
  ];
  return ['grpcforge deploy', target, ...flags].join(' ');
}

/**
 * Reads the command back from a deploy artefact's header (its second line), for lint's drift check.
 * @returns the target and options, or `undefined` when the text is not a deploy artefact.
 */
export function parseDeployCommandLine(text: string): { target: DeployKind; options: DeployOptions } | undefined {
  const [first, second] = text.split('\n');
  if (first !== GENERATED_HASH_HEADER) return undefined;
  const words = /^# regenerate: grpcforge deploy (.+)$/.exec(second ?? '')?.[1]?.split(' ') ?? [];
  const [target, ...flags] = words;
  if (!DEPLOY_TARGETS.includes(target as DeployKind)) return undefined;
  const flag = (name: string) => {
    const index = flags.indexOf(name);
    return index >= 0 ? flags[index + 1] : undefined;
  };
  return {
    target: target as DeployKind,
    options: {
      outDir: flag('--out') ?? DEPLOY_DEFAULTS.outDir,
      nodeImage: flag('--node-image') ?? DEPLOY_DEFAULTS.nodeImage,
      imagePrefix: flag('--image-prefix') ?? DEPLOY_DEFAULTS.imagePrefix,
      namespace: flag('--namespace'),
    },
  };
}

/**
 * Plans the deploy artefacts of a target: a Dockerfile per serving service under `<out>/docker/`, then
 * `<out>/compose.yaml` or `<out>/kubernetes/*.yaml`, each starting with the generated-code header and the command
 * that writes it again, and a `.dockerignore` suggestion at the workspace root (created only when missing).
 * Pure: the same config and options always give the same files.
 */
export function planDeploy(config: ResolvedConfig, target: DeployKind, options: DeployOptions): DeployPlan {
  const model = resolveDeployModel(config, target);
  const header = `${GENERATED_HASH_HEADER}\n# regenerate: ${deployCommandLine(target, options)}\n`;
  // Both targets write the same Dockerfiles: their header names neither, so switching targets changes none.
  const dockerHeader = `${GENERATED_HASH_HEADER}\n# regenerate: ${deployCommandLine(target, { ...options, imagePrefix: '', namespace: undefined }).replace(` ${target}`, ' compose|kubernetes')}\n`;
  const files: PlannedFile[] = [];
  const add = (path: string, service: string, content: string) =>
    files.push({
      path: posix.join(options.outDir, path),
      ownership: 'generated',
      content: `${path.endsWith('.Dockerfile') ? dockerHeader : header}${content}`,
      service,
    });
  const dockerfile = (service: string) => posix.join(options.outDir, 'docker', `${service}.Dockerfile`);
  for (const service of model.services) {
    add(`docker/${service.name}.Dockerfile`, service.name, renderDockerfile(model, service, options.nodeImage));
  }
  if (target === 'compose') add('compose.yaml', '', renderCompose(model, options, dockerfile));
  else
    for (const file of planKubernetesFiles(model, options))
      add(`kubernetes/${file.name}`, file.service, renderKubernetesFile(file));
  if (model.services.length > 0) files.push({ path: '.dockerignore', ownership: 'scaffold', content: DOCKERIGNORE, service: '' });
  return {
    target,
    outDir: options.outDir,
    files: files.sort((a, b) => a.path.localeCompare(b.path)),
    ownedDirs: [posix.join(options.outDir, 'docker'), posix.join(options.outDir, target === 'compose' ? '.' : 'kubernetes')],
    retired: target === 'kubernetes' ? [posix.join(options.outDir, 'kubernetes', 'secret.yaml')] : [],
    warnings: target === 'kubernetes' ? [...model.warnings, ...kubernetesNotes(model, options)] : model.warnings,
  };
}
