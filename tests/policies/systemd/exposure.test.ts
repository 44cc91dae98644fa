// The TypeScript exposure scorer against the real `systemd-analyze security --offline=true`: item by item, overall, and the budget verdict.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ASSESSORS, unitExposure } from "../../../policies/systemd/exposure";
import { generateSyscallTable } from "../../../policies/systemd/syscalls.gen";
import committedTable from "../../../policies/systemd/syscalls.json";
import { Host } from "../../../components/host";
import { resolveServiceArgs, renderService, SystemdServiceArgs, SystemdServiceFields } from "../../../components/systemd";
import { securityScore } from "../../tools";
import { installMocks, TEST_HOST_KEY } from "../../mocks";
import { UNIT_FIXTURES } from "./unit-fixtures";

const BUDGET = 1.5;

interface AnalyzeItem {
    json_field: string;
    weight: number;
    range: number;
    badness: number;
}

/** systemd-analyze's per-item table for one unit (SYSTEMD_ANALYZE_DEBUG shows weight, badness and range). */
function analyzeItems(unitName: string, text: string): AnalyzeItem[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-exposure-"));
    try {
        fs.writeFileSync(path.join(dir, unitName), text);
        const r = spawnSync("systemd-analyze", ["security", "--offline=true", "--no-pager", "--json=short", path.join(dir, unitName)], {
            encoding: "utf8",
            env: { ...process.env, SYSTEMD_ANALYZE_DEBUG: "1" },
        });
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const NOT_APPLICABLE = 2 ** 64 - 1;

function crossCheck(unitName: string, text: string): void {
    const mine = unitExposure({ name: unitName, main: text });
    const real = securityScore(unitName, text);
    const items = analyzeItems(unitName, text);
    const mismatched = items
        .map((it) => ({ it, m: mine.items.find((x) => x.field === it.json_field) }))
        .filter(({ it, m }) => !m || m.badness !== (it.badness >= NOT_APPLICABLE ? null : it.badness))
        .map(({ it, m }) => `${it.json_field}: systemd ${it.badness >= NOT_APPLICABLE ? "n/a" : it.badness}, hearth ${m ? m.badness : "missing"}`);
    assert.deepEqual(mismatched, [], `${unitName}: per-setting badness differs`);
    assert.ok(Math.abs(mine.exposure - real.exposure) <= 0.05, `${unitName}: hearth ${mine.exposure}, systemd-analyze ${real.exposure}`);
    assert.equal(mine.exposure <= BUDGET, real.exposure <= BUDGET, `${unitName}: verdict against ${BUDGET} differs`);
}

describe("systemd exposure scorer", () => {
    it("has systemd-analyze's assessors, weights and ranges", () => {
        const items = analyzeItems("bare.service", UNIT_FIXTURES["bare.service"]);
        const theirs = items.map((i) => `${i.json_field} ${i.weight}/${i.range}`).sort();
        const ours = ASSESSORS.map((a) => `${a.field} ${a.weight}/${a.range}`).sort();
        assert.deepEqual(ours, theirs);
    });

    it("uses the syscall groups and libseccomp names of this machine's systemd", function () {
        this.timeout(20000);
        const live = generateSyscallTable();
        // A point release may change the version line without changing a group; the groups are what the score uses.
        const hint = `regenerate policies/systemd/syscalls.json (table from ${committedTable.source}, machine has ${live.source})`;
        assert.deepEqual(live.groups, committedTable.groups, hint);
        assert.deepEqual(live.unresolved, committedTable.unresolved, hint);
    });

    describe("hand-written units", () => {
        for (const [name, text] of Object.entries(UNIT_FIXTURES)) {
            it(`${name} scores as systemd-analyze scores it`, () => crossCheck(name, text));
        }

        it("spans both sides of the budget", () => {
            const scores = Object.entries(UNIT_FIXTURES).map(([n, t]) => unitExposure({ name: n, main: t }).exposure);
            assert.ok(scores.some((s) => s <= BUDGET) && scores.some((s) => s > BUDGET), JSON.stringify(scores));
            assert.ok(Math.min(...scores) < 0.5 && Math.max(...scores) > 9, JSON.stringify(scores));
        });

        it("applies drop-ins after the main file", () => {
            const base = { name: "bare.service", main: UNIT_FIXTURES["bare.service"] };
            const hardened = { ...base, dropIns: { "50-hearth.conf": UNIT_FIXTURES["locked.service"].replace(/^[\s\S]*?\[Service\]\nExecStart=[^\n]*\n/, "[Service]\n") } };
            assert.equal(unitExposure(base).exposure, 9.6);
            assert.equal(unitExposure(hardened).exposure, unitExposure({ name: "locked.service", main: UNIT_FIXTURES["locked.service"] }).exposure);
        });
    });

    describe("units the SystemdService renderer writes", () => {
        let host: Host;
        before(async () => {
            await installMocks();
            host = new Host({ name: "h1", address: "10.231.0.2", privateKey: pulumi.secret("key"), hostKey: TEST_HOST_KEY });
        });

        const cases: Record<string, SystemdServiceFields> = {
            default: { execStart: ["/usr/bin/sleep", "infinity"], description: "sleeps" },
            web: { execStart: ["/usr/bin/python3", "-m", "http.server", "8080"], description: "web", network: "internet", listenPorts: [8080], stateDirectory: "web" },
            lan: { execStart: ["/usr/bin/app"], description: "lan app", network: "local", listenPorts: [80] },
            named: { execStart: ["/usr/bin/app"], description: "named", user: { name: "app", reason: "owns files in /srv/app already" } },
            root: { execStart: ["/usr/sbin/app"], description: "root", runAsRoot: { reason: "manages network interfaces on the host" }, network: "internet" },
            loose: {
                execStart: ["/usr/bin/node", "server.js"],
                description: "loose",
                network: "internet",
                loosen: {
                    memoryDenyWriteExecute: { reason: "V8 JIT needs writable executable memory" },
                    syscallGroups: { groups: ["@setuid"], reason: "drops privileges itself after start" },
                    addressFamilies: { families: ["AF_NETLINK"], reason: "reads interface addresses via netlink" },
                    privateDevices: { reason: "talks to a USB serial device" },
                },
            },
            timer: { execStart: ["/usr/bin/backup"], description: "backup", timer: { onCalendar: "daily" } },
            socket: { execStart: ["/usr/bin/app", "--port", "9000"], description: "idle app", socket: { listenStream: 8081, idleStopSec: 300, targetPort: 9000 } },
        };
        for (const [label, args] of Object.entries(cases)) {
            it(`${label}: every rendered service unit scores as systemd-analyze scores it`, () => {
                const rendered = renderService(resolveServiceArgs(label, { host, ...args } as SystemdServiceArgs), { id: `p/s/hearth:systemd:Service/${label}`, aliases: [], adopt: false });
                const units = rendered.files.filter((f) => /^\/etc\/systemd\/system\/[^/]+\.service$/.test(f.path));
                assert.ok(units.length > 0, "renders at least one full service unit");
                for (const u of units) {
                    const name = path.basename(u.path);
                    crossCheck(name, u.content);
                }
            });
        }
    });
});
