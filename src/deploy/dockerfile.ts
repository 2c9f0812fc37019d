import { APP_DIR, type DeployModel, type DeployService } from './deploy-model.js';
import { LISTEN_ENV } from './runtime-env.js';

/** Path of the health probe the runtime package installs, inside the image. */
export const HEALTH_PROBE = `${APP_DIR}/node_modules/.bin/grpcforge-health-probe`;

/** The health probe command of a service (exec form), with the TLS files when tls is on. */
export function healthProbeCommand(service: DeployService): string[] {
  const { tls } = service;
  return [
    HEALTH_PROBE,
    ...(tls ? [...(tls.ca ? ['--ca', tls.ca] : []), '--cert', tls.cert, '--key', tls.key] : []),
    `127.0.0.1:${service.port}`,
  ];
}

/**
 * The Dockerfile of one service (without the header): a build stage that installs every dependency, generates,
 * builds the service and prunes the dev dependencies, and a run stage on the same Node image (native addons such as
 * better-sqlite3 stay built for it) with the production `node_modules` and the service's `dist/` only, as user node.
 */
export function renderDockerfile(model: DeployModel, service: DeployService, nodeImage: string): string {
  const json = (values: readonly string[]) => JSON.stringify(values).replaceAll('","', '", "');
  const storeDir = model.store.kind === 'sqlite' ? model.store.dir : undefined;
  return [
    `# Image of the ${service.name} service. Build context: the workspace root:`,
    `#   docker build -f <this file> -t ${service.name} .`,
    '',
    `FROM node:${nodeImage} AS build`,
    `WORKDIR ${APP_DIR}`,
    '# better-sqlite3 downloads a prebuilt addon; where none fits, add: RUN apt-get update && apt-get install -y python3 make g++',
    'COPY package.json package-lock.json ./',
    'RUN npm ci',
    'COPY . .',
    `RUN npx grpcforge generate \\`,
    ` && npx grpcforge build ${service.name} \\`,
    ' && npm prune --omit=dev',
    '',
    `FROM node:${nodeImage}`,
    `WORKDIR ${APP_DIR}`,
    `ENV NODE_ENV=production ${LISTEN_ENV}=0.0.0.0:${service.port}`,
    `COPY --from=build ${APP_DIR}/package.json ./`,
    `COPY --from=build ${APP_DIR}/node_modules ./node_modules`,
    `COPY --from=build ${APP_DIR}/${service.dir}/dist ./${service.dir}/dist`,
    ...(storeDir
      ? [
          '# the SQLite store (a volume shared by the services is mounted here)',
          `RUN mkdir -p ${storeDir} && chown node:node ${storeDir}`,
        ]
      : []),
    'USER node',
    `EXPOSE ${service.port}`,
    'STOPSIGNAL SIGTERM',
    ...(model.health
      ? [`HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ${json(healthProbeCommand(service))}`]
      : []),
    `CMD ${json(['node', `${service.dir}/dist/main.js`])}`,
    '',
  ].join('\n');
}

/** The `.dockerignore` suggested at the workspace root: written once, never overwritten. */
export const DOCKERIGNORE = [
  '# Written once by grpcforge deploy; yours to edit. The images install and build everything themselves.',
  '**/node_modules',
  '**/dist',
  '.grpcforge',
  '.git',
  '# secrets and local files stay out of the build context',
  '.env',
  '**/.env',
  'certs',
  '',
].join('\n');
