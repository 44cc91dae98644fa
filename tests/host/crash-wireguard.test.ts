// Crash points for WireguardLink on a real host (wireguard-go): the key step (fresh, and a rotation that must never
// generate a second key because of a crash), the interface converge (fresh, a changed peer key, changed peer routes)
// and the deletes, killed after every runtime step, re-run unchanged, and compared with a clean run.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { WireguardLink } from "../../components/wireguard";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, crashPoints, fileFacts, unitFacts, mustExec, runAll } from "./crash";
import { registeredCommands } from "./runner";
import { setCommandStdout } from "../mocks";

const IF = "wg-crash";
const PEER_A = "yFBApxHlqZV2r32SzjVII0ZXAOQcZvyVlFFRbaifYWw=";
const PEER_B = "O5GfCEkFYsneugKRKKIb5wkmNyh+VAImxMDbXB1AI0s=";
const PSK = "Ll+A+0iQlADroMLeMfY7y08yZkioBvsHEEKzBy2UUB0=";

describeHost("WireguardLink crash points", function () {
    this.timeout(1_800_000);
    let h: TestHost;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);

    interface Shape { readonly peerKey?: string; readonly subnets?: string[]; readonly keyVersion?: number }
    /** The key, interface and delete commands of a one-host link (the peer is managed elsewhere). */
    async function commands(shape: Shape = {}): Promise<{ key: CrashRun; keyDelete: CrashRun; iface: CrashRun; ifaceDelete: CrashRun }> {
        const cmds = await registeredCommands(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            new WireguardLink("crash", {
                interfaceName: IF,
                keyVersion: shape.keyVersion ?? 0,
                hub: { host, endpoint: `${h.address}:51820` },
                peers: [{ name: "far", publicKey: shape.peerKey ?? PEER_A, subnets: shape.subnets ?? ["10.77.0.0/24"] }],
                presharedKey: pulumi.secret(PSK),
            });
        });
        const get = (n: string) => cmds.find((c) => c.name === n)!.inputs;
        const side = h.name;
        return {
            key: { command: get(`crash-${side}-key`).create },
            keyDelete: { command: get(`crash-${side}-key-lifecycle`).delete },
            iface: { command: get(`crash-${side}-interface`).create, stdin: get(`crash-${side}-interface`).stdin },
            ifaceDelete: { command: get(`crash-${side}-interface-lifecycle`).delete },
        };
    }

    const wipe = () => sh([
        `systemctl disable --now --quiet wg-quick@${IF}.service 2>/dev/null || true`,
        `ip link del dev ${IF} 2>/dev/null || true`,
        `rm -rf /etc/wireguard/${IF}.* /etc/wireguard/.hearth /var/lib/hearth/applied/wireguard`,
    ].join("\n"));
    const runClean = (...runs: CrashRun[]) => runAll(h, runs);

    /**
     * Files (keys by presence and mode), applied state, the unit, and what the live interface holds (keys as a match;
     * global addresses only: wireguard-go's link-local address is random per interface).
     */
    const fingerprint = async () => [
        ...(await fileFacts(h, [], { trees: ["/etc/wireguard", "/var/lib/hearth/applied/wireguard"], random: [`/etc/wireguard/${IF}.key.v*`] })),
        JSON.stringify(await unitFacts(h, [`wg-quick@${IF}.service`])),
        await sh([
            `if ip link show dev ${IF} >/dev/null 2>&1; then`,
            `  wg show ${IF} listen-port; wg show ${IF} allowed-ips; wg show ${IF} endpoints`,
            `  wg show ${IF} preshared-keys | sha256sum`,
            `  [ "$(wg show ${IF} public-key)" = "$(wg pubkey < /etc/wireguard/${IF}.key)" ] && echo own-key-loaded`,
            `  ip -o addr show dev ${IF} scope global | awk '{print $3, $4}'; ip -o route show dev ${IF} | sort; ip -o -6 route show dev ${IF} | grep -v '^fe80' | sort`,
            "else echo no-interface; fi",
        ].join("\n")),
    ];

    before(async () => {
        h = await startHost({ name: "wgcrash" });
        // Planning reads the key step's stdout; this side's own public key appears in none of its files, so a
        // stand-in serves (running the key step while planning would change the host under test).
        setCommandStdout((name) => (name.endsWith("-key") ? `hearth-wg-public-key: ${"A".repeat(43)}=\n` : ""));
    });
    after(async () => {
        setCommandStdout();
        await h?.stop();
    });

    const cases: [string, () => Promise<{ from: CrashRun[]; run: CrashRun; min: number }>][] = [
        ["key step on a fresh host", async () => ({ from: [], run: (await commands()).key, min: 2 })],
        ["interface converge on a fresh host", async () => {
            const c = await commands();
            return { from: [c.key], run: c.iface, min: 8 };
        }],
        ["interface converge with a changed peer key (reload)", async () => {
            const c = await commands();
            return { from: [c.key, c.iface], run: (await commands({ peerKey: PEER_B })).iface, min: 3 };
        }],
        ["interface converge with changed peer routes (restart)", async () => {
            const c = await commands();
            return { from: [c.key, c.iface], run: (await commands({ subnets: ["10.78.0.0/24"] })).iface, min: 3 };
        }],
        ["interface delete", async () => {
            const c = await commands();
            return { from: [c.key, c.iface], run: c.ifaceDelete, min: 6 };
        }],
        ["key delete after the interface delete", async () => {
            const c = await commands();
            return { from: [c.key, c.iface, c.ifaceDelete], run: c.keyDelete, min: 2 };
        }],
    ];
    for (const [name, make] of cases) {
        it(`${name}: every kill point finishes on the re-run`, async () => {
            const c = await make();
            const report = await crashPoints(h, { name, reset: async () => { await wipe(); await runClean(...c.from); }, run: c.run, fingerprint });
            assert.ok(report.points >= c.min, `${name}: only ${report.points} kill points`);
            process.stderr.write(`crash-wireguard: ${name}: ${report.points} points in ${report.seconds.toFixed(0)} s\n`);
            const leftovers = await h.exec("find /etc/wireguard /var/lib/hearth/applied -name '.hearth.*' 2>/dev/null; ip -o link show | grep -o 'hwv[0-9]*' || true");
            assert.equal(leftovers.stdout, "", "temp files or probe interfaces left behind");
        });
    }

    it("a key rotation killed at any step never generates a second key: the re-run keeps the one the killed run made", async () => {
        const v0 = await commands();
        const v1 = await commands({ keyVersion: 1 });
        const keyOf = async () => (await sh(`if [ -f /etc/wireguard/${IF}.key.v1 ]; then wg pubkey < /etc/wireguard/${IF}.key.v1; fi`)).trim();
        let points = 0;
        let sawKeyBeforeRerun = 0;
        for (let k = 1; k < 50; k++) {
            await wipe();
            await runClean(v0.key, v0.iface);
            const killed = await h.exec(`HEARTH_CRASH_AT=${k} ${v1.key.command}`);
            if (!/hearth-crash: step \d+/.test(killed.stderr)) {
                assert.equal(killed.code, 0, killed.stderr);
                break;
            }
            points = k;
            const made = await keyOf();
            const rerun = await h.exec(v1.key.command);
            assert.equal(rerun.code, 0, rerun.stderr);
            const printed = /hearth-wg-public-key: (\S+)/.exec(rerun.stdout)![1];
            if (made) {
                sawKeyBeforeRerun++;
                assert.equal(printed, made, `kill at step ${k}: the re-run generated another key`);
                assert.doesNotMatch(rerun.stdout + rerun.stderr, /generated a private key/, `kill at step ${k}`);
            }
            assert.equal(printed, await keyOf());
            assert.equal((await sh(`wg show ${IF} public-key`)).trim(), printed, `kill at step ${k}: the live interface runs the new key`);
            assert.equal((await sh(`readlink /etc/wireguard/${IF}.key; ls /etc/wireguard | grep -c '^${IF}\\.key\\.v' || true`)), `${IF}.key.v1\n1\n`);
        }
        assert.ok(points >= 3, `only ${points} kill points`);
        assert.ok(sawKeyBeforeRerun >= 2, "most kill points come after the new key exists");
    });
});
