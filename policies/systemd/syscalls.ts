// SystemCallFilter= as systemd 252 builds it: groups expanded, unknown names dropped, allow or deny list.
import table from "./syscalls.json";

const groups: Record<string, string[]> = table.groups;
const unresolved = new Set<string>(table.unresolved);

export interface SyscallFilter {
    /** True when the first assignment was not inverted: only the listed calls (plus @default) are allowed. */
    readonly allowList: boolean;
    /** The calls in the list (allowed ones for an allow list, denied ones for a deny list). */
    readonly names: ReadonlySet<string>;
}

/** Every syscall a name stands for: a group expands recursively; a plain name is itself; unknown names are dropped. */
export function expandSyscalls(name: string, seen: Set<string> = new Set()): string[] {
    if (name.startsWith("@")) {
        if (seen.has(name) || !groups[name]) return [];
        seen.add(name);
        return groups[name].flatMap((m) => expandSyscalls(m, seen));
    }
    return unresolved.has(name) || !/^[a-z0-9_]+$/.test(name) ? [] : [name];
}

/** Builds the filter from the SystemCallFilter= values in order (an empty value resets, so callers pass what follows it). */
export function syscallFilter(lines: readonly string[]): SyscallFilter {
    let allowList: boolean | undefined;
    const names = new Set<string>();
    for (const line of lines) {
        const invert = line.startsWith("~");
        const items = (invert ? line.slice(1) : line).split(/\s+/).filter(Boolean);
        if (allowList === undefined) {
            allowList = !invert;
            // An allow list always lets the calls every process needs through.
            if (allowList) expandSyscalls("@default").forEach((n) => names.add(n));
        }
        for (const item of items) {
            // systemd ignores "name:errno" on an allow list (only a deny list can pick the errno).
            if (item.includes(":") && allowList) continue;
            for (const n of expandSyscalls(item.replace(/:.*$/, ""))) {
                if (!invert === allowList) names.add(n);
                else names.delete(n);
            }
        }
    }
    return { allowList: allowList ?? false, names };
}

/**
 * Whether a filter lets any call of `group` through, as systemd-analyze judges it: for an allow list, any member
 * listed; for a deny list, any member not listed.
 */
export function filterAdmitsGroup(filter: SyscallFilter, group: string): boolean {
    const members = expandSyscalls(group);
    return filter.allowList ? members.some((m) => filter.names.has(m)) : members.some((m) => !filter.names.has(m));
}
