import type { Kysely, Migration } from 'kysely';

/**
 * The `:path` of a call to a method the server does not serve (stored under `<service>/_unknown` or
 * `_unknown/_unknown`), cut to 256 bytes of UTF-8, so the row keeps what the client asked for without one row key per
 * path. Null for every other call, and for rows stored before (which kept the path's parts in `service`/`method`).
 */
export const migration0005: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('request_logs').addColumn('raw_path', 'text').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('request_logs').dropColumn('raw_path').execute();
  },
};
