// The host backend under mocks: what lands on the host (recovered from the script and its stdin), the knotd unit, and late addresses.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { DnsZone, DnsZoneArgs, resolveDnsZoneArgs } from "../../components/dns";
import { serverLayout } from "../../components/dns/knot";
import { zoneRecords } from "../../components/dns/server";
import { Host } from "../../components/host";
import { parseScriptFiles } from "../../components/shell";
import { installMocks, plainStrings, recorded, resetRecorded, resolve, settle, TEST_HOST_KEY } from "../mocks";
import { checkScript, securityScore, verifyUnits } from "../tools";
import { golden, knotConfCheck, kzonecheck } from "./tools";
import { homeZone, zoneFileOf } from "./fixtures";

const host = new Host({ name: "ns", address: "10.0.0.2", privateKey: pulumi.secret("ssh-key-material-1234"), hostKey: TEST_HOST_KEY });
/** Another machine: a zone on it claims nothing on `host`. */
const otherHost = () => new Host({ name: "ns9", address: "10.0.0.9", privateKey: pulumi.secret("ssh-key-material-1234"), hostKey: TEST_HOST_KEY });

function internal(records: DnsZoneArgs["records"]): DnsZoneArgs {
    return { zone: "home.example.org", backend: { kind: "host", host, nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }] }, records };
}

/** The script inside `bash -c '<script>'`, unquoted. */
function unwrap(command: string): string {
    return /^bash --noprofile --norc -c '([\s\S]*)'$/.exec(command)![1].replace(/'"'"'/g, "'");
}

async function landed(name: string) {
    await settle();
    const cmd = recorded.find((r) => r.type === "command:remote:Command" && r.name === `${name}-zone`)!;
    assert.ok(cmd, `no ${name}-zone command`);
    const script = unwrap(cmd.inputs.create);
    return { cmd, script, files: parseScriptFiles(script, cmd.inputs.stdin) };
}

describe("DnsZone host backend", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it("installs knot.conf, the check config and the zone file, all checked by knot's own tools", async () => {
        new DnsZone("home", homeZone());
        const { files, script, cmd } = await landed("home");
        const layout = serverLayout("home.example.org");
        assert.deepEqual(files.map((f) => [f.path, f.mode.toString(8)]), [
            [layout.conf, "644"],
            [layout.checkConf, "644"],
            [`${layout.staged}/home.example.org.zone`, "644"],
        ]);
        golden("knot.conf", files[0].content);
        assert.deepEqual(knotConfCheck(files[0].content), []);
        assert.equal(files[1].content, files[0].content.replace(`storage: "${layout.live}"`, `storage: "${layout.staged}"`));
        const id = `${pulumi.getProject()}/${pulumi.getStack()}/hearth:dns:Zone/home`;
        assert.equal(files[2].content, `; hearth-owner: ${id}\n${zoneFileOf(homeZone()).text}`, "the zone file, marked with its owner");
        assert.match(files[0].content, new RegExp(`^# hearth-owner: ${id.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`, "m"));
        assert.deepEqual(kzonecheck("home.example.org", files[2].content), []);
        assert.deepEqual(checkScript(script), []);
        const lifecycle = recorded.find((r) => r.name === "home-zone-lifecycle")!;
        assert.equal(cmd.inputs.delete, undefined, "the delete lives on the lifecycle command only");
        assert.equal(cmd.inputs.triggers, undefined, "no triggers: a replacement would run the old delete after the new create");
        assert.equal(lifecycle.inputs.create, undefined, "the lifecycle command runs nothing until the zone is deleted");
        const del = unwrap(lifecycle.inputs.delete);
        assert.match(del, /^hearth_zdir=\/etc\/hearth\/dns\/home\.example\.org$/m);
        assert.match(del, new RegExp(`^hearth_owner=${id.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`, "m"));
        assert.match(del, /if ! hearth_mine "\$hearth_found"; then/, "a delete touches only its own zone");
        assert.deepEqual(checkScript(del), []);
        assert.equal(cmd.inputs.update, cmd.inputs.create);
        assert.ok(!plainStrings(cmd.rawInputs).some((v) => v.includes("ssh-key-material")), "the SSH key only as a secret");
        assert.ok(recorded.every((r) => !plainStrings(r.rawInputs).some((v) => v.includes("ssh-key-material"))), "in no resource's plain inputs");
    });

    it("runs knotd as a hardened SystemdService: dynamic user, only CAP_NET_BIND_SERVICE, site-local clients for an internal zone", async () => {
        new DnsZone("home", homeZone());
        await settle();
        const svc = recorded.find((r) => r.type === "hearth:systemd:Service" && r.name === "home-knot")!;
        assert.ok(svc);
        const unit: string = svc.inputs.unitText;
        assert.match(unit, /^ExecStart=\/usr\/sbin\/knotd -c \/etc\/hearth\/dns\/home\.example\.org\/knot\.conf$/m);
        assert.match(unit, /^DynamicUser=yes$/m);
        assert.match(unit, /^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
        assert.match(unit, /^IPAddressDeny=any$/m);
        assert.match(unit, /^StateDirectory=hearth-dns-home-example-org$/m);
        assert.deepEqual(verifyUnits({ [svc.inputs.unitName]: unit }), []);
        const { exposure } = securityScore(svc.inputs.unitName, unit);
        console.log(`      knotd unit exposure (systemd-analyze security --offline): ${exposure}`);
        assert.ok(exposure <= 2.5, `exposure ${exposure}`);
    });

    it("lets a public host zone answer anyone", async () => {
        new DnsZone("pubns", { ...internal([{ name: "www", type: "A", value: "203.0.113.9" }]), public: true, backend: { kind: "host", host: otherHost(), nameservers: [{ name: "ns1", addresses: ["203.0.113.53"] }] } });
        await settle();
        const unit: string = recorded.find((r) => r.name === "pubns-knot")!.inputs.unitText;
        assert.doesNotMatch(unit, /^IPAddressDeny=/m);
    });

    it("renders records of a service whose addresses are Outputs once they resolve", async () => {
        const addresses = pulumi.output(["10.0.0.5", "fd00:0::5"]);
        const z = new DnsZone("home", internal([{ service: { hostname: "git.home.example.org", addresses } }]));
        const { files } = await landed("home");
        const zone = files.find((f) => f.path.endsWith(".zone"))!.content;
        assert.match(zone, /^git\t300\tIN\tA\t10\.0\.0\.5$/m);
        assert.match(zone, /^git\t300\tIN\tAAAA\tfd00::5$/m);
        assert.deepEqual(await resolve(z.fqdns), ["git.home.example.org", "ns1.home.example.org"]);
    });

    it("refuses a late address that breaks the zone, naming where it came from", async () => {
        const z = resolveDnsZoneArgs(internal([{ name: "git", type: "CNAME", value: "code.example.net" }, { name: "git2", service: { hostname: "git2", addresses: pulumi.output(["10.0.0.300"]) } }]));
        await assert.rejects((zoneRecords(z) as any).promise(), /The 'records\[1\]\.service\.addresses\[0\]' argument "10\.0\.0\.300"/);
        const clash = resolveDnsZoneArgs(internal([{ name: "nas", type: "A", value: "10.0.0.9" }, { name: "nas", service: { hostname: "x", addresses: pulumi.output(["10.0.0.9"]) } }]));
        await assert.rejects((zoneRecords(clash) as any).promise(), /'records\[1\]\.service\.addresses\[0\]'.*not already given by records\[0\]/);
    });

    it("outputs its name servers and the delegation a parent zone needs", async () => {
        const z = new DnsZone("home", homeZone());
        assert.deepEqual(await resolve(z.nameservers), ["ns1.home.example.org", "ns.example.net"]);
        assert.deepEqual(z.delegation, {
            zone: "home.example.org",
            nameservers: [{ name: "ns1.home.example.org", addresses: ["10.0.0.2", "fd00::2"] }, { name: "ns.example.net" }],
        });
        resetRecorded();
        // On another machine: one host runs one knotd per port (each zone's unit declares port 53 on every address).
        new DnsZone("parent", {
            zone: "example.org",
            backend: { kind: "host", host: otherHost(), nameservers: [{ name: "ns", addresses: ["10.0.0.1"] }] },
            delegations: [z.delegation!],
        });
        const { files } = await landed("parent");
        const zone = files.find((f) => f.path.endsWith(".zone"))!.content;
        assert.match(zone, /^home\t300\tIN\tNS\tns1\.home\.example\.org\.$/m);
        assert.match(zone, /^home\t300\tIN\tNS\tns\.example\.net\.$/m);
        assert.match(zone, /^ns1\.home\t300\tIN\tA\t10\.0\.0\.2$/m);
        assert.match(zone, /^ns1\.home\t300\tIN\tAAAA\tfd00::2$/m);
        assert.deepEqual(kzonecheck("example.org", zone), []);
    });

    it("refuses, before anything registers, a second zone resource serving the same zone on a host", async () => {
        const h = otherHost();
        new DnsZone("first", { ...internal([]), backend: { kind: "host", host: h, nameservers: [{ name: "ns1", addresses: ["10.0.0.9"] }] } });
        await settle();
        const before = recorded.length;
        assert.throws(
            () => new DnsZone("second", { ...internal([]), backend: { kind: "host", host: h, nameservers: [{ name: "ns1", addresses: ["10.0.0.9"] }] } }),
            (e: unknown) => e instanceof pulumi.ResourceError && /'zone' argument "home\.example\.org".*dns zone home\.example\.org is already managed by .*\/first/.test((e as Error).message),
        );
        await settle();
        assert.equal(recorded.length, before, "nothing registered for the second zone");
    });

    it("adopt is refused on a cloud backend and must be a boolean", () => {
        assert.throws(() => new DnsZone("c", { zone: "example.org", backend: { kind: "cloudflare", zoneId: "0123456789abcdef0123456789abcdef" }, adopt: true }), /'adopt' argument true.*only with backend kind 'host'/);
        assert.throws(() => new DnsZone("h", { ...internal([]), adopt: "yes" as any }), /'adopt' argument "yes".*true or false/);
    });

    it("renders the same command for the same zone, so an unchanged zone runs nothing", async () => {
        new DnsZone("home", homeZone());
        const a = await landed("home");
        resetRecorded();
        new DnsZone("home", homeZone([...(homeZone().records ?? [])].reverse()));
        const b = await landed("home");
        assert.equal(b.cmd.inputs.stdin, a.cmd.inputs.stdin);
        assert.equal(b.cmd.inputs.create, a.cmd.inputs.create);
    });
});
