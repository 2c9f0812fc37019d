/**
 * Where protovalidate's rules are declared (the `buf.validate` package), as a contract imports it and as its file is
 * named in a FileDescriptorSet. A contract that never names it carries no rules: the CLI's generate-time check and
 * the server's start both skip loading protovalidate for it.
 */
export const VALIDATE_PROTO = 'buf/validate/validate.proto';
