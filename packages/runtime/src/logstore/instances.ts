import type { Insertable, Kysely, Selectable } from 'kysely';
import type { LogStoreDatabase, ServerInstanceTable } from './database.js';
import { totalDropped, type DroppedBy } from './writer-protocol.js';
import { DAY_MS } from '../vocabulary/time.js';
import { DEFENCE_COUNTER_NAMES, type DefenceCounterName, type DefenceCountsJson } from '../vocabulary/defence-counters.js';

/** How long an instance may go without a heartbeat (sent every 10 s) before it counts as unresponsive, in ms. */
export const UNRESPONSIVE_AFTER_MS = 30_000;

/**
 * How long `status` keeps listing an unresponsive instance by default (its process may hang, or be gone without having
 * said so), counted from its last heartbeat, in ms: one day. Its row stays in the store; `status --all` shows it.
 */
export const UNRESPONSIVE_LISTED_MS = DAY_MS;

/** The state of an instance as `status` shows it: `unresponsive` is `serving` with an old heartbeat. */
export type InstanceState = 'serving' | 'stopping' | 'stopped' | 'unresponsive';

/** A `grpcforge serve` process (running or stopped), with its row counters as of its last heartbeat. */
export interface ServerInstance {
  readonly id: string;
  /** The workspace service name, for example `auth`. */
  readonly service: string;
  readonly address: string;
  readonly pid: number;
  readonly host: string;
  readonly state: InstanceState;
  /** ms since the epoch. */
  readonly startedAt: number;
  readonly lastHeartbeatAt: number;
  /** Fully-qualified services it serves. */
  readonly services: readonly string[];
  readonly callsRecorded: number;
  readonly rowsWritten: number;
  readonly rowsDropped: number;
  readonly droppedBy: DroppedBy;
  /** What its defences refused, closed or counted instead of storing (zero for a stub, or before its first heartbeat). */
  readonly defences: DefenceCountsJson;
}

/**
 * The `server_instances` column of each defence counter (migration 0006). A counter added to the vocabulary fails
 * the type check here until a migration adds its column.
 */
const DEFENCE_COLUMNS = {
  connectionsRefused: 'defence_connections_refused',
  handshakeTimeouts: 'defence_handshake_timeouts',
  headerTimeouts: 'defence_header_timeouts',
  tlsHandshakeFailures: 'defence_tls_handshake_failures',
  rapidResetGoaways: 'defence_rapid_reset_goaways',
  streamsReset: 'defence_streams_reset',
  authThrottled: 'defence_auth_throttled',
} as const satisfies Record<DefenceCounterName, keyof ServerInstanceTable>;

type DefenceColumn = (typeof DEFENCE_COLUMNS)[DefenceCounterName];

/** The columns a heartbeat sets from a server's defence counters. */
export function defenceColumns(counts: DefenceCountsJson): Record<DefenceColumn, number> {
  return Object.fromEntries(DEFENCE_COUNTER_NAMES.map((name) => [DEFENCE_COLUMNS[name], counts[name]])) as Record<
    DefenceColumn,
    number
  >;
}

/** An instance row's defence counters. */
function defenceCountsOf(row: Selectable<ServerInstanceTable>): DefenceCountsJson {
  return Object.fromEntries(DEFENCE_COUNTER_NAMES.map((name) => [name, row[DEFENCE_COLUMNS[name]]])) as DefenceCountsJson;
}

/** An instance as `serve` registers it. Times in ms since the epoch. */
export interface InstanceRegistration {
  readonly id: string;
  readonly service: string;
  readonly address: string;
  readonly pid: number;
  readonly host: string;
  readonly startedAt: number;
  readonly services: readonly string[];
}

/** The row of a registration. */
export function instanceRow(instance: InstanceRegistration): Insertable<ServerInstanceTable> {
  return {
    id: instance.id,
    service: instance.service,
    address: instance.address,
    pid: instance.pid,
    host: instance.host,
    status: 'serving',
    started_at: instance.startedAt,
    last_heartbeat_at: instance.startedAt,
    services: JSON.stringify(instance.services),
  };
}

function toInstance(row: Selectable<ServerInstanceTable>, now: number): ServerInstance {
  const lastHeartbeatAt = row.last_heartbeat_at;
  const status = row.status as Exclude<InstanceState, 'unresponsive'>;
  const droppedBy = {
    queueFull: row.dropped_queue_full,
    writeError: row.dropped_write_error,
    storeGone: row.dropped_store_gone,
  };
  return {
    id: row.id,
    service: row.service,
    address: row.address,
    pid: row.pid,
    host: row.host,
    state: status === 'serving' && now - lastHeartbeatAt > UNRESPONSIVE_AFTER_MS ? 'unresponsive' : status,
    startedAt: row.started_at,
    lastHeartbeatAt,
    services: JSON.parse(row.services) as string[],
    callsRecorded: row.calls_recorded,
    rowsWritten: row.rows_written,
    rowsDropped: totalDropped(droppedBy),
    droppedBy,
    defences: defenceCountsOf(row),
  };
}

/** Instances, newest first. */
export async function listInstances(db: Kysely<LogStoreDatabase>, limit = 50, now = Date.now()): Promise<ServerInstance[]> {
  const rows = await db.selectFrom('server_instances').selectAll().orderBy('started_at', 'desc').limit(limit).execute();
  return rows.map((row) => toInstance(row, now));
}

/** An instance as `status` and the dashboard list it: the newest run, with the earlier runs folded into it. */
export interface ListedInstance extends ServerInstance {
  /**
   * Earlier instances of the same service on the same host and address that are not running: runs this one replaced
   * (`grpcforge dev` restarts a service on its address at every change).
   */
  readonly restarts: number;
}

/**
 * Folds restarts: an instance that is not running (stopped, or unresponsive) and has a newer instance of the same
 * service, host and address is an earlier run of it; it is counted in the newer one's `restarts` and not listed.
 * Two running instances are never folded.
 * @param instances newest first, as {@link listInstances} returns them.
 * @returns newest first.
 */
export function foldRestarts(instances: readonly ServerInstance[]): ListedInstance[] {
  const listed: { instance: ServerInstance; restarts: number }[] = [];
  const newest = new Map<string, { instance: ServerInstance; restarts: number }>();
  for (const instance of instances) {
    const key = JSON.stringify([instance.host, instance.service, instance.address]);
    const newer = newest.get(key);
    if (newer && instance.state !== 'serving' && instance.state !== 'stopping') {
      newer.restarts++;
      continue;
    }
    const entry = { instance, restarts: 0 };
    listed.push(entry);
    if (!newer) newest.set(key, entry);
  }
  return listed.map(({ instance, restarts }) => ({ ...instance, restarts }));
}

/** Whether `status` lists an instance by default: serving and stopping ones, and unresponsive ones for a day. */
export function isInstanceRunning(instance: ServerInstance, now = Date.now()): boolean {
  if (instance.state === 'serving' || instance.state === 'stopping') return true;
  return instance.state === 'unresponsive' && now - instance.lastHeartbeatAt <= UNRESPONSIVE_LISTED_MS;
}

/** What {@link selectInstances} lists, and how many it left out. */
export interface InstanceSelection {
  /** Newest first, restarts folded. */
  readonly instances: readonly ListedInstance[];
  /** Folded entries not listed (stopped, or unresponsive for more than a day): `--all` lists them. */
  readonly hidden: number;
}

/**
 * The instances `status` and the dashboard's instances page list: restarts folded ({@link foldRestarts}), then the
 * running ones ({@link isInstanceRunning}) unless `all`.
 * @param instances newest first, as {@link listInstances} returns them.
 */
export function selectInstances(instances: readonly ServerInstance[], all: boolean, now = Date.now()): InstanceSelection {
  const folded = foldRestarts(instances);
  const listed = all ? folded : folded.filter((instance) => isInstanceRunning(instance, now));
  return { instances: listed, hidden: folded.length - listed.length };
}
