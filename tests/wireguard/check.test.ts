// WireguardLink's drift check: the line each interface converge carries, and what the runtime's comparison of the
// running interface with the installed config reports (wg and ip stubbed: no interface, no host).
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { checkOfConverge, parseCheckOutput, renderHostCheck } from "../../components/core/check";
import { RUNTIME } from "../../components/core/runtime";
import { unwrapCommand } from "../../components/core/shell";
import { Host } from "../../components/host";
import { WireguardLink } from "../../components/wireguard";
import { renderCheck, renderConfig, WgInterface } from "../../components/wireguard/render";
import { installMocks, recorded, resetRecorded, resolve, setCommandStdout, settle, TEST_HOST_KEY } from "../mocks";
import { checkScript } from "../tools";
import { wgKeyPair } from "./wg";

const host = (name: string, address: string) =>
    new Host({ name, address, privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n"), hostKey: TEST_HOST_KEY });

describe("WireguardLink drift check", () => {
    describe("the check lines", () => {
        before(() => installMocks());
        beforeEach(() => {
            resetRecorded();
            setCommandStdout((n) => (n.endsWith("-key") ? `hearth-wg-public-key: ${createHash("sha256").update(n).digest("base64")}\n` : ""));
        });
        after(() => setCommandStdout());

        it("each interface converge carries one check of its interface, naming the live and staged files and the key link; the key step none", async () => {
            const link = new WireguardLink("sites", {
                interfaceName: "wg-sites",
                hub: { host: host("rack", "10.231.1.2"), endpoint: "10.231.1.2:51820" },
                peers: [{ host: host("cabin", "10.231.2.2") }],
                presharedKey: true,
            });
            await resolve(link.publicKeys);
            await settle();
            const cmds = recorded.filter((r) => r.type === "command:remote:Command" && typeof r.inputs.create === "string");
            const checks = cmds.map((c) => {
                const w = unwrapCommand(c.inputs.create)!;
                return { name: c.name, check: checkOfConverge(c.name, w.script, w.sudo, typeof c.inputs.stdin === "string" ? c.inputs.stdin : undefined)! };
            });
            assert.deepEqual(checks.map((c) => c.name).sort(), ["sites-cabin-interface", "sites-cabin-key", "sites-rack-interface", "sites-rack-key"]);
            const own = (name: string) => checks.find((c) => c.name === name)!.check.lines.filter((l) => !/^hearth_check_(converged|file) /.test(l));
            for (const side of ["rack", "cabin"]) {
                assert.deepEqual(own(`sites-${side}-interface`), [
                    "hearth_check_wireguard wg-sites /etc/wireguard/wg-sites.conf /etc/wireguard/.hearth/wg-sites.conf /etc/wireguard/wg-sites.hearth-keys /etc/wireguard/.hearth/wg-sites.hearth-keys /etc/wireguard/wg-sites.key",
                ]);
                assert.deepEqual(own(`sites-${side}-key`), []);
                // The generic part covers the staged files and the preshared key (compared with what was applied).
                const files = checks.find((c) => c.name === `sites-${side}-interface`)!.check.lines.filter((l) => l.startsWith("hearth_check_file "));
                assert.ok(files.some((l) => /^hearth_check_file \/etc\/wireguard\/wg-sites\.\w+\.psk '-' 0600 root root /.test(l)), files.join("\n"));
                assert.ok(files.some((l) => /^hearth_check_file \/etc\/wireguard\/\.hearth\/wg-sites\.conf [0-9a-f]{64} 0600 root root /.test(l)), files.join("\n"));
            }
            const script = renderHostCheck("rack", checks.map((c) => c.check));
            assert.deepEqual(checkScript(script), []);
        });

        it("quotes an interface name as one word", () => {
            const [line] = renderCheck({ interfaceName: "wg-a_b" });
            assert.match(line, /^hearth_check_wireguard wg-a_b \/etc\/wireguard\/wg-a_b\.conf /);
            assert.equal(line.split(" ").length, 7);
        });
    });

    describe("the runtime's comparison (hearth_wg_diff) against a stubbed wg", () => {
        let dir: string;
        const self = wgKeyPair();
        const other = wgKeyPair();
        const third = wgKeyPair();
        const psk = wgKeyPair().privateKey;
        const iface: WgInterface = {
            link: "sites", side: "alpha", interfaceName: "wg0", addresses: ["fd00::1/64"], listenPort: 51820, mtu: 1420, keyVersion: 0,
            mark: { id: "p/s/hearth:net:WireguardLink/sites", aliases: [], adopt: false } as unknown as WgInterface["mark"],
            peers: [{ name: "beta", publicKey: other.publicKey, endpoint: "10.231.2.2:51820", allowedIps: ["fd00::2/128", "10.9.0.0/16"], keepaliveSec: 25, presharedKey: true }],
        };
        before(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-wgcheck-"));
            fs.writeFileSync(path.join(dir, "wg0.conf"), renderConfig(iface));
            fs.writeFileSync(path.join(dir, "wg0.key"), self.privateKey + "\n");
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        const peerLine = (pub: string, endpoint: string, ips: string, hs: number, ka: string) => [pub, psk, endpoint, ips, String(hs), "100", "200", ka].join("\t");
        const good = () => [
            [self.privateKey, self.publicKey, "51820", "off"].join("\t"),
            peerLine(other.publicKey, "10.231.2.2:51820", "fd00::2/128,10.9.0.0/16", Math.floor(Date.now() / 1000) - 30, "25"),
        ];

        /** Runs hearth_wg_diff over the runtime with `wg` and `ip` stubbed; returns its lines. */
        function diff(dump: string[], flags = "POINTOPOINT,NOARP,UP,LOWER_UP", key = self.privateKey): string[] {
            fs.writeFileSync(path.join(dir, "dump"), dump.join("\n") + "\n");
            fs.writeFileSync(path.join(dir, "wg0.key"), key + "\n");
            const script = [
                RUNTIME,
                `ip() { if [ "${flags}" = absent ]; then return 1; fi; printf '7: wg0: <%s> mtu 1420 qdisc noqueue state UNKNOWN\\n' '${flags}'; }`,
                `wg() { case $1 in show) [ "$3" = dump ] && cat '${dir}/dump' ;; pubkey) command wg pubkey ;; esac; }`,
                `hearth_wg_diff wg0 '${dir}/wg0.conf' '${dir}/wg0.key'`,
            ].join("\n");
            const r = spawnSync("bash", ["--noprofile", "--norc", "-s"], { input: script, encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            for (const secret of [self.privateKey, psk]) assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), "no secret is printed");
            return r.stdout.trim().split("\n").filter((l) => l !== "");
        }
        const drifts = (lines: string[]) => lines.filter((l) => l.startsWith("drift\t")).map((l) => l.slice(6).split("\t").join(" | "));
        const tag = `peer beta (${other.publicKey.slice(0, 8)}...)`;

        it("reports no drift for an interface that runs its config, and each peer's latest handshake as information", () => {
            const out = diff(good());
            assert.deepEqual(drifts(out), []);
            const info = out.filter((l) => l.startsWith("info\t"));
            assert.equal(info.length, 1);
            assert.match(info[0], new RegExp(`^info\t${tag.replace(/[.()+/]/g, "\\$&")} latest handshake\t(29|30|31)s ago$`));
        });

        it("names the peer whose endpoint, allowed IPs or keepalive changed", () => {
            const d = good();
            d[1] = peerLine(other.publicKey, "10.231.9.9:4444", "10.9.0.0/16", 0, "off");
            assert.deepEqual(drifts(diff(d)), [
                `${tag} endpoint | 10.231.2.2:51820 | 10.231.9.9:4444`,
                `${tag} allowed IPs | 10.9.0.0/16,fd00::2/128 | 10.9.0.0/16`,
                `${tag} keepalive | 25 | off`,
            ]);
            assert.ok(diff(d).includes(`info\t${tag} latest handshake\tnever`));
        });

        it("reports a removed peer, and a peer the config does not list by its key's prefix", () => {
            assert.deepEqual(drifts(diff([good()[0]])), [`${tag} | present | absent`]);
            assert.deepEqual(drifts(diff([...good(), peerLine(third.publicKey, "(none)", "(none)", 0, "off")])), [`peer ${third.publicKey.slice(0, 8)}... | absent | present`]);
        });

        it("reports an interface that is down or gone, another listen port, and a private key that is not the installed one", () => {
            assert.deepEqual(drifts(diff(good(), "POINTOPOINT,NOARP")), ["interface wg0 | up | down"]);
            assert.deepEqual(drifts(diff(good(), "absent")), ["interface wg0 | up | absent"]);
            const d = good();
            d[0] = [self.privateKey, self.publicKey, "40000", "off"].join("\t");
            assert.deepEqual(drifts(diff(d)), ["listen port of wg0 | 51820 | 40000"]);
            const lines = drifts(diff(good(), undefined, third.privateKey));
            assert.deepEqual(lines, [`public key of wg0 | ${third.publicKey.slice(0, 8)}... (the half of ${dir}/wg0.key) | ${self.publicKey.slice(0, 8)}...`]);
        });

        it("the check turns each difference into a report line of its resource", () => {
            const d = good();
            d[1] = peerLine(other.publicKey, "10.231.9.9:4444", "fd00::2/128,10.9.0.0/16", 0, "25");
            fs.writeFileSync(path.join(dir, "dump"), d.join("\n") + "\n");
            const line = ["hearth_check_wireguard", "wg0", `${dir}/wg0.conf`, `${dir}/wg0.conf`, `${dir}/loader`, `${dir}/loader`, `${dir}/wg0.key`].join(" ");
            const script = renderHostCheck("alpha", [{ resource: "sites-alpha-interface", sudo: false, lines: [line] }]).replace(RUNTIME, () => [
                RUNTIME,
                `ip() { printf '7: wg0: <UP,LOWER_UP> mtu 1420\\n'; }`,
                `wg() { case $1 in show) cat '${dir}/dump' ;; pubkey) command wg pubkey ;; esac; }`,
                // The spec's files live below /tmp, which others can change: a host's live below /etc/wireguard.
                `hearth_check_root_path() { :; }`,
            ].join("\n"));
            fs.writeFileSync(path.join(dir, "wg0.key"), self.privateKey + "\n");
            fs.writeFileSync(path.join(dir, "loader"), "#!/bin/bash\n", { mode: 0o700 });
            fs.chmodSync(path.join(dir, "wg0.conf"), 0o600);
            const r = spawnSync("bash", ["--noprofile", "--norc", "-s"], { input: script, encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            const [rep] = parseCheckOutput(r.stdout);
            assert.equal(rep.error, undefined, r.stderr);
            assert.deepEqual(rep.drift, [{ what: `${tag} endpoint`, desired: "10.231.2.2:51820", found: "10.231.9.9:4444" }]);
            assert.deepEqual(rep.info, [{ what: `${tag} latest handshake`, value: "never" }]);
        });
    });
});
