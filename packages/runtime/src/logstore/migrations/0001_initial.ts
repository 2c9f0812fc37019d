import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectColumnTypes } from './column-types.js';

/** Request logs, API keys and server instances. */
export const createMigration0001 = (types: DialectColumnTypes): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('request_logs')
      .addColumn('id', types.rowId, (column) => (types.autoIncrement ? column.primaryKey().autoIncrement() : column.primaryKey()))
      .addColumn('request_id', 'text', (column) => column.notNull())
      .addColumn('started_at', 'bigint', (column) => column.notNull())
      .addColumn('service', 'text', (column) => column.notNull())
      .addColumn('method', 'text', (column) => column.notNull())
      .addColumn('kind', 'text', (column) => column.notNull())
      .addColumn('status_code', 'integer', (column) => column.notNull())
      .addColumn('duration_ms', types.double, (column) => column.notNull())
      .addColumn('principal', 'text')
      .addColumn('api_key_id', 'text')
      .addColumn('peer', 'text')
      .addColumn('request_bytes', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('response_bytes', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('request_messages', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('response_messages', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('error_message', 'text')
      .execute();
    await db.schema.createIndex('request_logs_started_at').on('request_logs').columns(['started_at', 'duration_ms']).execute();
    await db.schema.createIndex('request_logs_method').on('request_logs').columns(['service', 'method', 'started_at']).execute();
    await db.schema.createIndex('request_logs_status').on('request_logs').columns(['status_code', 'started_at']).execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('name', 'text', (column) => column.notNull().unique())
      .addColumn('prefix', 'text', (column) => column.notNull())
      .addColumn('hash', 'text', (column) => column.notNull().unique())
      .addColumn('roles', 'text', (column) => column.notNull().defaultTo(sql`'[]'`))
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .addColumn('request_count', 'integer', (column) => column.notNull().defaultTo(0))
      .execute();

    await db.schema
      .createTable('server_instances')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('service', 'text', (column) => column.notNull())
      .addColumn('address', 'text', (column) => column.notNull())
      .addColumn('pid', 'integer', (column) => column.notNull())
      .addColumn('host', 'text', (column) => column.notNull())
      .addColumn('status', 'text', (column) => column.notNull())
      .addColumn('started_at', 'bigint', (column) => column.notNull())
      .addColumn('last_heartbeat_at', 'bigint', (column) => column.notNull())
      .addColumn('services', 'text', (column) => column.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('server_instances').execute();
    await db.schema.dropTable('api_keys').execute();
    await db.schema.dropTable('request_logs').execute();
  },
});
