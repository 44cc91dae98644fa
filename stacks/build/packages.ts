// Debian packages from the site config: each entry keeps, besides what it lists, every unit a service of its host
// declares (a full unit of the same name replaces a packaged one; a drop-in hardens one), so a declared unit is never
// masked and never listed twice. A host with several entries gives such a unit to the entry that installs a package of
// the unit's name, else to its first entry.
import { DebianPackages, DebianPackagesArgs, Host, MASKABLE_UNIT } from "../../components";
import { PackagesConfig } from "../config/packages";
import { ServiceConfig } from "../config/services";

/** The unit a service declares on its host: its own unit, or the packaged unit its drop-in sits on. */
export function declaredUnit(s: ServiceConfig): string {
    if (s.dropIn !== undefined) return s.dropIn.unit;
    return `${(s.unitName ?? s.name).replace(/\.service$/, "")}.service`;
}

const packageOf = (unit: string) => unit.replace(/(@[^.]*)?\.[a-z]+$/, "");

/** Entry name → the units it keeps because a service of its host declares them (sorted). */
export function declaredKeeps(entries: readonly PackagesConfig[], services: readonly ServiceConfig[]): Map<string, string[]> {
    const keeps = new Map(entries.map((e) => [e.name, new Set<string>()]));
    for (const s of services) {
        const unit = declaredUnit(s);
        if (!MASKABLE_UNIT.test(unit)) continue;
        const onHost = entries.filter((e) => e.host === s.host);
        if (onHost.length === 0) continue;
        const named = onHost.find((e) => e.packages.some((p) => (typeof p === "string" ? p : p.name) === packageOf(unit)));
        keeps.get((named ?? onHost[0]).name)!.add(unit);
    }
    return new Map([...keeps].map(([n, u]) => [n, [...u].sort()]));
}

export interface PlannedPackages {
    readonly config: PackagesConfig;
    /** The units kept because a service declares them. */
    readonly declared: readonly string[];
}

export function planPackages(entries: readonly PackagesConfig[], services: readonly ServiceConfig[], placeable: (name: string) => boolean): PlannedPackages[] {
    const keeps = declaredKeeps(entries, services);
    return entries.filter((e) => placeable(e.host)).map((config) => ({ config, declared: keeps.get(config.name) ?? [] }));
}

export function packagesArgs(p: PlannedPackages, host: Host): DebianPackagesArgs {
    const { name: _n, host: _h, keepUnits, ...rest } = p.config;
    const keep = [...(keepUnits ?? []), ...p.declared];
    return { ...rest, host, ...(keep.length ? { keepUnits: keep } : {}) };
}

export function createPackages(planned: readonly PlannedPackages[], hostFor: (name: string) => Host): Map<string, DebianPackages> {
    return new Map(planned.map((p) => [p.config.name, new DebianPackages(p.config.name, packagesArgs(p, hostFor(p.config.host)))]));
}
