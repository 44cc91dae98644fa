// Summarises a V8 .cpuprofile: where the time went, by function and by package, so a plan hot spot has a name.
import * as fs from "fs";

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
}

interface Profile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
}

export interface ProfileSummary {
    readonly totalMs: number;
    /** Functions by self time. */
    readonly self: readonly (readonly [string, number])[];
    /** Functions by inclusive time (self plus everything they called). */
    readonly inclusive: readonly (readonly [string, number])[];
    /** Self time by package (node_modules/<pkg>, node internals, hearth's own files). */
    readonly packages: readonly (readonly [string, number])[];
}

function where(url: string): string {
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (nm) return nm[1];
    if (url.startsWith("node:")) return "node internals";
    if (url === "") return "(native, GC, idle)";
    const own = /\/(components|stacks|bench|tests)\//.exec(url);
    return own ? `hearth ${own[1]}/` : url;
}

function label(n: ProfileNode): string {
    const f = n.callFrame;
    const file = f.url.replace(/^.*node_modules\//, "").replace(/^file:\/\//, "").replace(/^.*\/(components|stacks|bench|tests)\//, "$1/");
    return `${f.functionName || "(anonymous)"} ${file}${file ? `:${f.lineNumber + 1}` : ""}`;
}

function top(m: Map<string, number>, n: number): [string, number][] {
    return [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => [k, us / 1000]);
}

export function summariseProfile(file: string, n = 15): ProfileSummary {
    const p = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
    const byId = new Map(p.nodes.map((x) => [x.id, x]));
    const parent = new Map<number, number>();
    for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
    const selfUs = new Map<number, number>();
    p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    const packages = new Map<string, number>();
    let total = 0;
    for (const [id, us] of selfUs) {
        const node = byId.get(id)!;
        total += us;
        self.set(label(node), (self.get(label(node)) ?? 0) + us);
        packages.set(where(node.callFrame.url), (packages.get(where(node.callFrame.url)) ?? 0) + us);
        // A recursive function is counted once per sample, not once per frame.
        const seen = new Set<string>();
        for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
            const k = label(byId.get(cur)!);
            if (seen.has(k)) continue;
            seen.add(k);
            inclusive.set(k, (inclusive.get(k) ?? 0) + us);
        }
    }
    return { totalMs: total / 1000, self: top(self, n), inclusive: top(inclusive, n * 2), packages: top(packages, n) };
}

export function formatProfile(s: ProfileSummary): string {
    const rows = (title: string, xs: readonly (readonly [string, number])[]) =>
        [title, ...xs.map(([k, ms]) => `  ${ms.toFixed(0).padStart(7)} ms  ${k}`)].join("\n");
    return [
        `profile: ${s.totalMs.toFixed(0)} ms sampled`,
        rows("self time by package:", s.packages),
        rows("self time by function:", s.self),
        rows("inclusive time (frames under the program run):", s.inclusive.filter(([k]) => !/^\(root\)|^\(program\)|loader|esm\/|translators|helpers|Module\./.test(k))),
    ].join("\n");
}
