import type { ServerMiddleware } from 'nice-grpc';
import { createAuthMiddleware, type AuthOptions } from '../middleware/auth.js';
import { createErrorMappingMiddleware, type ErrorMappingOptions } from '../middleware/error-mapping.js';
import { createRequestLoggerMiddleware, type RequestLoggerOptions } from '../middleware/request-logger.js';

/** Options of {@link createPipeline}: each stage is present when its options are. */
export interface PipelineOptions {
  readonly logger?: RequestLoggerOptions;
  readonly auth?: AuthOptions;
  readonly errors?: ErrorMappingOptions;
}

/**
 * The server middleware, outermost first: request logger → auth → error mapping (→ handler). The logger is outside
 * auth so it records refused calls and the principal auth resolved; error mapping is inside so the logger sees the
 * final status.
 */
export function createPipeline(options: PipelineOptions): ServerMiddleware<object, object>[] {
  const stages: ServerMiddleware<object, object>[] = [];
  if (options.logger) stages.push(createRequestLoggerMiddleware(options.logger) as ServerMiddleware<object, object>);
  if (options.auth) stages.push(createAuthMiddleware(options.auth) as ServerMiddleware<object, object>);
  stages.push(createErrorMappingMiddleware(options.errors ?? {}) as ServerMiddleware<object, object>);
  return stages;
}
