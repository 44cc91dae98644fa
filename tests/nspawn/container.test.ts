// NspawnContainer under mocks: one converge command, the ZFS clone as a child dataset, the container as a Host others target, hostile inputs.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { NspawnContainer, NspawnContainerArgs } from "../../components/nspawn";
import { SystemdService } from "../../components/systemd";
import { parseScriptFiles } from "../../components/shell";
import { installMocks, isSecretValue, plainStrings, recorded, resetRecorded, resolve, setCommandStdout, settle, TEST_HOST_KEY } from "../mocks";
import { checkScript } from "../tools";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+qnnike2m5POlPYFnbDLTNtnYYVDkPmTOStlmpVbyN ops@example";
const HOSTKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDbCWF202/kce4QiluiXIhRGJ/YxgtoebzeBse/KYQWV";
const secretKey = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const box = (zfs = false) => new Host({ name: "box", address: "10.231.1.2", privateKey: secretKey(), hostKey: TEST_HOST_KEY, facts: { zfs } });

function args(over: Partial<NspawnContainerArgs> = {}): NspawnContainerArgs {
    return {
        host: box(),
        rootfs: { copyFrom: "/var/lib/machines/.base" },
        network: { bridge: "br-ct" },
        addresses: ["10.231.40.2/24"],
        ssh: { authorizedKey: KEY, privateKey: secretKey() },
        ...over,
    };
}

const waitRegistrations = () => new Promise((r) => setTimeout(r, 150));

describe("NspawnContainer", () => {
    before(() => installMocks());
    beforeEach(() => {
        resetRecorded();
        setCommandStdout((name) => (name.endsWith("-container") ? `hearth: container web running 640 ms after systemctl start\nhearth-nspawn-hostkey: ${HOSTKEY}\n` : ""));
    });
    after(() => setCommandStdout());

    it("converges with one command whose files are the rendered ones, and becomes a Host with its own pinned key", async () => {
        const ct = new NspawnContainer("web", args({ capabilities: [{ name: "CAP_NET_ADMIN", reason: "manages its own tunnel" }] }));
        assert.equal(await resolve(ct.hostKey), HOSTKEY);
        await waitRegistrations();
        const cmds = recorded.filter((r) => r.type === "command:remote:Command");
        assert.deepEqual(cmds.map((c) => c.name), ["web-container", "web-container-lifecycle"]);
        assert.equal(cmds[0].inputs.triggers, undefined, "no triggers: a change updates in place, never replaces");
        assert.equal(cmds[0].inputs.delete, undefined, "the delete lives on the lifecycle command only");
        const files = parseScriptFiles(cmds[0].inputs.create, cmds[0].inputs.stdin);
        assert.equal(files[0].path, "/etc/systemd/nspawn/web.nspawn");
        assert.match(files[0].content, /^Capability=CAP_NET_ADMIN$/m);
        assert.deepEqual(checkScript(cmds[0].inputs.create), []);
        assert.deepEqual(checkScript(cmds[1].inputs.delete), []);
        assert.doesNotMatch(cmds[1].inputs.delete, /rm -rf --one-file-system/, "a copied rootfs is kept on delete unless destroyOnDelete");
        assert.equal(ct.host.name, "web");
        assert.equal(await resolve(ct.host.connection.host as pulumi.Input<string>), "10.231.40.2");
        assert.equal(await resolve(ct.host.connection.hostKey as pulumi.Input<string>), HOSTKEY);
        assert.equal(await pulumi.isSecret(pulumi.output(ct.host.connection.privateKey)), true);
        assert.equal(recorded.find((r) => r.type === "hearth:nspawn:Container")?.name, "web");
    });

    it("is a Host other components target: a SystemdService inside it connects to the container", async () => {
        const ct = new NspawnContainer("web", args());
        new SystemdService("hello", { host: ct.host, description: "Sleeps inside the container", execStart: ["/bin/sleep", "infinity"] });
        await waitRegistrations();
        const svc = recorded.find((r) => r.type === "command:remote:Command" && r.name.startsWith("hello"));
        assert.ok(svc, "the service registered its command");
        assert.equal(svc!.inputs.connection.host, "10.231.40.2");
        assert.equal(svc!.inputs.connection.hostKey, HOSTKEY);
        assert.ok(!plainStrings(svc!.rawInputs).some((s) => s.includes("PRIVATE KEY")));
    });

    it("clones its rootfs from a ZFS snapshot as a child ZfsDataset mounted where nspawn looks, kept on delete unless destroyOnDelete", async () => {
        new NspawnContainer("web", args({ host: box(true), rootfs: { zfs: { origin: "tank/base@bookworm", dataset: "tank/machines/web" } } }));
        await waitRegistrations();
        const ds = recorded.find((r) => r.type === "hearth:zfs:Dataset");
        assert.ok(ds, "a ZfsDataset child");
        assert.equal(ds!.inputs.origin, "tank/base@bookworm");
        assert.equal(ds!.inputs.destroyOnDelete, false);
        assert.equal(ds!.inputs.properties.mountpoint, "/var/lib/machines/web");
        resetRecorded();
        new NspawnContainer("scratch", args({ host: box(true), destroyOnDelete: true, rootfs: { zfs: { origin: "tank/base@bookworm", dataset: "tank/machines/scratch" } } }));
        await waitRegistrations();
        assert.equal(recorded.find((r) => r.type === "hearth:zfs:Dataset")!.inputs.destroyOnDelete, true);
    });

    it("reaches the container through its host as a jump host when asked", async () => {
        const ct = new NspawnContainer("web", args({ sshViaHost: true }));
        const proxy = await resolve(ct.host.connection.proxy as any) as any;
        assert.equal(proxy.host, "10.231.1.2");
        assert.equal(proxy.hostKey, TEST_HOST_KEY);
        await waitRegistrations();
    });

    it("keeps the SSH private key out of plain inputs", async () => {
        new NspawnContainer("web", args());
        await waitRegistrations();
        for (const r of recorded) assert.ok(!plainStrings(r.rawInputs).some((s) => s.includes("PRIVATE KEY")), r.name);
        const cmd = recorded.find((r) => r.name === "web-container")!;
        assert.ok(isSecretValue(cmd.rawInputs.connection) || isSecretValue(cmd.rawInputs.connection.privateKey));
    });

    describe("rejects hostile input before registering anything", () => {
        const cases: Array<[string, Partial<NspawnContainerArgs> | ((a: NspawnContainerArgs) => NspawnContainerArgs), RegExp]> = [
            ["machine name with a dot", { machine: "web.lan" }, /'machine' argument "web\.lan"/],
            ["machine name with a slash", { machine: "web/../etc" }, /'machine' argument "web\/\.\.\/etc"/],
            ["machine name with uppercase", { machine: "Web" }, /'machine'/],
            ["machine name over 63 chars", { machine: "w".repeat(64) }, /'machine'/],
            ["hostname with a space", { hostname: "my web" }, /'hostname' argument "my web"/],
            ["no network", { network: {} as any }, /'network'.*private network/],
            ["both bridge and macvlan", { network: { bridge: "br0", macvlan: "eth0" } as any }, /'network'/],
            ["bridge name too long", { network: { bridge: "bridge-much-too-long" } }, /'network\.bridge' argument "bridge-much-too-long"/],
            ["bridge name with a slash", { network: { bridge: "br/0" } }, /'network\.bridge'/],
            ["no addresses", { addresses: [] }, /'addresses' argument \[\]/],
            ["address without prefix", { addresses: ["10.231.40.2"] }, /'addresses\[0\]' argument "10\.231\.40\.2"/],
            ["address that is a /32", { addresses: ["10.231.40.2/32"] }, /'addresses\[0\]'/],
            ["bad CIDR", { addresses: ["10.231.400.2/24"] }, /'addresses\[0\]'/],
            ["two IPv4 gateways", { gateways: ["10.0.0.1", "10.0.0.2"] }, /'gateways'.*one gateway per address family/],
            ["gateway with a prefix", { gateways: ["10.0.0.1/24"] }, /'gateways\[0\]'/],
            ["relative bind source", { bindMounts: [{ source: "srv/media" }] }, /'bindMounts\[0\]\.source' argument "srv\/media"/],
            ["bind source with ..", { bindMounts: [{ source: "/srv/../etc" }] }, /'bindMounts\[0\]\.source'/],
            ["bind of the whole host", { bindMounts: [{ source: "/" }] }, /'bindMounts\[0\]\.source' argument "\/"/],
            ["bind path with ':'", { bindMounts: [{ source: "/srv/a:b" }] }, /'bindMounts\[0\]\.source'/],
            ["bind source with command substitution", { bindMounts: [{ source: "/srv/$(touch CANARY)" }] }, /'bindMounts\[0\]\.source' argument "\/srv\/\$\(touch CANARY\)"/],
            ["bind source with backticks", { bindMounts: [{ source: "/srv/`id`" }] }, /'bindMounts\[0\]\.source'/],
            ["bind source with a glob", { bindMounts: [{ source: "/srv/*" }] }, /'bindMounts\[0\]\.source'/],
            ["bind source with a specifier", { bindMounts: [{ source: "/srv/%H" }] }, /'bindMounts\[0\]\.source'/],
            ["bind source with a tilde", { bindMounts: [{ source: "~/media" }] }, /'bindMounts\[0\]\.source'/],
            ["bind source with a space", { bindMounts: [{ source: "/srv/a b" }] }, /'bindMounts\[0\]\.source'/],
            ["bind target with command substitution", { bindMounts: [{ source: "/srv/a", target: "/x/$(id)" }] }, /'bindMounts\[0\]\.target' argument "\/x\/\$\(id\)"/],
            ["bind target with backticks", { bindMounts: [{ source: "/srv/a", target: "/x/`id`" }] }, /'bindMounts\[0\]\.target'/],
            ["bind target with a glob", { bindMounts: [{ source: "/srv/a", target: "/x/[ab]" }] }, /'bindMounts\[0\]\.target'/],
            ["bind target with a tilde", { bindMounts: [{ source: "/srv/a", target: "~root" }] }, /'bindMounts\[0\]\.target'/],
            ["bind target with a %", { bindMounts: [{ source: "/srv/a", target: "/x/%m" }] }, /'bindMounts\[0\]\.target'/],
            ["bind target onto the container's root", { bindMounts: [{ source: "/srv/a", target: "/" }] }, /'bindMounts\[0\]\.target'/],
            ["a writable bind of the host's /etc", { bindMounts: [{ source: "/etc", readWrite: true }] }, /'bindMounts\[0\]\.source' argument "\/etc".*does not shadow the system/],
            ["a writable bind of PostgreSQL's tree", { bindMounts: [{ source: "/var/lib/postgresql/15/main", target: "/data", readWrite: true }] }, /'bindMounts\[0\]\.source'/],
            ["copyFrom with command substitution", { rootfs: { copyFrom: "/srv/$(touch /tmp/CANARY)" } }, /'rootfs\.copyFrom' argument "\/srv\/\$\(touch \/tmp\/CANARY\)"/],
            ["copyFrom with backticks", { rootfs: { copyFrom: "/srv/`id`" } }, /'rootfs\.copyFrom'/],
            ["copyFrom with a double quote (breaks out of echo \"…\")", { rootfs: { copyFrom: '/srv/"; id; "' } }, /'rootfs\.copyFrom'/],
            ["copyFrom with a glob", { rootfs: { copyFrom: "/srv/base*" } }, /'rootfs\.copyFrom'/],
            ["copyFrom with a %", { rootfs: { copyFrom: "/srv/%n" } }, /'rootfs\.copyFrom'/],
            ["copyFrom with a tilde", { rootfs: { copyFrom: "~/base" } }, /'rootfs\.copyFrom'/],
            ["copyFrom with a newline", { rootfs: { copyFrom: "/srv/base\nid" } }, /'rootfs\.copyFrom'/],
            ["copyFrom of the whole host", { rootfs: { copyFrom: "/" } }, /'rootfs\.copyFrom' argument "\/"/],
            ["two binds on one target", { bindMounts: [{ source: "/a", target: "/x" }, { source: "/b", target: "/x" }] }, /'bindMounts\[1\]\.target'/],
            ["capability without a reason", { capabilities: [{ name: "CAP_SYS_ADMIN", reason: "" }] }, /'capabilities\[0\]\.reason'/],
            ["unknown capability", { capabilities: [{ name: "CAP_EVERYTHING" as any, reason: "because it is needed" }] }, /'capabilities\[0\]\.name' argument "CAP_EVERYTHING"/],
            ["capability with shell", { capabilities: [{ name: "CAP_NET_ADMIN;id" as any, reason: "because it is needed" }] }, /'capabilities\[0\]\.name'/],
            ["authorized key with options", { ssh: { authorizedKey: `command="id" ${KEY}`, privateKey: secretKey() } }, /'ssh\.authorizedKey'/],
            ["authorized key with a newline", { ssh: { authorizedKey: `${KEY}\n${KEY}`, privateKey: secretKey() } }, /'ssh\.authorizedKey'/],
            ["private key as plain text", { ssh: { authorizedKey: KEY, privateKey: "-----BEGIN" as any } }, /'ssh\.privateKey' argument "<a plain string>"/],
            ["two rootfs kinds", { rootfs: { copyFrom: "/base", existing: true } as any }, /'rootfs'/],
            ["copy from inside itself", { rootfs: { copyFrom: "/var/lib/machines/web/base" } }, /'rootfs\.copyFrom'/],
            ["zfs clone on a host without zfs", { rootfs: { zfs: { origin: "tank/base@v1", dataset: "tank/machines/web" } } }, /'rootfs\.zfs\.host'/],
            ["zfs origin that is not a snapshot", (a) => ({ ...a, host: box(true), rootfs: { zfs: { origin: "tank/base", dataset: "tank/machines/web" } } }), /'rootfs\.zfs\.origin'/],
            ["memory limit of 1 MiB", { memoryMaxMiB: 1 }, /'memoryMaxMiB' argument 1/],
            ["tasksMax of 0", { tasksMax: 0 }, /'tasksMax' argument 0/],
            ["CPU quota of 0", { cpuQuotaPercent: 0 }, /'cpuQuotaPercent' argument 0/],
        ];
        for (const [what, over, re] of cases) {
            it(what, async () => {
                resetRecorded();
                const a = typeof over === "function" ? over(args()) : args(over);
                assert.throws(() => new NspawnContainer("web", a), (e: unknown) => e instanceof pulumi.ResourceError && re.test((e as Error).message));
                await settle();
                assert.deepEqual(recorded.map((r) => r.name), [], "nothing registered");
            });
        }
        it("has at least 20 cases", () => assert.ok(cases.length >= 20));

        it("is refused by the argument type too (the type is the schema's), and at run time with the same argument", () => {
            const typed: Array<[Partial<NspawnContainerArgs>, RegExp]> = [
                // @ts-expect-error two rootfs kinds at once
                [{ rootfs: { copyFrom: "/base", existing: true } }, /'rootfs' argument .*exactly one of/],
                // @ts-expect-error a bridge and a macvlan at once
                [{ network: { bridge: "br0", macvlan: "eth0" } }, /'network' argument .*exactly one of/],
                // @ts-expect-error a capability nspawn does not know
                [{ capabilities: [{ name: "CAP_EVERYTHING", reason: "because it is needed" }] }, /'capabilities\[0\]\.name'/],
                // @ts-expect-error keepData: false (data is kept by default; destroyOnDelete is the opt-in)
                [{ keepData: false }, /'keepData' argument false/],
                // @ts-expect-error a plain private key
                [{ ssh: { authorizedKey: KEY, privateKey: "-----BEGIN" } }, /'ssh\.privateKey' argument "<a plain string>"/],
            ];
            for (const [over, re] of typed) assert.throws(() => new NspawnContainer("web", args(over)), (e: unknown) => e instanceof pulumi.ResourceError && re.test((e as Error).message));
        });
    });
});
