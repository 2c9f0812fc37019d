import type { Kysely, Migration } from 'kysely';

/** The W3C trace id of a traced call (`telemetry:`), so a row leads to its trace. Null for untraced calls. */
export const migration0004: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('request_logs').addColumn('trace_id', 'text').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('request_logs').dropColumn('trace_id').execute();
  },
};
