// The order the site creates its referenceable entries in, and `dependsOn` by name as Pulumi resource options.
import * as pulumi from "@pulumi/pulumi";
import { DependencyKind, DependencyRef, refTarget } from "../config/services";

/** An entry that references may name: its kind, its name, and every reference it makes (ordering and dependsOn). */
export interface OrderedEntry<T> {
    readonly kind: DependencyKind;
    readonly name: string;
    readonly refs: readonly DependencyRef[];
    readonly item: T;
}

/**
 * The entries in an order where each comes after every entry it names that is in the list (the config's
 * cross-checks refused cycles). Otherwise the given order is kept: each entry as early as what it names allows.
 */
export function creationOrder<T>(entries: readonly OrderedEntry<T>[]): OrderedEntry<T>[] {
    const key = (kind: string, name: string) => `${kind}\0${name}`;
    const byKey = new Map(entries.map((e) => [key(e.kind, e.name), e]));
    const out: OrderedEntry<T>[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (e: OrderedEntry<T>) => {
        const k = key(e.kind, e.name);
        if (state.has(k)) return;
        state.set(k, "open");
        for (const r of e.refs) {
            const t = refTarget(r);
            const dep = byKey.get(key(t.kind, t.name));
            if (dep) visit(dep);
        }
        state.set(k, "done");
        out.push(e);
    };
    entries.forEach(visit);
    return out;
}

/**
 * Resource options that make a component, and every resource it registers below it, depend on `on`. Pulumi's
 * `dependsOn` is recorded on the component only; its remote commands would wait for it just through their parent.
 * A transformation records the same `dependsOn` on each of them, so the engine orders each command's create, update
 * and delete by it directly. Depending on a component waits for all of its children.
 */
export function dependsOnOptions(on: readonly pulumi.Resource[]): pulumi.ComponentResourceOptions {
    if (on.length === 0) return {};
    const resources = [...new Set(on)];
    return {
        dependsOn: resources,
        transformations: [(a) => ({ props: a.props, opts: pulumi.mergeOptions(a.opts, { dependsOn: resources }) })],
    };
}
