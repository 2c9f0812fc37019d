import { hostPort } from '@grpcforge/runtime/admin';
import type { ResolvedConfig } from '../config/resolved.js';
import type { ContractSet } from '../contract/model.js';
import type { CatalogService, DashboardCatalog, DashboardWorkspace } from '../dashboard/workspace.js';
import { UserError, errorMessage } from '../util/errors.js';

/** `HOST:PORT`, with an IPv6 host in brackets. */

/** The workspace as the dashboard shows it (services and `consumes` edges), from the loaded config. */
export function dashboardWorkspace(config: ResolvedConfig): DashboardWorkspace {
  return {
    services: config.services.map((service) => ({
      name: service.name,
      serves: service.serves,
      consumes: service.consumes.map((consume) => consume.service),
      listen: service.listen && hostPort(service.listen.host, service.listen.port),
    })),
  };
}

/**
 * The proto services of the workspace (those a service of `grpcforge.yaml` serves or consumes), their methods and
 * the JSON templates of their messages, from the built contracts (no file read, no buf).
 */
export async function catalogOf(config: ResolvedConfig, contract: ContractSet): Promise<CatalogService[]> {
  const [{ registryFromSet }, { jsonTemplate }] = await Promise.all([
    import('../call/dynamic-call.js'),
    import('../contract/json-template.js'),
  ]);
  const registry = registryFromSet(contract.descriptorSet);
  const templates = new Map<string, unknown>();
  const template = (typeName: string) => {
    if (!templates.has(typeName)) {
      const message = registry.getMessage(typeName);
      templates.set(typeName, message ? jsonTemplate(message) : {});
    }
    return templates.get(typeName);
  };
  const names = (pick: (service: ResolvedConfig['services'][number]) => readonly string[], fullName: string) =>
    config.services.filter((service) => pick(service).includes(fullName)).map((service) => service.name);
  return contract.services
    .map((service) => ({
      service,
      servedBy: names((entry) => entry.serves, service.fullName),
      consumedBy: names((entry) => entry.consumes.map((consume) => consume.service), service.fullName),
    }))
    .filter(({ servedBy, consumedBy }) => servedBy.length > 0 || consumedBy.length > 0)
    .map(({ service, servedBy, consumedBy }) => ({
      service: service.fullName,
      file: service.file,
      comment: service.comment,
      deprecated: service.deprecated,
      servedBy,
      consumedBy,
      methods: service.methods.map((method) => ({
        name: method.name,
        method: `${service.fullName}/${method.name}`,
        path: method.path,
        kind: method.kind,
        comment: method.comment,
        deprecated: method.deprecated,
        idempotency: method.idempotency,
        inputType: method.inputType,
        outputType: method.outputType,
        requestTemplate: template(method.inputType),
        responseTemplate: template(method.outputType),
      })),
    }));
}

/**
 * {@link dashboardWorkspace} with the service catalog and the explorer: builds the contracts with buf
 * (`loadWorkspace`). When they cannot be built, the dashboard still starts (monitoring needs no contracts): one
 * warning on stderr, and the catalog says why; the explorer then relies on reflection alone.
 */
export async function loadDashboardWorkspace(config: ResolvedConfig, warn: (line: string) => void): Promise<DashboardWorkspace> {
  const [{ loadWorkspace }, { createExplorer }] = await Promise.all([import('./context.js'), import('./explorer-call.js')]);
  let catalog: DashboardCatalog;
  let contract: ContractSet | undefined;
  try {
    // Its config warnings are not repeated: the config was loaded and checked already.
    contract = (await loadWorkspace(config.configPath, () => undefined)).contract.contract;
    catalog = { services: await catalogOf(config, contract) };
  } catch (error) {
    const detail = error instanceof UserError ? [error.message, ...error.details].join('\n') : errorMessage(error);
    const problem = `the contracts could not be built, so there is no service catalog: ${detail}`;
    warn(`dashboard: ${problem}`);
    catalog = { problem };
  }
  return {
    ...dashboardWorkspace(config),
    catalog,
    explorer: createExplorer(config, contract?.descriptorSet),
  };
}
