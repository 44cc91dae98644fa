// The packed tarballs as a user gets them: pulumi-hearth in a fresh consumer on another SDK version inside the peer
// range, and a site repository made from templates/site with pulumi-hearth-policies, planned and policy-checked.
import { strict as assert } from "assert";
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "../..");
/** Inside the peer range and not the repository's own 3.248: its lower bound. */
const CONSUMER_SDK = "3.230.0";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
const TSC = (dir: string) => path.join(dir, "node_modules/typescript/bin/tsc");

interface PackedFile { path: string }
interface Packed { filename: string; files: PackedFile[] }

function pack(dir: string, dest: string): Packed {
    const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dest], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const [p] = JSON.parse(out) as Packed[];
    return { ...p, filename: path.join(dest, p.filename) };
}

/** `npm install` from npm's cache where it can; no install scripts (provider plugins come from the Pulumi CLI). */
function npmInstall(dir: string, specs: string[]): void {
    const r = spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", ...specs], { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`npm install in ${dir} failed:\n${r.stderr}`);
}

/** Every installed copy of a package below a project's node_modules (nested duplicates included). */
function installedCopies(dir: string, name: string): { at: string; version: string }[] {
    const out: { at: string; version: string }[] = [];
    const walk = (nm: string, depth: number) => {
        if (depth > 8 || !fs.existsSync(nm)) return;
        const manifest = path.join(nm, name, "package.json");
        if (fs.existsSync(manifest)) out.push({ at: path.relative(dir, path.dirname(manifest)), version: JSON.parse(fs.readFileSync(manifest, "utf8")).version });
        for (const e of fs.readdirSync(nm)) {
            const entries = e.startsWith("@") ? fs.readdirSync(path.join(nm, e)).map((s) => path.join(e, s)) : [e];
            for (const p of entries) walk(path.join(nm, p, "node_modules"), depth + 1);
        }
    };
    walk(path.join(dir, "node_modules"), 0);
    return out;
}

/** Applies a template as `pulumi new` does: copies it, substitutes ${PROJECT} and ${DESCRIPTION}, writes the stack's config. */
function applyTemplate(template: string, dest: string, project: string, stack: string, values: Record<string, string | { secure: string }>): void {
    fs.cpSync(template, dest, { recursive: true });
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    for (const f of walk(dest)) {
        const text = fs.readFileSync(f, "utf8");
        fs.writeFileSync(f, text.replaceAll("${PROJECT}", project).replaceAll("${DESCRIPTION}", `The ${project} site`));
    }
    // `pulumi new` drops the template section and records each prompt's answer in the stack's config.
    const yamlText = fs.readFileSync(path.join(dest, "Pulumi.yaml"), "utf8");
    fs.writeFileSync(path.join(dest, "Pulumi.yaml"), yamlText.slice(0, yamlText.indexOf("\ntemplate:") + 1));
    const config = Object.entries(values).map(([k, v]) => (typeof v === "string" ? `  ${project}:${k}: ${JSON.stringify(v)}` : `  ${project}:${k}:\n    secure: ${v.secure}`));
    fs.writeFileSync(path.join(dest, `Pulumi.${stack}.yaml`), `config:\n${config.join("\n")}\n`);
}

describe("packaging (packed tarballs, installed as a user would)", function () {
    this.timeout(600000);
    let tmp: string;
    let lib: Packed;
    let policies: Packed;
    let consumer: string;
    let site: string;
    let manifest: any;

    before(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-packaging-"));
        execFileSync("npm", ["run", "-s", "build"], { cwd: root, stdio: "pipe" });
        lib = pack(root, tmp);
        policies = pack(path.join(root, "policies"), tmp);
        manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

        consumer = path.join(tmp, "consumer");
        fs.mkdirSync(consumer);
        fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
        npmInstall(consumer, [`@pulumi/pulumi@${CONSUMER_SDK}`, "typescript@~5.9", "@types/node@^20", lib.filename]);

        site = path.join(tmp, "site");
        applyTemplate(path.join(root, "templates/site"), site, "mysite", "home", {
            hostAddress: "192.168.1.20",
            sshUser: "root",
            hostKey: HOST_KEY,
            sshPrivateKey: { secure: "v1:PLACEHOLDER:set-with-pulumi-config-set--secret" },
            zone: "home.arpa",
        });
        // The template's own dependencies, with the two packages coming from the tarballs instead of the registry.
        const pkg = JSON.parse(fs.readFileSync(path.join(site, "package.json"), "utf8"));
        pkg.dependencies["pulumi-hearth"] = `file:${lib.filename}`;
        pkg.devDependencies["pulumi-hearth-policies"] = `file:${policies.filename}`;
        pkg.dependencies["@pulumi/pulumi"] = CONSUMER_SDK;
        fs.writeFileSync(path.join(site, "package.json"), JSON.stringify(pkg, null, 2));
        npmInstall(site, []);
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    describe("the pulumi-hearth tarball", () => {
        it("ships the built library, the plan tool, READMEs and LICENSE; no sources, tests, source maps or policies", () => {
            const files = lib.files.map((f) => f.path).sort();
            for (const f of ["package.json", "LICENSE", "README.md", "bin/pulumi-hearth.js", "dist/components/index.js", "dist/components/index.d.ts", "dist/components/core/runtime.sh", "dist/stacks/plan.js", "dist/stacks/plan-policies.js", "components/systemd/README.md"]) {
                assert.ok(files.includes(f), `${f} is in the tarball`);
            }
            assert.deepEqual(files.filter((f) => f.endsWith(".map")), [], "no source maps (they would point at .ts files that are not shipped)");
            assert.deepEqual(files.filter((f) => /\.ts$/.test(f) && !f.endsWith(".d.ts")), [], "no TypeScript sources");
            assert.deepEqual(files.filter((f) => /^(tests|policies|examples|templates|bench|stacks)\//.test(f) || f.startsWith("dist/policies") || f.startsWith("dist/tests")), []);
        });

        it("declares as runtime dependencies exactly the bare packages dist/ and bin/ load; the SDK and cloud providers as peers", () => {
            const js = lib.files.map((f) => f.path).filter((f) => f.endsWith(".js"));
            const loaded = new Set<string>();
            for (const f of js) {
                const text = fs.readFileSync(path.join(root, f), "utf8");
                for (const m of text.matchAll(/require\("([^"./][^"]*)"\)/g)) {
                    const name = m[1].startsWith("@") ? m[1].split("/").slice(0, 2).join("/") : m[1].split("/")[0];
                    if (!require("module").builtinModules.includes(name.replace(/^node:/, ""))) loaded.add(name);
                }
            }
            const peers = Object.keys(manifest.peerDependencies);
            assert.deepEqual([...loaded].filter((n) => !peers.includes(n)).sort(), Object.keys(manifest.dependencies).sort());
            assert.deepEqual([...loaded].filter((n) => peers.includes(n)).sort(), ["@pulumi/pulumi"]);
            // The providers' SDKs only by name, loaded when a zone uses them.
            const cloud = fs.readFileSync(path.join(root, "dist/components/dns/cloud.js"), "utf8");
            assert.match(cloud, /"@pulumi\/cloudflare"/);
            assert.match(cloud, /"@pulumi\/aws"/);
            assert.equal(manifest.dependencies["@pulumi/pulumi"], undefined);
            for (const optional of ["@pulumi/aws", "@pulumi/cloudflare", "pulumi-hearth-policies"]) assert.equal(manifest.peerDependenciesMeta[optional]?.optional, true, optional);
            assert.equal(manifest.peerDependencies["pulumi-hearth-policies"], manifest.version, "the plan's pack is the library's exact version");
        });

        it("ships the bash runtime beside the built code, byte for byte", () => {
            const installed = path.join(consumer, "node_modules/pulumi-hearth/dist/components/core/runtime.sh");
            assert.equal(fs.readFileSync(installed, "utf8"), fs.readFileSync(path.join(root, "components/core/runtime.sh"), "utf8"));
        });
    });

    describe("a consumer on another SDK version inside the peer range", () => {
        it(`installs one @pulumi/pulumi (the consumer's ${CONSUMER_SDK}), zod and ipaddr.js (the schemas' run-time dependencies), and no AWS, Cloudflare, policy or TypeScript-compiler package of ours`, () => {
            assert.deepEqual(installedCopies(consumer, "@pulumi/pulumi"), [{ at: "node_modules/@pulumi/pulumi", version: CONSUMER_SDK }]);
            for (const absent of ["@pulumi/aws", "@pulumi/cloudflare", "@pulumi/policy", "pulumi-hearth-policies"]) assert.deepEqual(installedCopies(consumer, absent), [], absent);
            for (const dep of ["zod", "ipaddr.js"]) assert.ok(installedCopies(consumer, dep).some((c) => c.at === `node_modules/${dep}`), dep);
            assert.deepEqual(installedCopies(consumer, "pulumi-hearth").map((c) => c.at), ["node_modules/pulumi-hearth"]);
        });

        it("type-checks a program against the shipped .d.ts and runs it under mocks with the consumer's SDK", () => {
            fs.writeFileSync(path.join(consumer, "program.ts"), [
                'import * as pulumi from "@pulumi/pulumi";',
                'import { DnsZone, Host, SERVICE_TYPE, SystemdService } from "pulumi-hearth";',
                "const host = new Host({ name: \"box\", address: \"192.168.1.20\", privateKey: pulumi.secret(\"k\"), hostKey: process.env.HOST_KEY! });",
                'export const unit = new SystemdService("web", { host, description: "Consumer test", execStart: ["/usr/bin/true"] }).unitName;',
                "export const token: string = SERVICE_TYPE;",
                "if (process.env.CLOUD_ZONE) new DnsZone(\"pub\", { zone: \"example.org\", backend: { kind: \"cloudflare\", zoneId: \"0123456789abcdef0123456789abcdef\" }, records: [{ name: \"@\", type: \"A\", value: \"203.0.113.7\" }] });",
                "",
            ].join("\n"));
            fs.writeFileSync(path.join(consumer, "run.js"), [
                "const pulumi = require('@pulumi/pulumi');",
                "const types = [];",
                "pulumi.runtime.setMocks({ newResource: (a) => { types.push(a.type); return { id: a.name + '-id', state: a.inputs }; }, call: (a) => a.inputs }, 'consumer', 'dev', false)",
                "  .then(() => pulumi.runtime.runInPulumiStack(async () => require('./out/program')))",
                "  .then(() => new Promise((r) => setTimeout(r, 200)))",
                "  .then(() => { process.stdout.write(JSON.stringify({ sdk: require('@pulumi/pulumi/package.json').version, types: [...new Set(types)].sort() })); process.exit(0); },",
                "        (e) => { process.stderr.write(String(e && e.message || e)); process.exit(3); });",
                "",
            ].join("\n"));
            fs.writeFileSync(path.join(consumer, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: true, module: "node16", moduleResolution: "node16", target: "ES2022", types: ["node"], outDir: "out" }, files: ["program.ts"] }));
            execFileSync(process.execPath, [TSC(consumer), "-p", consumer], { stdio: "pipe" });
            const out = JSON.parse(execFileSync(process.execPath, ["run.js"], { cwd: consumer, encoding: "utf8", env: { ...process.env, HOST_KEY } }));
            assert.equal(out.sdk, CONSUMER_SDK);
            assert.ok(out.types.includes("hearth:systemd:Service"), JSON.stringify(out.types));
            assert.ok(out.types.includes("command:remote:Command"), JSON.stringify(out.types));
        });

        it("a Cloudflare zone without @pulumi/cloudflare installed fails naming the package to install", () => {
            const r = spawnSync(process.execPath, ["run.js"], { cwd: consumer, encoding: "utf8", env: { ...process.env, HOST_KEY, CLOUD_ZONE: "1" } });
            assert.equal(r.status, 3, r.stdout + r.stderr);
            assert.match(r.stderr, /The 'backend' argument of zone 'example\.org' is 'cloudflare', which needs the @pulumi\/cloudflare package: install it beside pulumi-hearth \(npm install @pulumi\/cloudflare\)/);
        });
    });

    describe("a site repository made from templates/site", () => {
        const plan = (extra: string[] = []) => spawnSync(path.join(site, "node_modules/.bin/pulumi-hearth"), ["plan", "--stack", "home", "--out", path.join(site, "out/plan"), ...extra], { cwd: site, encoding: "utf8" });

        it("has the workflow, the waiver file, a README and no placeholder left", () => {
            for (const f of [".github/workflows/hearth.yml", "policy-config.json", "README.md", "index.ts", "Pulumi.yaml", "Pulumi.home.yaml"]) assert.ok(fs.existsSync(path.join(site, f)), f);
            assert.doesNotMatch(fs.readFileSync(path.join(site, "package.json"), "utf8"), /\$\{PROJECT\}/);
            assert.match(fs.readFileSync(path.join(site, "Pulumi.yaml"), "utf8"), /^name: mysite$/m);
            assert.deepEqual(installedCopies(site, "@pulumi/pulumi").map((c) => c.version), [CONSUMER_SDK]);
        });

        it("type-checks with the site's own TypeScript", () => {
            execFileSync(process.execPath, [TSC(site), "-p", site], { stdio: "pipe" });
        });

        it("`pulumi-hearth plan --stack home` plans it and runs the installed pack: no violation", () => {
            const r = plan();
            assert.equal(r.status, 0, r.stderr + r.stdout);
            assert.match(r.stdout, /^Policies \(pulumi-hearth-policies 0\.1\.0; config: policy-config\.json\):$/m);
            assert.match(r.stdout, /0 mandatory, 0 advisory, 0 remediate violation\(s\); 0 waiver\(s\) applied; 16 policies\./);
            assert.ok(fs.existsSync(path.join(site, "out/plan/home/server/etc/systemd/system/web.service")));
        });

        it("a secret-looking value in a service's environment fails the plan through hearth-command-no-secrets", () => {
            const program = path.join(site, "index.ts");
            const original = fs.readFileSync(program, "utf8");
            try {
                fs.writeFileSync(program, original.replace('memoryMaxMiB: 128,', 'memoryMaxMiB: 128,\n    environment: { DB_PASSWORD: "correct-horse-battery" },'));
                const r = plan();
                assert.equal(r.status, 1, r.stdout);
                assert.match(r.stdout, /^ {2}mandatory hearth-command-no-secrets {2}web-converge: .*DB_PASSWORD=/m);
                assert.match(r.stderr, /error: 1 mandatory policy violation\(s\) \(hearth-command-no-secrets\)/);
                assert.doesNotMatch(r.stdout + r.stderr, /correct-horse-battery/, "the finding is redacted");
            } finally {
                fs.writeFileSync(program, original);
            }
        });

        it("without pulumi-hearth-policies the plan says what to install", () => {
            const moved = path.join(tmp, "policies-aside");
            fs.renameSync(path.join(site, "node_modules/pulumi-hearth-policies"), moved);
            try {
                const r = plan();
                assert.equal(r.status, 1);
                assert.match(r.stderr, /pulumi-hearth-policies is not installed in .*: npm install --save-dev pulumi-hearth-policies@0\.1\.0 \(or plan with --no-policies\)/);
                assert.equal(plan(["--no-policies"]).status, 0);
            } finally {
                fs.renameSync(moved, path.join(site, "node_modules/pulumi-hearth-policies"));
            }
        });

        it("serves the installed pack as `--policy-pack node_modules/pulumi-hearth-policies` does, and it reports through gRPC", async () => {
            // What the CLI's policy analyzer runs: the SDK's run-policy-pack with the pack directory; it prints its port.
            const packDir = path.join(site, "node_modules/pulumi-hearth-policies");
            const runner = path.join(site, "node_modules/@pulumi/pulumi/cmd/run-policy-pack");
            const child: ChildProcess = spawn(process.execPath, [runner, "127.0.0.1:1", packDir], { cwd: packDir, stdio: ["ignore", "pipe", "pipe"] });
            try {
                const port = await new Promise<string>((resolve, reject) => {
                    let out = "";
                    let err = "";
                    child.stdout!.on("data", (d) => { out += d; const m = /^(\d+)\s*$/m.exec(out); if (m) resolve(m[1]); });
                    child.stderr!.on("data", (d) => (err += d));
                    child.on("exit", (code) => reject(new Error(`the pack exited (${code}) before serving: ${err}`)));
                    setTimeout(() => reject(new Error(`the pack printed no port in 60 s: ${out} ${err}`)), 60000);
                });
                const command = {
                    type: "command:remote:Command",
                    name: "web-converge",
                    urn: "urn:pulumi:home::mysite::command:remote:Command::web-converge",
                    props: { create: "bash -c 'export API_TOKEN=tok-123456789'", connection: { host: "192.168.1.20", user: "root", hostKey: HOST_KEY } },
                };
                const r = spawnSync(process.execPath, [path.join(__dirname, "analyzer-client.js"), site, port, JSON.stringify(command)], { encoding: "utf8" });
                assert.equal(r.status, 0, r.stderr);
                const info = JSON.parse(r.stdout);
                assert.equal(info.name, "hearth");
                assert.equal(info.policies.length, 16);
                assert.ok(info.policies.some((p: any) => p.name === "hearth-systemd-no-new-privileges" && p.level === "remediate"));
                assert.deepEqual(info.diagnostics.map((d: any) => [d.policy, d.level]), [["hearth-command-no-secrets", "mandatory"]]);
            } finally {
                child.kill();
            }
        });
    });
});
