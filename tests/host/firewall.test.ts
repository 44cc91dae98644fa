// HostFirewall on three real hosts (each its own network namespace, so its own netfilter): the ruleset derived from the
// listener registry opens a declared port to the networks its scope allows and to no others; a listener started by
// hand is unreachable; a service removed from the program has its port closed; a ruleset that drops hearth's own SSH
// is rolled back by its guard and the up fails saying so; crash points over the converge.
// Traffic stays in the test range: the peers are test hosts this spec started (10.231.<index>.2); the runner reaches
// the firewalled host from its veth end (10.231.<index>.1).
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as net from "net";
import { HostFirewall } from "../../components/firewall";
import { SystemdService } from "../../components/systemd";
import { describeHost, startHost, TestHost } from "./harness";
import { crashPoints, mustExec } from "./crash";
import { ProgramRunner, registeredCommands, RemoteCommandError } from "./runner";

describeHost("HostFirewall on real hosts", function () {
    this.timeout(600_000);
    let fw: TestHost, lan: TestHost, other: TestHost;
    const runner = new ProgramRunner();
    before(async () => {
        [fw, lan, other] = await Promise.all([startHost({ name: "fw" }), startHost({ name: "fwlan" }), startHost({ name: "fwother" })]);
    });
    after(async () => {
        await Promise.all([fw?.stop(), lan?.stop(), other?.stop()]);
    });

    /** The runner's address as the firewalled host sees it: the veth end of its /24. */
    const runnerNet = () => `${fw.address.replace(/\.2$/, ".1")}/32`;
    const lanNet = () => `${lan.address.replace(/\.2$/, ".0")}/24`;
    const server = (name: string, network: "local" | "internet", port: number) =>
        new SystemdService(name, { host: fw.host, description: `test listener ${name}`, network, listenPorts: [port], execStart: ["/usr/bin/python3", "-m", "http.server", "--bind", "::", String(port)] });
    const program = (o: { lanService?: boolean; admin?: string[]; local?: string[]; confirmSeconds?: number } = {}) => () => {
        server("web", "internet", 8080);
        if (o.lanService ?? true) server("cal", "local", 8081);
        new HostFirewall("fw", { host: fw.host, adminNetworks: o.admin ?? [runnerNet()], networks: { local: o.local ?? [lanNet()] }, confirmSeconds: o.confirmSeconds ?? 30 });
    };
    /** Whether `from` opens a TCP connection to the firewalled host's `port` within 3 seconds. */
    async function reaches(from: TestHost, port: number): Promise<boolean> {
        const r = await from.exec(`timeout 3 bash -c 'exec 3<>/dev/tcp/${fw.address}/${port}' 2>/dev/null && echo open || echo closed`);
        return r.stdout.trim() === "open";
    }
    const liveHash = async () => (await mustExec(fw, "nft list table inet hearth | sha256sum")).trim();

    it("opens each declared port to the networks its scope allows and to no others; a listener started by hand stays unreachable", async () => {
        const first = await runner.up(program());
        assert.ok(first.runs.some((r) => r.resource === "fw-confirm" && /confirmed by a fresh SSH connection/.test(r.stdout)), first.runs.map((r) => `${r.resource}: ${r.stdout}${r.stderr}`).join("\n"));
        await mustExec(fw, "systemd-run --unit=hand-listener /usr/bin/python3 -m http.server --bind 0.0.0.0 9999 && sleep 1");
        assert.deepEqual(
            [await reaches(lan, 8080), await reaches(lan, 8081), await reaches(other, 8080), await reaches(other, 8081), await reaches(lan, 9999), await reaches(other, 22)],
            [true, true, true, false, false, false],
            "lan->web, lan->cal, other->web, other->cal, lan->hand-started, other->ssh",
        );
        assert.equal((await fw.exec("ss -ltn | grep -c ':9999 '")).stdout.trim(), "1", "the hand-started listener listens");
        assert.equal((await mustExec(fw, "systemctl is-enabled hearth-firewall.service")).trim(), "enabled");
        assert.equal((await mustExec(fw, "sha256sum < /etc/hearth/firewall.nft")).split(" ")[0], (await mustExec(fw, "sha256sum < /var/lib/hearth/firewall/desired.nft")).split(" ")[0]);
        const again = await runner.up(program());
        assert.equal(again.runs.length, 0, "an unchanged program runs nothing");
        // What a boot does: the boot unit, in its sandbox, loads the confirmed ruleset into an empty netfilter.
        const live = await liveHash();
        await mustExec(fw, "nft delete table inet hearth && systemctl restart hearth-firewall.service");
        assert.equal(await liveHash(), live, "the boot unit loads the same table");
    });

    it("a late confirm of an earlier ruleset neither confirms nor disarms a newer one: the newer one is rolled back at its deadline", async () => {
        await runner.up(program());
        const good = await liveHash();
        const a = await registeredCommands(program());
        const b = await registeredCommands(program({ admin: [lanNet()], confirmSeconds: 10 }));
        const get = (cmds: typeof a, name: string) => cmds.find((c) => c.name === name)!.inputs;
        // B's converge: its ruleset drops new SSH connections from the runner; fw.exec rides a connection made before.
        const conv = await fw.exec(get(b, "fw-ruleset").create, { stdin: get(b, "fw-ruleset").stdin });
        assert.equal(conv.code, 0, conv.stderr);
        assert.notEqual(await liveHash(), good);
        // A's confirm, run again over that old connection while B waits for its own.
        const late = await fw.exec(get(a, "fw-confirm").create);
        assert.notEqual(late.code, 0, late.stdout);
        assert.match(late.stderr, /this confirm is of ruleset [0-9a-f]{12}, but a later apply waits for its own confirm \(guard firewall: the pending change is [0-9a-f]{64} /);
        assert.equal((await mustExec(fw, "cat /run/hearth/guard/firewall/pending | wc -l")).trim(), "1", "B's pending record is gone");
        await new Promise((r) => setTimeout(r, 12_000));
        assert.equal(await liveHash(), good, "B was not rolled back");
        assert.match((await fw.exec(get(b, "fw-confirm").create)).stderr, /was rolled back: no fresh SSH connection confirmed it/);
    });

    it("closes the port of a service removed from the program", async () => {
        await runner.up(program({ lanService: false }));
        await mustExec(fw, "systemd-run --unit=hand-8081 /usr/bin/python3 -m http.server --bind 0.0.0.0 8081 && sleep 1");
        assert.equal(await reaches(lan, 8081), false);
        assert.equal(await reaches(lan, 8080), true);
        await fw.exec("systemctl stop hand-8081 hand-listener");
    });

    it("a ruleset that drops hearth's own SSH is rolled back within its window; the up fails and the next up says so", async () => {
        await runner.up(program({ lanService: false }));
        const good = await liveHash();
        // adminNetworks without the runner's address: the new ruleset drops its next connection.
        const bad = program({ lanService: false, admin: [lanNet()], confirmSeconds: 10 });
        // The confirm's dials (retried as the provider retries them) fail until the guard restores the previous
        // table; then it connects, finds the guard fired, and fails the up saying so.
        const rolledBack = (e: unknown) => {
            assert.ok(e instanceof RemoteCommandError, String(e));
            assert.match(e.message, /fw-confirm/);
            assert.match(e.message, /the ruleset [0-9a-f]{12} was rolled back: no fresh SSH connection confirmed it within its window/);
            return true;
        };
        const t0 = Date.now();
        await assert.rejects(runner.up(bad), rolledBack);
        assert.ok(Date.now() - t0 >= 10_000, "not before the window ended");
        assert.equal(await liveHash(), good, "the previous table is back");
        await assert.rejects(runner.up(bad), (e: unknown) => {
            assert.ok(e instanceof RemoteCommandError, String(e));
            assert.match(e.message, /the ruleset [0-9a-f]{12} was rolled back: no fresh SSH connection confirmed it within its window \(guard firewall fired at .* UTC/);
            assert.match(e.message, /raise the host's reapply counter/);
            return true;
        });
        assert.equal(await reaches(lan, 8080), true);
        // Back to the good program: its converge finds the live table confirmed for its content (the rollback restored
        // it) and changes nothing but the fired guard's record; the confirm's stored inputs are the good program's.
        const back = await runner.up(program({ lanService: false }));
        assert.deepEqual(back.runs.map((r) => r.resource), ["fw-ruleset"]);
        assert.match(back.runs[0].stdout, /table inet hearth is the confirmed ruleset/);
        assert.equal(await liveHash(), good);
        assert.equal((await fw.exec("test -e /run/hearth/guard/firewall/fired || test -e /run/hearth/guard/firewall/pending; echo $?")).stdout.trim(), "1");
    });

    it("the converge killed after any step finishes on the re-run", async () => {
        const cmds = runner.resources;
        const conv = cmds.find((c) => c.name === "fw-ruleset")!;
        const del = cmds.find((c) => c.name === "fw-ruleset-lifecycle")!;
        const report = await crashPoints(fw, {
            name: "firewall",
            reset: async () => {
                const r = await fw.exec(del.inputs.delete);
                assert.equal(r.code, 0, r.stderr);
            },
            run: { command: conv.inputs.create, stdin: conv.inputs.stdin },
            fingerprint: async () => {
                const r = await fw.exec(
                    "nft list table inet hearth | sha256sum; systemctl is-enabled hearth-firewall.service; sha256sum < /var/lib/hearth/firewall/desired.nft; cat /run/hearth/guard/firewall/pending | cut -d' ' -f1 --complement | wc -w; cat /var/lib/hearth/applied/firewall/pending; cat /var/lib/hearth/guard/firewall/previous.nft | sha256sum",
                );
                return r.stdout;
            },
        });
        assert.ok(report.points >= 8, `only ${report.points} kill points`);
        // Confirm the last run's apply (a fresh connection), so the host ends converged.
        const confirm = cmds.find((c) => c.name === "fw-confirm")!;
        const r = await fw.exec(confirm.inputs.create);
        assert.equal(r.code, 0, r.stderr);
    });

    // IPv6, with the build machine's end of the veth as the peer: a ULA /64 on this one link only (the harness turns
    // IPv6 off on every veth; this spec turns it on for the firewalled host's, behind a blackhole for the whole range).
    // fd23:231:<index>::1 is inside the local network (::/120), ::200 outside it.
    it("holds for IPv6: each port by its scope, SSH from the admin networks only, a hand-started listener closed", async () => {
        const prefix = `fd23:231:${fw.address.split(".")[2]}:`;
        const inside = `${prefix}:1`;
        const outside = `${prefix}:200`;
        const target = `${prefix}:2`;
        const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: "pipe" });
        const hasBlackhole = execFileSync("ip", ["-6", "route", "show", "fd23:231::/48"], { encoding: "utf8" }).includes("blackhole");
        if (!hasBlackhole) sh("ip", ["-6", "route", "add", "blackhole", "fd23:231::/48"]);
        try {
            sh("sysctl", ["-q", "-w", `net.ipv6.conf.${fw.veth}.disable_ipv6=0`]);
            for (const a of [inside, outside]) sh("ip", ["-6", "addr", "replace", `${a}/64`, "dev", fw.veth, "nodad"]);
            await mustExec(fw, `ip -6 addr replace ${target}/64 dev host0 nodad`);
            await runner.up(program({ admin: [runnerNet(), `${inside}/128`], local: [lanNet(), `${prefix}:/120`] }));
            await mustExec(fw, "systemd-run --unit=hand-v6 /usr/bin/python3 -m http.server --bind :: 9998 && sleep 1");
            const reach6 = (from: string, port: number) =>
                new Promise<boolean>((done) => {
                    const c = net.connect({ host: target, port, localAddress: from, family: 6, timeout: 3000 });
                    c.once("connect", () => (c.destroy(), done(true)));
                    c.once("timeout", () => (c.destroy(), done(false)));
                    c.once("error", () => done(false));
                });
            const got = [];
            for (const [from, port] of [[inside, 8080], [inside, 8081], [inside, 22], [inside, 9998], [outside, 8080], [outside, 8081], [outside, 22], [outside, 9998]] as const) got.push(await reach6(from, port));
            assert.deepEqual(got, [true, true, true, false, true, false, false, false], "inside: web, cal, ssh, hand; outside: web, cal, ssh, hand");
            assert.match(await mustExec(fw, "nft list table inet hearth"), new RegExp(`ip6 saddr ${prefix.replace(/:/g, ":")}:/120 tcp dport 8081 accept`));
        } finally {
            await fw.exec("systemctl stop hand-v6");
            sh("sysctl", ["-q", "-w", `net.ipv6.conf.${fw.veth}.disable_ipv6=1`]);
            if (!hasBlackhole) sh("ip", ["-6", "route", "del", "blackhole", "fd23:231::/48"]);
        }
    });
});
