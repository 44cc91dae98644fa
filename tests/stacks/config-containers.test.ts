// hearth:containers is the NspawnContainer schema with the host named and the SSH key named by its secret config key:
// every value the component refuses, the config refuses at the same key, with the same sentence, and the other way round.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError, describe as show, Host, NspawnContainerArgs, resolveContainerArgs } from "../../components";
import { ROOTFS_ALLOWED, NETWORK_ALLOWED, KEEP_DATA_ALLOWED } from "../../components/nspawn/schema";
import { SYSTEM_TREE_ALLOWED } from "../../components/core/rules";
import { checkSiteConfig, parseSiteConfig } from "../../stacks/schema";
import { buildSite } from "../../stacks/site";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";

type Values = Record<string, any>;
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMHP0rnHYlQm9yr6Lk3ALEcrrwORdxW6oZsHCIu1dB2Z me";

function entry(): Values {
    return { name: "ct", host: "web1", rootfs: { copyFrom: "/srv/base" }, network: { bridge: "br0" }, addresses: ["10.0.0.5/24"], ssh: { authorizedKey: KEY, privateKey: "ctKey" } };
}

function site(c: Values, facts: Values = {}): Values {
    return { sshPrivateKey: "k", ctKey: "k", hosts: [{ name: "web1", address: "192.0.2.10", hostKey: TEST_HOST_KEY, facts }], containers: [c] };
}

/** The config's problems, as `[key path below the entry, message]`. */
function configProblems(c: Values): [string, string][] {
    const r = checkSiteConfig({ values: site(c), secretKeys: new Set(["sshPrivateKey", "ctKey"]) });
    return r.ok ? [] : r.problems.map((p) => [p.path.replace(/^hearth:containers\[0\]\.?/, ""), p.message]);
}

const host = () => new Host({ name: "web1", address: "192.0.2.10", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY, facts: { zfs: true } });

/** The component's first problem with the same entry, as `[argument, message in the config's words]`. */
function componentProblem(c: Values): [string, string] | undefined {
    const { name, host: _h, ssh, ...rest } = c;
    const args = { ...rest, host: host(), ssh: { authorizedKey: ssh.authorizedKey, privateKey: pulumi.secret("k") } } as NspawnContainerArgs;
    try {
        resolveContainerArgs(name, args);
        return undefined;
    } catch (e) {
        assert.ok(e instanceof ArgumentError, `expected an ArgumentError, got ${e}`);
        return [e.arg, `is ${show(e.value)}: expected ${e.allowed}`];
    }
}

/** [what, change to the entry, the argument both refuse, a part of the sentence]. */
const cases: [string, (c: Values) => void, string, string | RegExp][] = [
    ["an uppercase machine", (c) => (c.machine = "Web"), "machine", "a machine name: a lowercase DNS label"],
    ["a hostname with a space", (c) => (c.hostname = "my web"), "hostname", "a lowercase DNS label"],
    ["two rootfs kinds", (c) => (c.rootfs = { copyFrom: "/srv/base", existing: true }), "rootfs", ROOTFS_ALLOWED],
    ["no rootfs kind", (c) => (c.rootfs = {}), "rootfs", ROOTFS_ALLOWED],
    ["a copied base inside the container's own tree", (c) => (c.rootfs = { copyFrom: "/var/lib/machines/ct/base" }), "rootfs.copyFrom", "a base tree outside the container's own /var/lib/machines/ct"],
    ["a clone from a dataset, not a snapshot", (c) => (c.rootfs = { zfs: { origin: "tank/base", dataset: "tank/machines/ct" } }), "rootfs.zfs.origin", "a base snapshot 'pool/dataset@snapshot'"],
    ["a clone from another pool", (c) => (c.rootfs = { zfs: { origin: "other/base@v1", dataset: "tank/machines/ct" } }), "rootfs.zfs.origin", "a snapshot in the dataset's own pool 'tank'"],
    ["a clone dataset with a space", (c) => (c.rootfs = { zfs: { origin: "tank/base@v1", dataset: "tank/my ct" } }), "rootfs.zfs.dataset", "a dataset path 'pool/name[/…]'"],
    ["both bridge and macvlan", (c) => (c.network = { bridge: "br0", macvlan: "eth0" }), "network", NETWORK_ALLOWED],
    ["a bridge name over 15 characters", (c) => (c.network = { bridge: "bridge-much-too-long" }), "network.bridge", "an existing host bridge name"],
    ["no addresses", (c) => (c.addresses = []), "addresses", "a non-empty array of interface addresses"],
    ["an address without a prefix", (c) => (c.addresses = ["10.0.0.5"]), "addresses[0]", "an interface address with its prefix"],
    ["an address that is a /32", (c) => (c.addresses = ["10.0.0.5/32"]), "addresses[0]", "an interface address with its prefix"],
    ["two IPv4 gateways", (c) => (c.gateways = ["10.0.0.1", "10.0.0.2"]), "gateways", "at most one gateway per address family"],
    ["a gateway with a prefix", (c) => (c.gateways = ["10.0.0.1/24"]), "gateways[0]", "an IP address without prefix"],
    ["a writable bind of /etc", (c) => (c.bindMounts = [{ source: "/etc", readWrite: true }]), "bindMounts[0].source", SYSTEM_TREE_ALLOWED],
    ["two binds on one target", (c) => (c.bindMounts = [{ source: "/a", target: "/x" }, { source: "/b", target: "/x" }]), "bindMounts[1].target", "a target no other bind mount uses"],
    ["an unknown capability", (c) => (c.capabilities = [{ name: "CAP_EVERYTHING", reason: "because it is needed" }]), "capabilities[0].name", "a Linux capability nspawn knows"],
    ["a capability without a reason", (c) => (c.capabilities = [{ name: "CAP_NET_ADMIN", reason: "" }]), "capabilities[0].reason", "a one-line reason"],
    ["a memory limit of 1 MiB", (c) => (c.memoryMaxMiB = 1), "memoryMaxMiB", "an integer from 32 to 16777216"],
    ["a CPU quota above 1024 CPUs", (c) => (c.cpuQuotaPercent = 102401), "cpuQuotaPercent", "an integer from 1 to 102400"],
    ["tasksMax of 15", (c) => (c.tasksMax = 15), "tasksMax", "an integer from 16 to 4194304"],
    ["an unknown ownership mode", (c) => (c.privateUsersOwnership = "shift"), "privateUsersOwnership", `one of "auto", "chown", "map"`],
    ["keepData: false", (c) => (c.keepData = false), "keepData", KEEP_DATA_ALLOWED],
    ["keepData with destroyOnDelete", (c) => ((c.keepData = true), (c.destroyOnDelete = true)), "destroyOnDelete", "false or unset when keepData is true"],
    ["an authorized key with options", (c) => (c.ssh.authorizedKey = `command="id" ${KEY}`), "ssh.authorizedKey", "one OpenSSH public key line"],
    ["an authorized key that is a private key", (c) => (c.ssh.authorizedKey = "-----BEGIN OPENSSH PRIVATE KEY-----"), "ssh.authorizedKey", /^is "<a private key, not shown>": expected one OpenSSH public key line/],
    ["sshViaHost as text", (c) => (c.sshViaHost = "yes"), "sshViaHost", "true or false"],
    ["an unknown key", (c) => (c.memoryMax = 512), "memoryMax", "one of the keys of"],
];

describe("site config: hearth:containers is the NspawnContainer schema", () => {
    before(() => installMocks());
    after(() => settle());

    it("accepts the base entry, and the component accepts it too", () => {
        assert.deepEqual(configProblems(entry()), []);
        assert.equal(componentProblem(entry()), undefined);
    });

    for (const [what, change, arg, sentence] of cases) {
        it(`refuses ${what} at '${arg}', as the component does`, () => {
            const c = entry();
            change(c);
            const fromConfig = configProblems(c);
            assert.equal(fromConfig[0]?.[0], arg, `the config: ${JSON.stringify(fromConfig)}`);
            if (typeof sentence === "string") assert.ok(fromConfig[0][1].includes(sentence), fromConfig[0][1]);
            else assert.match(fromConfig[0][1], sentence);
            if (arg === "memoryMax") return; // the component's message lists its own keys (host, ssh), the config's its own
            assert.deepEqual(componentProblem(c), fromConfig[0], "the component refuses the same value with the same sentence");
        });
    }

    it("takes the same limits as the component at their edges", () => {
        const c = entry();
        Object.assign(c, { tasksMax: 16, cpuQuotaPercent: 102400, memoryMaxMiB: 32, gateways: ["10.0.0.1", "fd00::1"], keepData: true, capabilities: [{ name: "CAP_NET_ADMIN", reason: "manages its own tunnel" }] });
        assert.deepEqual(configProblems(c), []);
        assert.equal(componentProblem(c), undefined);
    });

    it("defaults the machine to the entry's name, as the component defaults it to the resource name", () => {
        const c = entry();
        c.machine = "box";
        c.rootfs = { copyFrom: "/var/lib/machines/ct/base" };
        assert.deepEqual(configProblems(c), [], "the tree of machine 'box' is /var/lib/machines/box");
        assert.equal(componentProblem(c), undefined);
    });

    it("refuses a ZFS clone on a host whose facts lack zfs, at the clone's host, before anything registers", async () => {
        const c = entry();
        c.rootfs = { zfs: { origin: "tank/base@v1", dataset: "tank/machines/ct" } };
        const build = (facts: Values) => buildSite(parseSiteConfig({ values: site(c, facts), secretKeys: new Set(["sshPrivateKey", "ctKey"]) }), { secret: () => pulumi.secret("fake") });
        resetRecorded();
        assert.throws(() => build({}), (e: unknown) => e instanceof pulumi.ResourceError && /'hearth:containers\[0\]\.rootfs\.zfs\.host' is "web1": expected a host whose facts declare zfs: true/.test((e as Error).message));
        await settle();
        assert.deepEqual(recorded.map((r) => r.name), [], "nothing registered");
        build({ zfs: true });
        await settle();
        assert.ok(recorded.some((r) => r.type === "hearth:zfs:Dataset" && r.name === "ct-rootfs"), "the clone registers on a zfs host");
    });
});
