/**
 * Why a service host could not start: a setting, a file, a variable or the environment the operator can fix.
 * `grpcforge serve` turns it into its own user error (exit 2); `runBuiltService` prints it and exits 2.
 */
export class ServiceHostError extends Error {
  /**
   * Stable identifier: `manifest-invalid`, `env-missing`, `log-store-failed`, `jwt-config`, `tls-config`,
   * `telemetry-config`, `port-in-use`, `listen-failed`, `not-generated`, `service-context-failed`.
   */
  readonly code: string;
  /** What to do about it, one line each. */
  readonly hints: readonly string[];

  constructor(code: string, message: string, hints: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceHostError';
    this.code = code;
    this.hints = hints;
  }
}

/** The message of whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
