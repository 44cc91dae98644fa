// DnsZone on real hosts: an internal zone served by knotd on one host, delegated from a parent zone on another, queried with dig.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { DnsRecordArgs, DnsZone } from "../../components/dns";
import { Host } from "../../components/host";
import { serverLayout } from "../../components/dns/knot";
import { dig, DigAnswer, rdata } from "../dns/tools";
import { describeHost, startHost, TestHost } from "./harness";
import { ProgramRunner, registeredCommands } from "./runner";

const CHILD = "home.hearth.test";
const PARENT = "hearth.test";

describeHost("DnsZone on test hosts", function () {
    this.timeout(600_000);
    let child: TestHost;
    let parent: TestHost;
    const runner = new ProgramRunner();

    before(async () => {
        [child, parent] = await Promise.all([startHost({ name: "dnschild" }), startHost({ name: "dnsparent" })]);
    });
    after(async () => {
        await child?.stop();
        await parent?.stop();
    });

    const childRecords = (extra: DnsRecordArgs[] = []): DnsRecordArgs[] => [
        { name: "www", type: "A", value: "10.231.99.80" },
        { name: "@", type: "MX", priority: 10, exchange: `mail.${CHILD}` },
        { name: "mail", type: "AAAA", value: "fd00:231::25" },
        { name: "@", type: "TXT", value: "hearth internal zone" },
        { name: "_imaps._tcp", type: "SRV", priority: 0, weight: 1, port: 993, target: `mail.${CHILD}` },
        { name: "docs", type: "CNAME", value: `www.${CHILD}` },
        // Addresses that only resolve later, as a service's would.
        { service: { hostname: "git", addresses: pulumi.output(["10.231.99.22", "fd00:231::22"]) } },
        ...extra,
    ];

    /** Both zones, as one program: the child's delegation feeds the parent's. */
    const program = (extra: DnsRecordArgs[] = [], port = 53) => () => {
        const home = new DnsZone("home", {
            zone: CHILD,
            backend: { kind: "host", host: child.host, nameservers: [{ name: "ns1", addresses: [child.address] }], port },
            records: childRecords(extra),
        });
        new DnsZone("top", {
            zone: PARENT,
            backend: { kind: "host", host: parent.host, nameservers: [{ name: "ns1", addresses: [parent.address] }] },
            records: [{ name: "www", type: "A", value: "10.231.99.81" }],
            delegations: [home.delegation!],
        });
    };

    /** Polls until the server answers (knotd started by its unit a moment ago on a first deploy). */
    async function answered(server: string, name: string, type: string): Promise<DigAnswer> {
        let last: DigAnswer | undefined;
        for (let i = 0; i < 50; i++) {
            last = dig(server, 53, name, type);
            if (last.status === "NOERROR" || last.status === "NXDOMAIN") return last;
            await new Promise((r) => setTimeout(r, 200));
        }
        return last!;
    }

    /** Resolves like a resolver does from the parent: follow the referral's glue to the child and ask there. */
    function resolveThrough(name: string, type: string): { referral: DigAnswer; answer: DigAnswer; via: string } {
        const referral = dig(parent.address, 53, name, type);
        const glue = referral.additional.map((l) => l.split(" ")).find((f) => f[3] === "A");
        assert.ok(glue, `no glue in the referral: ${JSON.stringify(referral)}`);
        return { referral, answer: dig(glue[4], 53, name, type), via: glue[4] };
    }

    it("first up: installs both zones and starts knotd under their SystemdServices", async () => {
        const r = await runner.up(program());
        assert.deepEqual(r.created.sort(), ["home-knot-converge", "home-knot-converge-lifecycle", "home-zone", "home-zone-lifecycle", "top-knot-converge", "top-knot-converge-lifecycle", "top-zone", "top-zone-lifecycle"]);
        // The unit comes first; the zone command then starts knotd and returns only once the zone is served.
        const zoneRun = r.runs.find((x) => x.resource === "home-zone")!;
        assert.match(zoneRun.stdout, /home\.hearth\.test served with serial \d+/);
        assert.ok(r.runs.findIndex((x) => x.resource === "home-knot-converge") < r.runs.indexOf(zoneRun));
        const ans = await answered(child.address, `www.${CHILD}`, "A");
        assert.equal(ans.status, "NOERROR", JSON.stringify(ans));
    });

    it("the child host answers its records authoritatively (dig against it)", async () => {
        const q = (n: string, t: string) => dig(child.address, 53, n, t);
        const www = q(`www.${CHILD}`, "A");
        assert.match(www.flags, /\baa\b/);
        assert.deepEqual(rdata(www.answer), ["10.231.99.80"]);
        assert.deepEqual(rdata(q(`git.${CHILD}`, "A").answer), ["10.231.99.22"]);
        assert.deepEqual(rdata(q(`git.${CHILD}`, "AAAA").answer), ["fd00:231::22"]);
        assert.deepEqual(rdata(q(CHILD, "MX").answer), [`10 mail.${CHILD}.`]);
        assert.deepEqual(rdata(q(CHILD, "TXT").answer), ['"hearth internal zone"']);
        assert.deepEqual(rdata(q(`_imaps._tcp.${CHILD}`, "SRV").answer), [`0 1 993 mail.${CHILD}.`]);
        assert.deepEqual(rdata(q(`docs.${CHILD}`, "A").answer), ["10.231.99.80", `www.${CHILD}.`]);
        assert.deepEqual(rdata(q(CHILD, "NS").answer), [`ns1.${CHILD}.`]);
        assert.equal(q(`nothing.${CHILD}`, "A").status, "NXDOMAIN");
        assert.equal(q("example.com", "A").status, "REFUSED");
    });

    it("the parent delegates to the child with glue, and the delegation resolves through to the child's answer", async () => {
        const { referral, answer, via } = resolveThrough(`git.${CHILD}`, "A");
        assert.equal(referral.status, "NOERROR");
        assert.doesNotMatch(referral.flags, /\baa\b/, "a referral is not authoritative");
        assert.deepEqual(rdata(referral.authority), [`ns1.${CHILD}.`]);
        assert.equal(via, child.address);
        assert.match(answer.flags, /\baa\b/);
        assert.deepEqual(rdata(answer.answer), ["10.231.99.22"]);
        assert.deepEqual(rdata(dig(parent.address, 53, `www.${PARENT}`, "A").answer), ["10.231.99.81"]);
    });

    it("runs knotd as a dynamic user holding only CAP_NET_BIND_SERVICE", async () => {
        const unit = serverLayout(CHILD).unit;
        const r = await child.exec(`systemctl is-active ${unit}; pid=$(systemctl show -p MainPID --value ${unit}); ps -o user= -p "$pid"; grep -E '^Cap(Eff|Bnd):' /proc/$pid/status`);
        const [active, user, capEff, capBnd] = r.stdout.trim().split("\n");
        assert.equal(active, "active");
        assert.notEqual(user.trim(), "root");
        // CAP_NET_BIND_SERVICE is bit 10: 0x400.
        assert.match(capEff, /CapEff:\s+0000000000000400$/);
        assert.match(capBnd, /CapBnd:\s+0000000000000400$/);
        // The sandbox costs the running knotd nothing it needs: no error or warning in its log. (On a first deploy
        // the unit starts before its config exists and that first attempt fails by design; it is not this run.)
        const log = await child.exec(`journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=$(systemctl show -p InvocationID --value ${unit})`);
        assert.match(log.stdout, /loaded, serial none -> \d+/);
        assert.doesNotMatch(log.stdout, /\b(error|warning):/, log.stdout);
    });

    it("a no-op up runs nothing; a record change updates only the zone and is served when up returns", async () => {
        const noop = await runner.up(program());
        assert.equal(noop.runs.length, 0, `ran: ${noop.runs.map((x) => x.resource).join(", ")}`);
        const changed = await runner.up(program([{ name: "new", type: "A", value: "10.231.99.90" }]));
        assert.deepEqual(changed.updated, ["home-zone"]);
        assert.equal(changed.runs.length, 1);
        assert.match(changed.runs[0].stdout, /home\.hearth\.test served with serial \d+/);
        assert.deepEqual(rdata(resolveThrough(`new.${CHILD}`, "A").answer.answer), ["10.231.99.90"]);
    });

    it("a zone knot refuses never goes live, and the next run converges", async () => {
        const zoneCmd = runner.resources.find((c) => c.name === "home-zone")!;
        // A zone file knot rejects (a CNAME beside other data), sent as the converge script's stdin would carry it.
        const stdin: string = zoneCmd.inputs.stdin;
        const bad = stdin.replace(/^www\t300\tIN\tA\t10\.231\.99\.80$/m, "www\t300\tIN\tCNAME\tdocs.hearth.test.\nwww\t300\tIN\tA\t10.231.99.80");
        assert.notEqual(bad, stdin);
        const framed = reframe(bad);
        const r = await child.exec(zoneCmd.inputs.create, { stdin: framed });
        assert.equal(r.code, 65, r.stdout + r.stderr);
        assert.match(r.stderr, /knot refused the zone home\.hearth\.test; the served zone is unchanged/);
        assert.deepEqual(rdata(dig(child.address, 53, `new.${CHILD}`, "A").answer), ["10.231.99.90"], "still the last good zone");
        const again = await runner.rerunCreate();
        assert.ok(again.every((x) => x.code === 0));
        assert.equal(dig(child.address, 53, `www.${CHILD}`, "A").status, "NOERROR");
    });

    it("a config written by a run that failed before the restart is applied by the next run", async () => {
        const layout = serverLayout(CHILD);
        const invocation = async () => (await child.exec(`systemctl show -p InvocationID --value ${layout.unit}`)).stdout.trim();
        const before = await invocation();
        // What a run cut between writing knot.conf and restarting knotd leaves: knotd running an older config, so the
        // digest recorded after the last restart is not the installed config's.
        const applied = `/var/lib/hearth/applied/knot/${CHILD}`;
        await child.exec(`echo an-older-config > ${applied}`);
        const again = await runner.rerunCreate();
        assert.ok(again.every((x) => x.code === 0));
        const restarted = await invocation();
        assert.notEqual(restarted, before, "knotd was restarted onto the written config");
        assert.notEqual((await child.exec(`cat ${applied}`)).stdout.trim(), "an-older-config", "the restart was recorded");
        const again2 = await runner.rerunCreate();
        assert.ok(again2.every((x) => x.code === 0));
        assert.equal(await invocation(), restarted, "a re-run on the converged host restarts nothing");
        assert.deepEqual(rdata(dig(child.address, 53, `new.${CHILD}`, "A").answer), ["10.231.99.90"]);
    });

    it("a port change rewrites the config and the unit in one up, and knotd answers on the new port only", async () => {
        const extra: DnsRecordArgs[] = [{ name: "new", type: "A", value: "10.231.99.90" }];
        const moved = await runner.up(program(extra, 5353));
        assert.deepEqual(moved.updated.sort(), ["home-knot-converge", "home-zone"]);
        const log = async () => (await child.exec(`journalctl -u ${serverLayout(CHILD).unit} -n 30 --no-pager -o cat; systemctl cat ${serverLayout(CHILD).unit} | grep -i socketbind`)).stdout;
        assert.deepEqual(rdata(dig(child.address, 5353, `new.${CHILD}`, "A").answer), ["10.231.99.90"], await log());
        assert.match(dig(child.address, 53, `new.${CHILD}`, "A").status, /no answer/);
        const back = await runner.up(program(extra));
        assert.deepEqual(back.updated.sort(), ["home-knot-converge", "home-zone"]);
        assert.deepEqual(rdata(dig(child.address, 53, `new.${CHILD}`, "A").answer), ["10.231.99.90"]);
    });

    it("another resource serving the same zone is refused, touching nothing; its delete leaves the zone alone", async () => {
        const layout = serverLayout(CHILD);
        // Within one program the second claimant is refused before anything registers.
        await assert.rejects(registeredCommands(() => {
            program()();
            new DnsZone("intruder", { zone: CHILD, backend: { kind: "host", host: child.host, nameservers: [{ name: "ns1", addresses: [child.address] }] } });
        }), /The 'zone' argument "home\.hearth\.test" is not allowed: .*dns zone home\.hearth\.test is already managed by .*\/home/);
        // Another stack's program (its own Host object): the host's mark refuses it.
        const elsewhere = new Host({ name: child.name, address: child.address, privateKey: pulumi.secret(child.privateKey), hostKey: child.hostKey });
        const other = await registeredCommands(() => new DnsZone("intruder", {
            zone: CHILD,
            backend: { kind: "host", host: elsewhere, nameservers: [{ name: "ns1", addresses: [child.address] }] },
            records: [{ name: "www", type: "A", value: "10.231.99.66" }],
        }));
        const conv = other.find((c) => c.name === "intruder-zone")!.inputs;
        const del = other.find((c) => c.name === "intruder-zone-lifecycle")!.inputs;
        const facts = async () => (await child.exec(`sha256sum ${layout.conf} ${layout.live}/${CHILD}.zone; cat /var/lib/hearth/applied/knot/${CHILD}`)).stdout;
        const before = await facts();
        const r = await child.exec(conv.create, { stdin: conv.stdin });
        assert.equal(r.code, 65, r.stdout + r.stderr);
        assert.match(r.stderr, /is owned by another resource \(.*\/home\), not by .*\/intruder.*aliases.*adopt: true/);
        const d = await child.exec(del.delete);
        assert.equal(d.code, 0, d.stderr);
        assert.match(d.stdout, /leaving the zone home\.hearth\.test alone: it is owned by .*\/home/);
        assert.equal(await facts(), before, "nothing of the zone changed");
        assert.deepEqual(rdata(dig(child.address, 53, `www.${CHILD}`, "A").answer), ["10.231.99.80"]);
    });

    it("destroy stops the servers and removes their files", async () => {
        const r = await runner.destroy();
        assert.deepEqual(r.deleted.sort(), ["home-knot-converge", "home-knot-converge-lifecycle", "home-zone", "home-zone-lifecycle", "top-knot-converge", "top-knot-converge-lifecycle", "top-zone", "top-zone-lifecycle"]);
        const layout = serverLayout(CHILD);
        const left = await child.exec(`systemctl is-active ${layout.unit}; test -e ${layout.dir} && echo files-left || echo files-gone`);
        assert.match(left.stdout, /^(inactive|unknown)\nfiles-gone\n$/);
    });
});

/** Re-frames a stdin whose frame bodies were edited: `<len>\n<body>` per frame, lengths recomputed. */
function reframe(edited: string): string {
    // The zone file is the third frame; the edit only changes its body, so split on the known frame headers.
    const frames: string[] = [];
    let rest = edited;
    for (let i = 0; i < 3; i++) {
        const nl = rest.indexOf("\n");
        const len = Number(rest.slice(0, nl));
        const body = i === 2 ? rest.slice(nl + 1) : rest.slice(nl + 1, nl + 1 + len);
        frames.push(body);
        rest = rest.slice(nl + 1 + body.length);
    }
    return frames.map((b) => `${Buffer.byteLength(b)}\n${b}`).join("");
}

