/**
 * What a request whose fenced write met a newer entry writes instead: the newer entry (another
 * request wrote the session since this one read it) with this request's own changes applied, top
 * level key by top level key. A key this request changed (set, replaced or deleted) takes this
 * request's value; every other key takes the newer entry's. So two requests that change different
 * keys both keep their change, and for a key both changed the later write wins, as before
 * (docs/lifecycle.md, requests that race).
 */

/** The top-level keys whose JSON differs between `base` (as JSON) and `ours`: what the request changed. */
function changedKeys(baseJson: string, ours: Record<string, unknown>): Set<string> {
  const base = JSON.parse(baseJson) as Record<string, unknown>;
  const changed = new Set<string>();
  for (const key of new Set([...Object.keys(base), ...Object.keys(ours)])) {
    if (JSON.stringify(base[key]) !== JSON.stringify(ours[key])) changed.add(key);
  }
  return changed;
}

/**
 * Makes `ours` (the request's session object, which the app holds as `ctx.session`) the newer
 * entry plus the changes `ours` made since `baseJson`, the session as the request had read it.
 * Returns whether the newer entry already held every one of those changes: then `ours` holds what
 * it holds, and writing it would only repeat it (the repeat a store's `compareAndSet` counts as
 * written when the values are equal, which a sealed value, with its own IV, never is).
 */
export function mergeChanges(baseJson: string, ours: Record<string, unknown>, newer: Record<string, unknown>): boolean {
  const changed = changedKeys(baseJson, ours);
  let repeated = true;
  for (const key of changed) {
    if (JSON.stringify(ours[key]) !== JSON.stringify(Object.hasOwn(newer, key) ? newer[key] : undefined)) {
      repeated = false;
      break;
    }
  }
  for (const key of Object.keys(ours)) if (!changed.has(key)) delete ours[key];
  for (const key of Object.keys(newer)) if (!changed.has(key) && key !== '__proto__') ours[key] = newer[key];
  return repeated;
}
