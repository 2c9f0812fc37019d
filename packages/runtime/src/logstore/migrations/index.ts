import type { Migration, MigrationProvider } from 'kysely';
import type { DialectColumnTypes } from './column-types.js';
import { createMigration0001 } from './0001_initial.js';
import { migration0002 } from './0002_stats_indexes.js';
import { createMigration0003, type MigrationProgress } from './0003_rollups.js';
import { migration0004 } from './0004_trace_id.js';
import { migration0005 } from './0005_raw_path.js';
import { migration0006 } from './0006_defence_counters.js';
import { migration0007 } from './0007_error_reason.js';
import { createMigration0008 } from './0008_coarser_rollups.js';

/**
 * Every migration, by name, in order. They are modules, not files read at run time, so they ship inside the
 * bundle. Add a new one as `000N_<what>.ts` and list it here; never edit one that has shipped.
 */
export function migrationProvider(types: DialectColumnTypes, onProgress?: MigrationProgress): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '0001_initial': createMigration0001(types),
        '0002_stats_indexes': migration0002,
        '0003_rollups': createMigration0003(types, onProgress),
        '0004_trace_id': migration0004,
        '0005_raw_path': migration0005,
        '0006_defence_counters': migration0006,
        '0007_error_reason': migration0007,
        '0008_coarser_rollups': createMigration0008(onProgress),
      };
    },
  };
}

export type { DialectColumnTypes, MigrationProgress };
