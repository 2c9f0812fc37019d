import { STOP_WITH_PARENT_ENV } from '../util/stop-with-parent-env.js';

/** How often the parent is looked for, in ms. */
const CHECK_EVERY_MS = 1000;

/**
 * Calls `stop` once when the process that started this one exits, for the long-running commands (`serve`, `dev`,
 * `dashboard`). `npx grpcforge …` (and `npm run`) runs node under npm and a shell, and a SIGTERM to npx ends npx
 * and its shell without always reaching node: the server would keep its port, orphaned. Only under npm
 * (`npm_execpath` is set) or with `GRPCFORGE_STOP_WITH_PARENT=1` (`grpcforge dev` sets it for its servers), so a
 * command started from a shell outlives the shell as before; not when started by init (pid 1). The parent is looked
 * for every second by an unref'd timer (a process re-parented when its parent exits gets a new ppid).
 * @param stop called at most once, with the reason to print: `parent exited`.
 * @param env where `npm_execpath` and the variable are read (the process's environment; tests pass their own).
 * @returns whether the guard is on.
 */
export function stopWithParent(stop: (reason: string) => void, env: NodeJS.ProcessEnv = process.env): boolean {
  const parent = process.ppid;
  const underNpm = env.npm_execpath !== undefined;
  if (parent <= 1 || (!underNpm && env[STOP_WITH_PARENT_ENV] !== '1')) return false;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop('parent exited');
  }, CHECK_EVERY_MS);
  timer.unref();
  return true;
}
