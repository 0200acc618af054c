/**
 * A deep copy of `v` with every byte array (Buffer or Uint8Array) as a plain
 * Uint8Array, so `assert.deepEqual` compares bytes, not which of the two
 * classes each side happens to be (the core returns plain Uint8Array; Node
 * APIs and test fixtures make Buffers).
 */
export function plainBytes(v: unknown): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(plainBytes);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainBytes(x)]));
  return v;
}
