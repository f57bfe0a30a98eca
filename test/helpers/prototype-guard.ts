/**
 * A guard on the built-in prototypes: what a session read from a hostile store must never change.
 */
const GUARDED: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Promise.prototype', Promise.prototype],
];

/**
 * A snapshot of the built-in prototypes (own keys and their descriptors); `changes()` lists what
 * differs since, as readable strings (empty when nothing changed).
 */
export function prototypeGuard(): { changes(): string[] } {
  const before = GUARDED.map(([name, proto]) => {
    const descriptors = new Map<PropertyKey, PropertyDescriptor>();
    for (const key of Reflect.ownKeys(proto)) descriptors.set(key, Object.getOwnPropertyDescriptor(proto, key)!);
    return { name, proto, descriptors, parent: Object.getPrototypeOf(proto) as unknown };
  });
  return {
    changes() {
      const out: string[] = [];
      for (const { name, proto, descriptors, parent } of before) {
        if (Object.getPrototypeOf(proto) !== parent) out.push(`${name}: prototype replaced`);
        const keys = Reflect.ownKeys(proto);
        if (keys.length !== descriptors.size) out.push(`${name}: ${descriptors.size} keys became ${keys.length}`);
        for (const key of keys) {
          const was = descriptors.get(key);
          const now = Object.getOwnPropertyDescriptor(proto, key)!;
          if (!was) out.push(`${name}: new key ${String(key)}`);
          else if (was.value !== now.value || was.get !== now.get || was.set !== now.set)
            out.push(`${name}: ${String(key)} changed`);
        }
      }
      return out;
    },
  };
}
