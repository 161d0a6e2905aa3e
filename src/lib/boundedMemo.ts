/**
 * `fn` remembered for up to `max` different arguments, then forgotten all at once and refilled:
 * for pure functions of short strings called on every message (a phone number, a word of the
 * message), where a real LRU would cost more than it saves. Results are shared: never change them.
 */
export function boundedMemo<R>(fn: (key: string) => R, max = 10_000): (key: string) => R {
  let cache = new Map<string, R>();
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined || cache.has(key)) return hit as R;
    const value = fn(key);
    if (cache.size >= max) cache = new Map();
    cache.set(key, value);
    return value;
  };
}
