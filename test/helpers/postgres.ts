import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A PostgreSQL server for tests and benchmarks: `GRPCFORGE_TEST_PG_URL` when set (a database the tests may create
 * databases beside), or else a throwaway cluster (`initdb` + `pg_ctl`, Debian's postgresql package) on a free
 * 127.0.0.1 port, run as a non-root user (`postgres` when this process is root), removed by `stop()`.
 */
export interface TestPostgres {
  /** A new, empty database: its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Stops and removes a throwaway cluster (a server from GRPCFORGE_TEST_PG_URL is left as it is). */
  stop(): Promise<void>;
  /** Where it came from, for messages. */
  readonly origin: string;
}

/** The folder of `initdb`: on PATH, or Debian's /usr/lib/postgresql/<version>/bin (newest first). */
export function findPostgresBin(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  // Its real folder: pg_ctl and postgres sit beside the real initdb, not always beside a symlink to it.
  if (onPath) return dirname(realpathSync(onPath));
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** Whether PostgreSQL tests can run here: a URL is given, or initdb is installed. */
export const postgresAvailable = (): boolean => Boolean(process.env.GRPCFORGE_TEST_PG_URL) || findPostgresBin() !== undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

let counter = 0;
const databaseName = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;

/** Runs SQL against `url` with pg (CREATE DATABASE cannot run in a transaction: one statement, no pool). */
async function runSql(url: string, statement: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Options of {@link startTestPostgres}. */
export interface TestPostgresOptions {
  /**
   * Trade durability for speed (fsync, synchronous_commit and full_page_writes off): for tests, never for
   * benchmarks that compare with SQLite's durable writes. @defaultValue true
   */
  readonly fast?: boolean;
}

/**
 * Starts (or connects to) PostgreSQL. @throws Error with initdb's or pg_ctl's output when the cluster cannot start,
 * or when neither GRPCFORGE_TEST_PG_URL nor initdb is available.
 */
export async function startTestPostgres({ fast = true }: TestPostgresOptions = {}): Promise<TestPostgres> {
  const given = process.env.GRPCFORGE_TEST_PG_URL;
  if (given) {
    return {
      origin: 'GRPCFORGE_TEST_PG_URL',
      createDatabase: async (prefix = 'grpcforge') => {
        const name = databaseName(prefix);
        await runSql(given, `create database ${name}`);
        const url = new URL(given);
        url.pathname = `/${name}`;
        return url.toString();
      },
      stop: async () => {},
    };
  }
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql) and GRPCFORGE_TEST_PG_URL is unset');
  const dir = await mkdtemp(join(tmpdir(), 'grpcforge-pg-'));
  // The server refuses to run as root: the cluster belongs to the `postgres` user then.
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: readonly string[]) => {
    const full = join(bin, command);
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', full, ...args]] : [full, [...args]];
    return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    await chown(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    `-c unix_socket_directories='${dir}'`,
    '-c max_connections=200',
    ...(fast ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
  ].join(' ');
  try {
    run('initdb', ['-D', data, '-U', 'grpcforge', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', settings, '-w', '-t', '60', 'start']);
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string };
    await rm(dir, { recursive: true, force: true });
    throw new Error(`cannot start a throwaway PostgreSQL: ${output.stderr ?? ''}${output.stdout ?? ''}`, { cause: error });
  }
  const base = `postgres://grpcforge@127.0.0.1:${port}`;
  const stopNow = () => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
  };
  // A test that crashes still leaves no server behind.
  process.once('exit', stopNow);
  return {
    origin: `a throwaway cluster on 127.0.0.1:${port} (${bin})`,
    createDatabase: async (prefix = 'grpcforge') => {
      const name = databaseName(prefix);
      await runSql(`${base}/postgres`, `create database ${name}`);
      return `${base}/${name}`;
    },
    stop: async () => {
      process.off('exit', stopNow);
      stopNow();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
