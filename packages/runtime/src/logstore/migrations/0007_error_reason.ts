import type { Kysely, Migration } from 'kysely';

/**
 * What a failed call's details said, for grouping errors by reason: `error_reason` (the reason of its `errorInfo`
 * detail, at most 64 bytes) and `violation_field` (the field path of its first `badRequest` violation, at most 256
 * bytes), both null when the error had none, and for rows stored before.
 *
 * Errors by reason are read from the raw rows of a window, not from rollups: a reason in the rollup key would
 * multiply the rollup rows every call writes for a question asked only of errors. Instead a partial index covers
 * the rows with a non-OK status only (the query repeats its predicate, `status_code <> 0`, as a literal so both
 * engines' planners can use it): an OK call, the bulk of the traffic, still costs the one time-index append 0003
 * kept it to; a failed call adds one B-tree insert; the grouping reads the window's errors from the index alone.
 */
export const migration0007: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('request_logs').addColumn('error_reason', 'text').execute();
    await db.schema.alterTable('request_logs').addColumn('violation_field', 'text').execute();
    await db.schema
      .createIndex('request_logs_errors')
      .on('request_logs')
      .columns(['started_at', 'service', 'method', 'status_code', 'error_reason'])
      .where('status_code', '<>', 0)
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('request_logs_errors').execute();
    await db.schema.alterTable('request_logs').dropColumn('violation_field').execute();
    await db.schema.alterTable('request_logs').dropColumn('error_reason').execute();
  },
};
