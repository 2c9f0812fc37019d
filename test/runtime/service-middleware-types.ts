// A type test, compiled by `npm run typecheck` (never run): what the service's middleware add to the context reaches
// the handlers' context type, and only that. Each @ts-expect-error fails the compile when its line compiles.
/* eslint-disable @typescript-eslint/no-unsafe-return -- the refused lines read what the types do not have */
import type {
  HandlerContext,
  Principal,
  PrincipalKind,
  ServerMiddleware,
  ServiceMiddlewareContext,
} from '../../packages/runtime/src/index.ts';
import { defineMiddleware } from '../../packages/runtime/src/index.ts';

interface ServiceContext {
  readonly db: string;
}

const tenant: ServerMiddleware<{ readonly tenant: string }> = async function* (call, context) {
  return yield* call.next(call.request, { ...context, tenant: context.metadata.get('x-tenant-id') ?? 'default' });
};
// Requires the pipeline's principal and the tenant an earlier middleware added.
const quota: ServerMiddleware<
  { readonly quota: number },
  { readonly principal: Principal | undefined; readonly tenant: string }
> = async function* (call, context) {
  return yield* call.next(call.request, { ...context, quota: context.tenant.length });
};

export const middleware = defineMiddleware<ServiceContext>().use(tenant).use(quota);

type Context = HandlerContext<ServiceContext, typeof middleware>;

/** Everything a handler of this service reads: nice-grpc's context, grpcforge's, and the middleware's. */
export function handler(context: Context): string {
  const quota: number = context.quota;
  return `${context.tenant} ${quota} ${context.serviceContext.db} ${context.principal?.id ?? ''} ${context.peer}`;
}

export const added: { readonly tenant: string; readonly quota: number } = {} as ServiceMiddlewareContext<typeof middleware>;

// @ts-expect-error no middleware adds a region
export const region = (context: Context): string => context.region;

// @ts-expect-error without the middleware list, handlers have no tenant
export const withoutList = (context: HandlerContext<ServiceContext>): string => context.tenant;

// @ts-expect-error quota requires a tenant, which no middleware before it adds
export const outOfOrder = defineMiddleware<ServiceContext>().use(quota);

// Principal kinds: the built-in ones complete, any other string is a kind too.
export const kinds: PrincipalKind[] = ['apiKey', 'jwt', 'mtls', 'custom', 'oauth2'];
