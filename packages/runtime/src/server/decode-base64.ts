/** Decodes the base64 text generated files use to embed binary data (the descriptor set for reflection). */
export function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}
