import type { Kysely, Selectable } from 'kysely';
import type { LogStoreDatabase, ServerInstanceTable } from './database.js';

/** A server instance as listed by `grpcforge status`. */
export type ServerInstance = Selectable<ServerInstanceTable>;

/** Records a starting server. */
export async function registerInstance(db: Kysely<LogStoreDatabase>, instance: ServerInstanceTable): Promise<void> {
  await db.insertInto('server_instances').values(instance).execute();
}

/** Updates an instance's heartbeat time and, when given, its status. */
export async function heartbeatInstance(
  db: Kysely<LogStoreDatabase>,
  id: string,
  now: number,
  status?: 'serving' | 'stopping' | 'stopped',
): Promise<void> {
  await db
    .updateTable('server_instances')
    .set(status ? { last_heartbeat_at: now, status } : { last_heartbeat_at: now })
    .where('id', '=', id)
    .execute();
}

/** Instances, newest first. */
export async function listInstances(db: Kysely<LogStoreDatabase>, limit = 50): Promise<ServerInstance[]> {
  return db.selectFrom('server_instances').selectAll().orderBy('started_at', 'desc').limit(limit).execute();
}
