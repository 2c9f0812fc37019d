import type { Kysely, Migration } from 'kysely';

/**
 * Covering indexes for `stats` over millions of rows: totals and the timeline read (started_at, status_code,
 * duration_ms) without touching the table; percentiles walk (duration_ms, started_at) in order, from the nearer end;
 * per-method totals walk (service, method, ...) already grouped.
 */
export const migration0002: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('request_logs_started_at').execute();
    await db.schema.dropIndex('request_logs_method').execute();
    await db.schema
      .createIndex('request_logs_time_cover')
      .on('request_logs')
      .columns(['started_at', 'status_code', 'duration_ms'])
      .execute();
    await db.schema.createIndex('request_logs_duration').on('request_logs').columns(['duration_ms', 'started_at']).execute();
    await db.schema
      .createIndex('request_logs_method_cover')
      .on('request_logs')
      .columns(['service', 'method', 'started_at', 'status_code', 'duration_ms'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('request_logs_method_cover').execute();
    await db.schema.dropIndex('request_logs_duration').execute();
    await db.schema.dropIndex('request_logs_time_cover').execute();
    await db.schema.createIndex('request_logs_started_at').on('request_logs').columns(['started_at', 'duration_ms']).execute();
    await db.schema.createIndex('request_logs_method').on('request_logs').columns(['service', 'method', 'started_at']).execute();
  },
};
