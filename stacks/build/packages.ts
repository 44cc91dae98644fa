// Debian packages from the site config: each entry keeps, besides what it lists, the packaged units the services of
// its host declare (a full unit named like a declared package replaces the packaged one; a drop-in hardens one), so a
// declared unit is never masked and never listed twice. A unit goes to the entry that installs the package of its
// name (`radicale.service`, `postgresql@.service` → `radicale`, `postgresql`); a drop-in on a unit named like no
// declared package goes to the host's first entry.
import * as pulumi from "@pulumi/pulumi";
import { DebianPackages, DebianPackagesArgs, Host, MASKABLE_UNIT } from "../../components";
import { PackagesConfig } from "../config/packages";
import { ServiceConfig } from "../config/services";
import { ProblemCollector } from "../config/problems";

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
        // A drop-in always sits on a packaged unit; a full unit replaces one only when named like a declared package
        // (hearth's own units, e.g. web.service, are no package's business).
        if (named) keeps.get(named.name)!.add(unit);
        else if (s.dropIn !== undefined) keeps.get(onHost[0].name)!.add(unit);
    }
    return new Map([...keeps].map(([n, u]) => [n, [...u].sort()]));
}

export interface PlannedPackages {
    readonly config: PackagesConfig;
    /** The units kept because a service declares them. */
    readonly declared: readonly string[];
}

/** Each entry with the units kept for its host's services; a unit listed by hand that a service already keeps is a problem. */
export function planPackages(entries: readonly PackagesConfig[], services: readonly ServiceConfig[], placeable: (name: string) => boolean, problems: ProblemCollector): PlannedPackages[] {
    const keeps = declaredKeeps(entries, services);
    const out: PlannedPackages[] = [];
    entries.forEach((config, i) => {
        const declared = keeps.get(config.name) ?? [];
        const twice = (config.keepUnits ?? []).map((u, j) => [u, j] as const).filter(([u]) => declared.includes(u));
        for (const [u, j] of twice) {
            problems.problems.push({ path: `hearth:packages[${i}].keepUnits[${j}]`, message: `is ${JSON.stringify(u)}: expected a unit no service of host '${config.host}' declares (a service declares ${u}, so it is kept without being listed)` });
        }
        if (twice.length === 0 && placeable(config.host)) out.push({ config, declared });
    });
    return out;
}

export function packagesArgs(p: PlannedPackages, host: Host): DebianPackagesArgs {
    const { name: _n, host: _h, dependsOn: _d, keepUnits, ...rest } = p.config;
    const keep = [...(keepUnits ?? []), ...p.declared];
    return { ...rest, host, ...(keep.length ? { keepUnits: keep } : {}) };
}

export function createPackages(planned: readonly PlannedPackages[], hostFor: (name: string) => Host, optsFor: (name: string) => pulumi.ComponentResourceOptions = () => ({})): Map<string, DebianPackages> {
    return new Map(planned.map((p) => [p.config.name, new DebianPackages(p.config.name, packagesArgs(p, hostFor(p.config.host)), optsFor(p.config.name))]));
}
