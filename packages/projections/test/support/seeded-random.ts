/** xorshift32, seeded: a run's random choices (kill points, delays) can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

/** A seed from the environment variable `name` (to replay a run), else a fresh one. */
export function seedFrom(name: string): number {
  return Number(process.env[name] ?? Math.floor(Math.random() * 0x7fffffff) + 1);
}
