// SystemdService rendering: golden files per scenario, systemd-analyze verify and security on every unit, shellcheck on every script.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseScriptFiles, frameStdin } from "../../components/shell";
import { RUNTIME } from "../../components/core/runtime";
import { golden } from "../golden";
import { renderService, resolveServiceArgs, RenderedService } from "../../components/systemd";
import { checkScript, securityScore, verifyUnits } from "../tools";
import { scenarios, testHost } from "./scenarios";
import { markOf } from "./marks";

const GOLDEN = path.join(__dirname, "golden");
const UNIT_DIR = "/etc/systemd/system/";
/** Debian bookworm's nginx.service with its binaries swapped for ones this machine has (verify checks they exist). */
const NGINX_FIXTURE = fs.readFileSync(path.join(__dirname, "fixtures", "nginx.service"), "utf8");

function goldenText(name: string, r: RenderedService): string {
    // The hash covers the runtime too, so it is checked for stability elsewhere, not pinned here.
    assert.match(r.hash, /^[0-9a-f]{64}$/);
    const parts = [`# scenario ${name}: ${r.unitName}`];
    for (const f of r.files) parts.push(`==> ${f.path} (${f.mode.toString(8).padStart(4, "0")} ${f.owner ?? "root"}:${f.group ?? "root"}) <==`, f.content);
    // The runtime is the same in every script (and specified on its own): the golden shows the component's calls.
    const calls = (script: string) => {
        assert.ok(script.includes(RUNTIME), "the script carries the runtime");
        return script;
    };
    parts.push("==> converge script <==", calls(r.script), "==> delete script <==", calls(r.deleteScript));
    return parts.join("\n");
}

/** The files as a unit search directory sees them (drop-ins under `<unit>.d/`), with the packaged unit under a drop-in. */
function unitTree(r: RenderedService): Record<string, string> {
    const units: Record<string, string> = {};
    for (const f of r.files) units[f.path.slice(UNIT_DIR.length)] = f.content;
    if (r.files.some((f) => f.path.includes(".service.d/"))) units[r.unitName] = NGINX_FIXTURE;
    return units;
}

describe("SystemdService rendering", () => {
    const host = testHost();
    const rendered = scenarios(host).map((s) => {
        const resolved = resolveServiceArgs(s.name, { host, ...s.args });
        return { s, resolved, r: renderService(resolved, markOf(s.name)) };
    });
    const table: string[] = [];

    after(() => {
        if (table.length) console.log(`\n    systemd-analyze security --offline=true (exposure, lower is safer)\n${table.map((l) => `      ${l}`).join("\n")}\n`);
    });

    for (const { s, r, resolved } of rendered) {
        describe(s.name, () => {
            it("matches its golden file", () => {
                golden(GOLDEN, `${s.name}.golden`, goldenText(s.name, r));
            });

            it("passes systemd-analyze verify without a single warning", () => {
                const units = unitTree(r);
                assert.deepEqual(verifyUnits(units), []);
            });

            it(`scores ${s.loosened ? "(loosened: reported)" : "<= 1.5"} on systemd-analyze security`, () => {
                for (const f of r.files.filter((f) => /\.service(\.d\/.*\.conf)?$/.test(f.path))) {
                    const isDropIn = f.path.endsWith(".conf");
                    const name = isDropIn ? r.unitName : f.path.slice(UNIT_DIR.length);
                    // A drop-in is scored on top of the packaged unit, as systemd would load them.
                    const text = isDropIn ? `${NGINX_FIXTURE}\n${f.content}` : f.content;
                    const { exposure } = securityScore(name, text);
                    table.push(`${name.padEnd(24)} ${exposure.toFixed(1)}${s.loosened ? "  (loosened on purpose)" : ""}`);
                    if (!s.loosened) assert.ok(exposure <= 1.5, `${name} exposure ${exposure} > 1.5`);
                }
            });

            it("passes bash -n and shellcheck (converge and delete)", () => {
                assert.deepEqual(checkScript(r.script), []);
                assert.deepEqual(checkScript(r.deleteScript), []);
            });

            it("installs exactly its files, recoverable from the script and stdin; secrets are not files", () => {
                const secrets = resolved.credentials.map((c) => `secret-${c}`);
                const stdin = frameStdin([...r.files.map((f) => f.content), ...secrets]);
                const got = parseScriptFiles(r.script, stdin);
                assert.deepEqual(got.map((f) => [f.path, f.mode, f.content]), r.files.map((f) => [f.path, f.mode, f.content]));
                // Config files are the user's text as given; every other file (units, the config tree's mark) carries the mark.
                for (const c of resolved.files) assert.equal(r.files.find((f) => f.path === c.source)?.content, c.content, `${c.target} is written as given`);
                for (const f of r.files.filter((f) => !resolved.files.some((c) => c.source === f.path))) {
                    assert.ok(f.content.startsWith("# Managed by hearth"), `${f.path} carries the marker`);
                    assert.equal(f.content.split("\n")[1], `# hearth-owner: ${markOf(s.name).id}`, `${f.path} names its owner`);
                }
                for (const c of resolved.credentials) {
                    assert.ok(r.script.includes(`hearth_install_secret /etc/credstore/${r.unitName}/${c}`), `credential ${c} installed`);
                    assert.ok(r.unitText.includes(`LoadCredential=${c}:/etc/credstore/${r.unitName}/${c}`));
                }
            });
        });
    }

    it("a packaged unit's unscored baseline is far worse than with the nginx drop-in (the drop-in takes effect)", () => {
        const base = securityScore("nginx.service", NGINX_FIXTURE).exposure;
        const r = rendered.find((x) => x.s.name === "nginx")!.r;
        const hardened = securityScore("nginx.service", `${NGINX_FIXTURE}\n${r.files[0].content}`).exposure;
        table.push(`nginx.service (packaged)  ${base.toFixed(1)}  -> ${hardened.toFixed(1)} with the hearth drop-in`);
        assert.ok(base >= 9, `packaged nginx scores ${base}`);
        assert.ok(hardened < 3, `hardened nginx scores ${hardened}`);
    });

    it("verify really reads the drop-in (a bad key in it is reported)", () => {
        const r = rendered.find((x) => x.s.name === "nginx")!.r;
        const units = unitTree(r);
        const dropIn = Object.keys(units).find((k) => k.endsWith(".conf"))!;
        units[dropIn] += "ProtectSystm=strict\n";
        assert.ok(verifyUnits(units).some((l) => /ProtectSystm/.test(l)), "verify saw the drop-in");
    });

    it("a drop-in over a template restarts the running instances, never enabling the template", () => {
        const r = renderService(resolveServiceArgs("pg", { host: testHost(), dropIn: { unit: "postgresql@.service" }, memoryMaxMiB: 1024 }), markOf("pg"));
        assert.equal(r.files[0].path, "/etc/systemd/system/postgresql@.service.d/50-hearth.conf");
        assert.ok(r.script.includes(`systemctl try-restart -- 'postgresql@*.service'`));
        assert.ok(!/systemctl (enable|start|restart) /.test(r.script.split(RUNTIME).join("")));
        assert.deepEqual(checkScript(r.script), []);
        const fixture = "[Service]\nExecStart=/bin/sleep infinity\n";
        assert.deepEqual(verifyUnits({ "postgresql@.service": fixture, "postgresql@.service.d/50-hearth.conf": r.files[0].content }), []);
    });

    it("every default unit names the sandbox settings it promises", () => {
        const text = rendered.find((x) => x.s.name === "plain")!.r.unitText;
        for (const line of [
            "DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "PrivateUsers=yes",
            "NoNewPrivileges=yes", "CapabilityBoundingSet=", "RestrictNamespaces=yes", "RestrictAddressFamilies=AF_UNIX",
            "SystemCallFilter=@system-service", "SystemCallFilter=~@privileged @resources", "SystemCallErrorNumber=EPERM",
            "SystemCallArchitectures=native", "ProtectProc=invisible", "ProcSubset=pid", "MemoryDenyWriteExecute=yes",
            "PrivateNetwork=yes", "IPAddressDeny=any", "UMask=0077", "OOMPolicy=kill", "LockPersonality=yes", "RestrictSUIDSGID=yes",
        ]) {
            assert.ok(text.split("\n").includes(line), `missing ${line}`);
        }
        assert.ok(!/AmbientCapabilities/.test(text));
    });

    it("writes each loosening's reason as a comment right before it", () => {
        const text = rendered.find((x) => x.s.name === "jit")!.r.unitText.split("\n");
        const pairs: [string, string][] = [
            ["memoryDenyWriteExecute", "MemoryDenyWriteExecute=no"],
            ["addressFamilies", "RestrictAddressFamilies=AF_NETLINK"],
            ["privateDevices", "PrivateDevices=no"],
            ["privateUsers", "PrivateUsers=no"],
            ["protectHome", "ProtectHome=read-only"],
            ["namespaces", "RestrictNamespaces=user"],
            ["writablePaths", "ReadWritePaths=/var/cache/fontconfig"],
        ];
        for (const [name, line] of pairs) {
            const i = text.indexOf(line);
            assert.ok(i > 0, `missing ${line}`);
            assert.match(text[i - 1], new RegExp(`^# hearth loosening '${name}': .{8,}`));
        }
    });
});
