// Small readers for resource props whose exact shape varies between components and providers.

/** Every string in a value, with the path to it (`a.b[2]`), skipping the given top-level keys. */
export function stringsIn(value: unknown, skip: readonly string[] = [], path = ""): { path: string; value: string }[] {
    if (typeof value === "string") return [{ path, value }];
    if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, [], `${path}[${i}]`));
    if (value && typeof value === "object") {
        return Object.entries(value)
            .filter(([k]) => !(path === "" && skip.includes(k)))
            .flatMap(([k, v]) => stringsIn(v, [], path ? `${path}.${k}` : k));
    }
    return [];
}

/** Every (path, key, value) where an object key matches, anywhere in a value. */
export function keysIn(value: unknown, key: RegExp, path = ""): { path: string; value: unknown }[] {
    if (Array.isArray(value)) return value.flatMap((v, i) => keysIn(v, key, `${path}[${i}]`));
    if (value && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => {
            const p = path ? `${path}.${k}` : k;
            return [...(key.test(k) ? [{ path: p, value: v }] : []), ...keysIn(v, key, p)];
        });
    }
    return [];
}

/** A value that switches something on: true, "yes", "on", "1". */
export function truthy(v: unknown): boolean {
    return v === true || (typeof v === "string" && /^(1|yes|y|true|on)$/i.test(v));
}

/** A value that switches something off: false, "no", "off", "0". */
export function falsy(v: unknown): boolean {
    return v === false || (typeof v === "string" && /^(0|no|n|false|off)$/i.test(v));
}
