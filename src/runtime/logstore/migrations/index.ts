import type { Migration, MigrationProvider } from 'kysely';
import { migration0001 } from './0001_initial.js';
import { migration0002 } from './0002_stats_indexes.js';
import { migration0003 } from './0003_rollups.js';

/**
 * Every migration, by name, in order. They are modules, not files read at run time, so they ship inside the
 * bundle. Add a new one as `000N_<what>.ts` and list it here; never edit one that has shipped.
 */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { '0001_initial': migration0001, '0002_stats_indexes': migration0002, '0003_rollups': migration0003 };
  },
};
