/**
 * The environment variable that makes `serve` stop when its parent process exits (`=1`): `grpcforge dev` sets it for
 * the servers it starts, and `cli/stop-with-parent.ts` reads it. Here so that both layers name it the same.
 */
export const STOP_WITH_PARENT_ENV = 'GRPCFORGE_STOP_WITH_PARENT';
