import type { Insertable, Kysely, Selectable } from 'kysely';
import type { LogStoreDatabase, ServerInstanceTable } from './database.js';
import { totalDropped, type DroppedBy } from './writer-protocol.js';

/** How long an instance may go without a heartbeat (sent every 10 s) before it counts as unresponsive, in ms. */
export const UNRESPONSIVE_AFTER_MS = 30_000;

/**
 * How long `status` keeps showing an instance that stopped (or went unresponsive: its process is gone), counted from
 * its last heartbeat, in ms: one day. Its row stays in the store; `status --all` shows it.
 */
export const STOPPED_RETENTION_MS = 24 * 60 * 60 * 1000;

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
  };
}

/** Instances, newest first. */
export async function listInstances(db: Kysely<LogStoreDatabase>, limit = 50, now = Date.now()): Promise<ServerInstance[]> {
  const rows = await db.selectFrom('server_instances').selectAll().orderBy('started_at', 'desc').limit(limit).execute();
  return rows.map((row) => toInstance(row, now));
}

/**
 * Whether `status` shows an instance by default: serving and stopping ones always, stopped and unresponsive ones
 * until {@link STOPPED_RETENTION_MS} (or `retentionMs`) after their last heartbeat.
 */
export function isInstanceRetained(instance: ServerInstance, now = Date.now(), retentionMs = STOPPED_RETENTION_MS): boolean {
  if (instance.state === 'serving' || instance.state === 'stopping') return true;
  return now - instance.lastHeartbeatAt <= retentionMs;
}
