/** Edit distance between two strings (Levenshtein), for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/** The candidate closest to `value` when it is close enough to be a likely typo, else `undefined`. */
export function closestMatch(value: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(value.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(value.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** The last segment of a fully-qualified name: `auth.v1.AuthService` → `AuthService`. */
export function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

/**
 * The fully-qualified names whose short name is closest to `guess` (every one with that short name: two packages may
 * declare it), for a name written without its package (`Health` → `grpc.health.v1.Health`); empty when none is close.
 */
export function closestByShortName(guess: string, fullNames: readonly string[]): string[] {
  const close = closestMatch(guess, fullNames.map(shortName));
  return close === undefined ? [] : fullNames.filter((name) => shortName(name) === close);
}
