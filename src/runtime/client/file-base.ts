import { isAbsolute, resolve } from 'node:path';

let fileBase: string | undefined;

/**
 * Sets the folder that relative file paths of clients (TLS files in generated clients' `tls: { ca: 'certs/ca.pem' }`)
 * resolve against: a service host sets its workspace root, so a service started from any folder finds them.
 * `undefined` goes back to the current folder. One per process: the last host started wins.
 */
export function setClientFileBase(dir: string | undefined): void {
  fileBase = dir;
}

/** `path` resolved against the folder {@link setClientFileBase} set, else the current folder. */
export function clientFilePath(path: string): string {
  return isAbsolute(path) || fileBase === undefined ? path : resolve(fileBase, path);
}

/** The folder relative client file paths resolve against, for messages. */
export function describeClientFileBase(): string {
  return fileBase === undefined ? 'relative to the current folder' : `relative to ${fileBase}`;
}
