/** `HOST:PORT` as a URL or a gRPC target writes it: an IPv6 host in brackets (`[::1]:50051`). */
export function hostPort(host: string, port: number | string): string {
  return `${host.includes(':') ? `[${host}]` : host}:${String(port)}`;
}
