/** Renders a key path the way people write it: `services.user.consumes[0].target`. */
export function formatKeyPath(segments: readonly PropertyKey[]): string {
  return segments
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = String(segment);
      // Keys such as "auth.v1.AuthService/Login" are quoted so the path stays unambiguous.
      if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `[${JSON.stringify(key)}]`;
      return `${index === 0 ? '' : '.'}${key}`;
    })
    .join('');
}
