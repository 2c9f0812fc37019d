/**
 * What the dashboard knows of the workspace beside the log store: the services of `grpcforge.yaml` and who consumes
 * whom. The CLI builds it (from the config and the contracts) and hands it in: this layer reads no file and spawns
 * no buf.
 */

import type { CatalogService, ExplorerCallAnswer } from '@grpcforge/runtime/vocabulary';

// The catalog's and the explorer's answers are JSON shapes of the API, declared with the others.
export type { CatalogService, ExplorerCallAnswer } from '@grpcforge/runtime/vocabulary';

/** One service of `grpcforge.yaml`. */
export interface WorkspaceService {
  /** Its name in `grpcforge.yaml`, for example `user`. */
  readonly name: string;
  /** Fully-qualified names of the proto services it serves, for example `user.v1.UserService`. */
  readonly serves: readonly string[];
  /** Fully-qualified names of the proto services it consumes (its `consumes:` entries). */
  readonly consumes: readonly string[];
  /** `HOST:PORT` of its `listen:`; `undefined` when it serves nothing. */
  readonly listen: string | undefined;
}

/** The workspace, as the dashboard sees it. */
export interface DashboardWorkspace {
  /** The services of `grpcforge.yaml`, sorted by name. */
  readonly services: readonly WorkspaceService[];
  /** The service catalog (`/catalog`, `GET /api/v1/catalog`); absent: the contracts were not given. */
  readonly catalog?: DashboardCatalog;
  /** What the API explorer calls with (`/explorer`, `POST /api/v1/explorer/call`); absent: no explorer. */
  readonly explorer?: DashboardExplorer;
}

/** The service catalog: from the contracts, or why there is none (they could not be built). */
export type DashboardCatalog =
  | { readonly services: readonly CatalogService[]; readonly problem?: undefined }
  | { readonly services?: undefined; readonly problem: string };

/** The explorer's side in the CLI: how it calls, and what its commands must say about TLS. */
export interface DashboardExplorer {
  /**
   * Calls one method of a server through its reflection (the workspace contracts when it has none), as
   * `grpcforge call` does. The target is already allowed by the dashboard. Never logs, stores or returns the API
   * key or bearer token.
   * @returns the answer (a gRPC error too), or `{ rejected }` for a method the server lacks or JSON that does not fit.
   */
  call(request: ExplorerCallRequest): Promise<ExplorerCallAnswer | { readonly rejected: string }>;
  /** TLS of the workspace (`tls:` of `grpcforge.yaml`, switched on); `undefined` for plaintext. */
  readonly tls: { readonly caFile: string | undefined } | undefined;
}

/** One explorer call, checked by the dashboard. */
export interface ExplorerCallRequest {
  /** `HOST:PORT`, one of the allowed targets. */
  readonly target: string;
  /** `pkg.Service/Method`. */
  readonly method: string;
  /** Request messages in proto JSON (at least one). */
  readonly requests: readonly unknown[];
  /** Lower-case metadata names and their values (no credentials: those are the two fields below). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Sent as `x-api-key` for this call only. */
  readonly apiKey: string | undefined;
  /** Sent as `authorization: Bearer …` for this call only. */
  readonly bearerToken: string | undefined;
  readonly deadlineMs: number;
  /** Keep at most this many responses, and this many bytes of their JSON; past either, stop reading. */
  readonly maxResponses: number;
  readonly maxResponseBytes: number;
}
