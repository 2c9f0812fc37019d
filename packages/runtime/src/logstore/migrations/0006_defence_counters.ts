import type { Kysely, Migration } from 'kysely';

/**
 * The defence counters of the vocabulary's `DEFENCE_COUNTERS` as of 0006, one column each (`defence_<name in
 * snake_case>`). Spelled out, not derived from the vocabulary: a counter added later gets its own migration, and this
 * one stays what it shipped as.
 */
const DEFENCE_COLUMNS = [
  'defence_connections_refused',
  'defence_handshake_timeouts',
  'defence_header_timeouts',
  'defence_tls_handshake_failures',
  'defence_rapid_reset_goaways',
  'defence_streams_reset',
  'defence_auth_throttled',
];

/**
 * Server instances report what their defences refused, closed or counted instead of storing (running totals since
 * the process started, as of its last heartbeat): a column per counter, so a query can sum or filter one.
 */
export const migration0006: Migration = {
  async up(db: Kysely<unknown>) {
    for (const column of DEFENCE_COLUMNS) {
      await db.schema
        .alterTable('server_instances')
        .addColumn(column, 'bigint', (definition) => definition.notNull().defaultTo(0))
        .execute();
    }
  },
  async down(db: Kysely<unknown>) {
    for (const column of DEFENCE_COLUMNS) await db.schema.alterTable('server_instances').dropColumn(column).execute();
  },
};
