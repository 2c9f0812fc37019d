import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileRegistry, fromBinary, fromJson, toBinary, toJson, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { TsProtoServiceDefinition } from 'nice-grpc';
import { bufPath, childEnv, repoRoot, tempDir, writeFiles } from './workspace.ts';

// A real contract built by real buf, served with messages as proto JSON objects (protobuf-es does the wire format from
// the descriptors): for tests of clients that find methods by server reflection (grpcforge call, buf curl) without
// generating a workspace first.

/** `shop.v1.AccountService`: Register (unary) takes a username and an email and answers an id. */
export const ACCOUNT_PROTO = `syntax = "proto3";

package shop.v1;

// AccountService opens accounts.
service AccountService {
  // Register opens an account.
  rpc Register(RegisterRequest) returns (RegisterResponse);
}

message RegisterRequest {
  string username = 1;
  string email = 2;
}

message RegisterResponse {
  string id = 1;
}
`;

/** A message of the account service: its proto JSON. */
export type JsonMessage = Record<string, JsonValue>;

/** The account service's contract: its FileDescriptorSet (from `buf build`) and a ts-proto-shaped definition. */
export interface ReflectedService {
  readonly descriptorSet: Uint8Array;
  readonly definition: TsProtoServiceDefinition;
}

/** Runs a program without blocking the event loop (an in-process server must keep answering meanwhile). */
export function runAsync(
  command: string,
  args: readonly string[],
  cwd: string,
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv({}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** `grpcforge ...args`, without blocking the event loop. */
export const runCliAsync = (args: readonly string[], cwd: string) =>
  runAsync(process.execPath, [join(repoRoot, 'bin/grpcforge'), ...args], cwd);

/** Builds {@link ACCOUNT_PROTO} with buf in a temp folder. */
export async function accountService(): Promise<ReflectedService> {
  const dir = await tempDir();
  await writeFiles(dir, { 'buf.yaml': 'version: v2\n', 'shop/v1/account.proto': ACCOUNT_PROTO });
  const built = await runAsync(bufPath, ['build', '-o', 'account.binpb'], dir);
  if (built.code !== 0) throw new Error(`buf build: ${built.stderr}`);
  const descriptorSet = new Uint8Array(await readFile(join(dir, 'account.binpb')));
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  const service = registry.getService('shop.v1.AccountService')!;
  const codec = (type: DescMessage) => ({
    encode: (message: JsonMessage) => ({ finish: () => toBinary(type, fromJson(type, message, { registry })) }),
    decode: (bytes: Uint8Array) => toJson(type, fromBinary(type, bytes), { registry }) as JsonMessage,
    fromPartial: (message: JsonMessage) => message,
    fromJSON: (value: unknown) => value as JsonMessage,
    toJSON: (message: JsonMessage) => message,
  });
  const register = service.methods.find((method) => method.name === 'Register')!;
  const definition = {
    name: service.name,
    fullName: service.typeName,
    methods: {
      register: {
        name: register.name,
        requestType: codec(register.input),
        requestStream: false,
        responseType: codec(register.output),
        responseStream: false,
        options: {},
      },
    },
  } satisfies TsProtoServiceDefinition;
  return { descriptorSet, definition };
}
