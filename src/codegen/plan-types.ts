/** Who owns a planned file. */
export type Ownership =
  /** Under `src/gen/`: carries the DO NOT EDIT header, overwritten on every run, removed when it no longer belongs. */
  | 'generated'
  /** User-owned (handlers): created once when missing, never overwritten or deleted. */
  | 'scaffold';

/** One file the generator wants on disk. */
export interface PlannedFile {
  /** Path relative to the workspace, POSIX form. */
  readonly path: string;
  readonly ownership: Ownership;
  /** Full text, LF line endings, final newline. */
  readonly content: string;
  /** The workspace service it belongs to. */
  readonly service: string;
}

/** Everything `generate` would write, computed without touching the disk. */
export interface GenerationPlan {
  /** Files sorted by path. */
  readonly files: readonly PlannedFile[];
  /** Per service: its folder and the folders of its generated code and of its handlers, workspace-relative. */
  readonly services: readonly PlannedService[];
  /** What the user should know about the names chosen, for example a handler file that got a number. */
  readonly notes: readonly string[];
}

/** What the plan knows of one service's folders. */
export interface PlannedService {
  readonly name: string;
  /** Service folder, workspace-relative. */
  readonly dir: string;
  /** `<dir>/src/gen`: everything below it is generated. */
  readonly genDir: string;
  /** `<dir>/src/handlers`: one user-owned file per RPC, in a folder per served service. */
  readonly handlersDir: string;
}

/** Workspace-relative path of the manifest of generated files. */
export const MANIFEST_PATH = '.grpcforge/manifest.json';
