// The scripts the three built-in sites run on their hosts: each command's create, update and delete as `npm run plan`
// writes them (the command line unwrapped: what bash runs on the host), planned once per process.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");

export interface SiteScript {
    /** `<stack>/<host>/<command>.<create|update|delete>` */
    readonly name: string;
    readonly script: string;
}

let planned: SiteScript[] | undefined;

export function siteScripts(): SiteScript[] {
    if (planned) return planned;
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-sites-"));
    try {
        const found: SiteScript[] = [];
        for (const stack of ["example", "home", "vps"]) {
            const r = spawnSync(process.execPath, ["--require", "tsx/cjs", path.join(ROOT, "stacks/plan.ts"), "--stack", stack, "--out", out, "--no-policies"], { cwd: ROOT, encoding: "utf8" });
            if (r.status !== 0) throw new Error(`plan of ${stack} failed: ${r.stderr}`);
            for (const host of fs.readdirSync(path.join(out, stack), { withFileTypes: true }).filter((d) => d.isDirectory())) {
                const dir = path.join(out, stack, host.name, "_scripts");
                if (!fs.existsSync(dir)) continue;
                for (const f of fs.readdirSync(dir).sort()) {
                    const text = fs.readFileSync(path.join(dir, f), "utf8");
                    // The plan adds a shebang to a script that has none.
                    found.push({ name: `${stack}/${host.name}/${f.replace(/\.sh$/, "")}`, script: text.replace(/^#!\/bin\/bash\n/, "") });
                }
            }
        }
        if (found.length < 50) throw new Error(`only ${found.length} scripts in the three sites' plans`);
        return (planned = found);
    } finally {
        fs.rmSync(out, { recursive: true, force: true });
    }
}
