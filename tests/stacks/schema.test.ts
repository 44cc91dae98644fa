// Site config validation: every bad config is refused with the key path, the value and what is allowed, before any resource exists.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { parseSiteConfig, RawSiteConfig } from "../../stacks/schema";
import { buildSite } from "../../stacks/site";
import { installMocks, recorded, resetRecorded, settle, TEST_BASTION_KEY, TEST_HOST_KEY } from "../mocks";
import { HOST_ADDRESS_ALLOWED } from "../../components/core/rules";

type Values = Record<string, any>;

function base(): Values {
    return {
        sshPrivateKey: "placeholder",
        hosts: [{ name: "web1", address: "192.0.2.10", hostKey: TEST_HOST_KEY }],
        services: [
            { name: "app", host: "web1", description: "An app", execStart: ["/usr/bin/python3", "-m", "http.server", "8080"], network: "local", listenPorts: [8080] },
            { name: "job", host: "web1", description: "A job", execStart: ["/usr/bin/true"], timer: { onCalendar: "daily" } },
        ],
    };
}

/** Runs the site program's validation and build the way stacks/index.ts does. */
function site(values: Values, secretKeys: string[] = ["sshPrivateKey", "ctKey"]): void {
    const raw: RawSiteConfig = { values, secretKeys: new Set(secretKeys) };
    buildSite(parseSiteConfig(raw), { secret: () => pulumi.secret("fake-secret-value") });
}

function errorOf(values: Values, secretKeys?: string[]): string {
    try {
        site(values, secretKeys);
    } catch (e) {
        assert.ok(e instanceof pulumi.ResourceError, `expected a ResourceError, got ${e}`);
        return (e as Error).message;
    }
    assert.fail("the config was accepted");
}

const HOST_KEYS = "name, address, port, user, hostKey, sudo, facts, reapply, sshKey, proxy, driftTimer, baseline";
const LABEL = "a lowercase DNS label (a-z, 0-9, inner '-', 1 to 63 characters)";
const ADDRESS = HOST_ADDRESS_ALLOWED;
const KEY_LINE = "an OpenSSH public key line '<type> <base64> [comment]' with type one of ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com, e.g. the host's /etc/ssh/ssh_host_ed25519_key.pub, or a line of `ssh-keyscan -t ed25519 <address>` without the host name";
const HOW_TO_GET =
    "the host's public key, which pins it so that no other machine can pose as it: copy /etc/ssh/ssh_host_ed25519_key.pub from the host (over a channel you trust), or run `ssh-keyscan -t ed25519 <address>` and check its fingerprint against `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host";
const ED25519_BLOB = TEST_HOST_KEY.split(" ")[1];
/** A key named in the config that is not set: the name is never repeated (it may be the secret itself). */
const NOT_SET = "names a secret config key that is not set (the name given there is not repeated: it may be the secret itself, pasted in the name's place): expected the name of a key set with `pulumi config set --secret hearth:<name>` (it prompts for the value)";

/** [what, change to the base config, the exact line expected (or a pattern for messages the component words)]. */
const cases: [string, (v: Values) => void, string | RegExp][] = [
    ["no hosts at all", (v) => delete v.hosts, `'hearth:hosts' is missing: expected a list of hosts`],
    ["hosts as a string", (v) => (v.hosts = "web1"), `'hearth:hosts' is "web1": expected a list of hosts`],
    ["an empty host list", (v) => ((v.hosts = []), delete v.services), `'hearth:hosts' is []: expected a list of at least one host`],
    ["an uppercase host name", (v) => (v.hosts[0].name = "Web1"), `'hearth:hosts[0].name' is "Web1": expected ${LABEL}`],
    ["a host name with a dot", (v) => (v.hosts[0].name = "web.1"), `'hearth:hosts[0].name' is "web.1": expected ${LABEL}`],
    ["shell in an address", (v) => (v.hosts[0].address = "192.0.2.10; reboot"), `'hearth:hosts[0].address' is "192.0.2.10; reboot": expected ${ADDRESS}`],
    ["an IPv4 address out of range", (v) => (v.hosts[0].address = "192.0.2.300"), `'hearth:hosts[0].address' is "192.0.2.300": expected ${ADDRESS}`],
    ["port 0", (v) => (v.hosts[0].port = 0), `'hearth:hosts[0].port' is 0: expected an integer from 1 to 65535`],
    ["a port given as text", (v) => (v.hosts[0].port = "22"), `'hearth:hosts[0].port' is "22": expected an integer from 1 to 65535`],
    ["a user with a semicolon", (v) => (v.hosts[0].user = "root;id"), `'hearth:hosts[0].user' is "root;id": expected a POSIX user name ([a-z_][a-z0-9_-]{0,31})`],
    // Every host is pinned, bastions too: the same parser as Host, so what the schema accepts Host accepts.
    ["a host without a host key", (v) => delete v.hosts[0].hostKey, `'hearth:hosts[0].hostKey' is missing: expected ${HOW_TO_GET}`],
    ["an empty host key", (v) => (v.hosts[0].hostKey = ""), `'hearth:hosts[0].hostKey' is "": expected ${HOW_TO_GET}`],
    ["a host key that is only a base64 prefix", (v) => (v.hosts[0].hostKey = "AAAAC3NzaC1lZDI1NTE5"), `'hearth:hosts[0].hostKey' is "AAAAC3NzaC1lZDI1NTE5": expected ${KEY_LINE} (the type and the base64 part, separated by one space, with nothing before them)`],
    ["a host key whose type is not its blob's", (v) => (v.hosts[0].hostKey = `ssh-rsa ${ED25519_BLOB}`), `'hearth:hosts[0].hostKey' is "ssh-rsa ${ED25519_BLOB}": expected ${KEY_LINE} (the base64 part is a "ssh-ed25519" key, not ssh-rsa)`],
    ["a truncated host key", (v) => (v.hosts[0].hostKey = `ssh-ed25519 ${ED25519_BLOB.slice(0, 48)}`), `'hearth:hosts[0].hostKey' is "ssh-ed25519 ${ED25519_BLOB.slice(0, 48)}": expected ${KEY_LINE} (the base64 part is not an SSH key blob: it is truncated or its lengths are wrong)`],
    ["the placeholder the example site used to carry", (v) => (v.hosts[0].hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHearthExamplePlaceholderHostKeyReplaceMe01"), /^ {2}'hearth:hosts\[0\]\.hostKey' is "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHearth.*not whole base64/m],
    ["a host key with a second line", (v) => (v.hosts[0].hostKey = `${TEST_HOST_KEY}\n@cert-authority * ${TEST_BASTION_KEY}`), /^ {2}'hearth:hosts\[0\]\.hostKey' is "ssh-ed25519 .*\\n@cert-authority.*no newline/m],
    ["a bastion without a host key", (v) => (v.hosts[0].proxy = { address: "192.0.2.1" }), `'hearth:hosts[0].proxy.hostKey' is missing: expected ${HOW_TO_GET}`],
    ["a bastion host key that is not a key", (v) => (v.hosts[0].proxy = { address: "192.0.2.1", hostKey: "ssh-ed25519 AAAA" }), `'hearth:hosts[0].proxy.hostKey' is "ssh-ed25519 AAAA": expected ${KEY_LINE} (the base64 part is not an SSH key blob: it is truncated or its lengths are wrong)`],
    ["a misspelt host key", (v) => (v.hosts[0].adress = "x"), `'hearth:hosts[0].adress' is not a known key: expected one of the keys of a host: ${HOST_KEYS}`],
    ["a misspelt proxy key", (v) => (v.hosts[0].proxy = { address: "192.0.2.1", hostKey: TEST_BASTION_KEY, hostkey: "x" }), `'hearth:hosts[0].proxy.hostkey' is not a known key: expected one of the keys of a bastion (proxy): address, port, user, hostKey, sshKey`],
    [
        "a compression the schema does not know",
        (v) => (v.hosts[0].facts = { zfsCompression: ["brotli"] }),
        `'hearth:hosts[0].facts.zfsCompression[0]' is "brotli": expected one of "off", "on", "lzjb", "gzip", "lz4", "zstd"`,
    ],
    ["two hosts with one name", (v) => v.hosts.push({ name: "web1", address: "192.0.2.11", hostKey: TEST_BASTION_KEY }), `'hearth:hosts[1].name' is "web1": expected a host name not used before (hosts[0] has it)`],
    ["a misspelt top-level key", (v) => (v.service = []), `'hearth:service' is not a known key: expected one of hearth:hosts, hearth:packages, hearth:files, hearth:services, hearth:datasets, hearth:databases, hearth:containers, hearth:wireguard, hearth:zones, or a secret that the config names (e.g. a host's sshKey)`],
    ["no SSH key", (v) => delete v.sshPrivateKey, "'hearth:sshPrivateKey' is missing: expected a secret (named by hearth:hosts[0] by default), set with `pulumi config set --secret hearth:sshPrivateKey` (it prompts for the value)"],
    ["a host naming a key that is not set", (v) => (v.hosts[0].sshKey = "webKey"), `'hearth:hosts[0].sshKey' ${NOT_SET}`],
    ["a service on a host that does not exist", (v) => (v.services[0].host = "nas"), `'hearth:services[0].host' is "nas": expected the name of an entry in hearth:hosts or hearth:containers ("web1")`],
    ["memoryMaxMiB 0", (v) => (v.services[0].memoryMaxMiB = 0), `'hearth:services[0].memoryMaxMiB' is 0: expected an integer from 1 to 16777216`],
    ["memoryMaxMiB with a unit", (v) => (v.services[1].memoryMaxMiB = "128M"), `'hearth:services[1].memoryMaxMiB' is "128M": expected an integer from 1 to 16777216`],
    ["a fractional cpuQuotaPercent", (v) => (v.services[0].cpuQuotaPercent = 1.5), `'hearth:services[0].cpuQuotaPercent' is 1.5: expected an integer from 1 to 100000`],
    ["an unknown oomPolicy", (v) => (v.services[0].oomPolicy = "restart"), `'hearth:services[0].oomPolicy' is "restart": expected one of "kill", "stop", "continue"`],
    ["an unknown network mode", (v) => (v.services[0].network = "public"), `'hearth:services[0].network' is "public": expected one of "none", "local", "internet"`],
    ["two services with one name", (v) => (v.services[1].name = "app"), `'hearth:services[1].name' is "app": expected a service name not used before (services[0] has it)`],
    ["a lowercase environment name", (v) => (v.services[0].environment = { path: "/x" }), `'hearth:services[0].environment.path' is not an allowed name: expected a variable name matching [A-Z_][A-Z0-9_]*`],
    ["an empty execStart", (v) => (v.services[0].execStart = []), `'hearth:services[0].execStart' is []: expected an argv array of 1 to 256 strings`],
    ["a newline in an argv word", (v) => (v.services[0].execStart[1] = "-m\nid"), `'hearth:services[0].execStart[1]' is "-m\\nid": expected one line of at most 4096 characters without control characters, bidirectional overrides, embeddings, isolates or marks, zero-width characters, line or paragraph separators or unpaired surrogates`],
    ["a misspelt service key", (v) => (v.services[0].memoryMax = 64), /^ {2}'hearth:services\[0\]\.memoryMax' is not a known key: expected one of the keys of a service: name, host, unitName, .*memoryMaxMiB/m],
    [
        "a loosening without a real reason",
        (v) => (v.services[0].loosen = { capabilities: { caps: ["CAP_NET_RAW"], reason: "x" } }),
        `'hearth:services[0].loosen.capabilities.reason' is "x": expected a one-line reason of 8 to 200 printable ASCII characters`,
    ],
    ["an idle stop of 0 s", (v) => (v.services[0] = { ...v.services[0], listenPorts: undefined, socket: { listenStream: 80, targetPort: 8080, idleStopSec: 0 } }), `'hearth:services[0].socket.idleStopSec' is 0: expected an integer from 1 to 86400`],
    ["a credential naming an unset secret", (v) => (v.services[0].credentials = { token: "appToken" }), `'hearth:services[0].credentials.token' ${NOT_SET}`],
    // Rules the component owns, reported at the config key they came from.
    ["a relative program path", (v) => (v.services[0].execStart[0] = "python3"), /^ {2}'hearth:services\[0\]\.execStart\[0\]' is "python3": expected an absolute program path/m],
    ["a calendar systemd cannot parse", (v) => (v.services[1].timer.onCalendar = "every tuesday"), /^ {2}'hearth:services\[1\]\.timer\.onCalendar' is "every tuesday": expected a systemd calendar expression/m],
    ["listen ports in a private network", (v) => (v.services[0].network = "none"), /^ {2}'hearth:services\[0\]\.listenPorts' is \[8080\]: expected no ports with network 'none'/m],
    ["a service shadowing sshd", (v) => (v.services[0].name = "ssh"), /^ {2}'hearth:services\[0\]\.unitName' is "ssh": expected a name that does not shadow a system unit/m],
    ["a drop-in with its own command", (v) => (v.services[1] = { name: "pg", host: "web1", dropIn: { unit: "postgresql.service" }, execStart: ["/bin/true"] }), /^ {2}'hearth:services\[1\]\.execStart' is \["\/bin\/true"\]: expected nothing: a drop-in carries hardening and limits only/m],
    ["a writable system tree without a loosening", (v) => (v.services[0].readWritePaths = ["/etc"]), /^ {2}'hearth:services\[0\]\.readWritePaths\[0\]' is "\/etc": expected a path outside the system trees/m],
    // Datasets, databases, containers, links and zones: the same rules, the same kind of message.
    ["a dataset on a host without ZFS", (v) => (v.datasets = [{ name: "media", host: "web1", dataset: "tank/media" }]), /^ {2}'hearth:datasets\[0\]\.host' is "web1": expected a host whose facts declare zfs: true$/m],
    ["a dataset path with '..'", (v) => ((v.hosts[0].facts = { zfs: true }), (v.datasets = [{ name: "media", host: "web1", dataset: "tank/../etc" }])), /^ {2}'hearth:datasets\[0\]\.dataset' is "tank\/\.\.\/etc": expected a dataset path/m],
    ["a snapshot policy with an unknown period", (v) => ((v.hosts[0].facts = { zfs: true }), (v.datasets = [{ name: "media", host: "web1", dataset: "tank/media", snapshots: { every: "minutely", keep: { hourly: 1 } } }])), `'hearth:datasets[0].snapshots.every' is "minutely": expected one of "hourly", "daily", "weekly"`],
    ["a database named with a quote", (v) => (v.databases = [{ name: "app-db", host: "web1", database: "app'; DROP" }]), /^ {2}'hearth:databases\[0\]\.database' is "app'; DROP": expected a lowercase SQL name/m],
    ["a database client that is not a network", (v) => (v.databases = [{ name: "app-db", host: "web1", database: "app", clients: ["everyone"] }]), /^ {2}'hearth:databases\[0\]\.clients\[0\]' is "everyone": expected an IPv4 or IPv6 network in CIDR form/m],
    ["a database on a host that does not exist", (v) => (v.databases = [{ name: "app-db", host: "db9", database: "app" }]), `'hearth:databases[0].host' is "db9": expected the name of an entry in hearth:hosts ("web1")`],
    ["a container named like a host", (v) => ((v.ctKey = "k"), (v.containers = [{ ...container(), name: "web1" }])), `'hearth:containers[0].name' is "web1": expected a name no host of hearth:hosts has (services name hosts and containers alike)`],
    ["a container without its SSH key secret", (v) => (v.containers = [container()]), `'hearth:containers[0].ssh.privateKey' ${NOT_SET}`],
    ["a container address without a prefix", (v) => ((v.ctKey = "k"), (v.containers = [{ ...container(), addresses: ["10.0.0.5"] }])), /^ {2}'hearth:containers\[0\]\.addresses\[0\]' is "10\.0\.0\.5": expected an interface address with its prefix/m],
    ["a WireGuard side both here and elsewhere", (v) => (v.wireguard = [{ ...link(), hub: { host: "web1", stack: "vps" } }]), `'hearth:wireguard[0].hub' is {"host":"web1","stack":"vps"}: expected exactly one of host (a host of this site), stack (the site that manages it) or publicKey`],
    ["a remote WireGuard side without a name", (v) => (v.wireguard = [{ ...link(), peers: [{ stack: "home" }] }]), `'hearth:wireguard[0].peers[0].name' is missing: expected a side name (the same in every stack) for a side managed elsewhere`],
    ["an interface name over 15 characters", (v) => (v.wireguard = [{ ...link(), interfaceName: "wg-a-very-long-name" }]), /^ {2}'hearth:wireguard\[0\]\.interfaceName' is "wg-a-very-long-name": expected/m],
    ["a stack name with a space", (v) => (v.wireguard = [{ ...link(), peers: [{ name: "home", stack: "my home" }] }]), `'hearth:wireguard[0].peers[0].stack' is "my home": expected a stack name ('vps' or 'org/project/vps')`],
    ["an unknown DNS backend", (v) => (v.zones = [{ name: "pub", zone: "example.org", backend: { kind: "bind9" } }]), `'hearth:zones[0].backend.kind' is "bind9": expected a backend { kind: "cloudflare" | "route53" | "host", ... }`],
    ["a private address in a public zone", (v) => (v.zones = [{ ...zone(), records: [{ name: "nas", type: "A", value: "192.168.1.5" }] }]), /^ {2}'hearth:zones\[0\]\.records\[0\]\.value' is "192\.168\.1\.5": expected a public address in the public zone example\.org/m],
    ["a record for a service without a hostname", (v) => (v.zones = [{ ...zone(), records: [{ service: "app" }] }]), `'hearth:zones[0].records[0].service' is "app": expected a service with a 'hostname' (the name its records get), or a 'name' on the record`],
    ["a record for a service whose host has no address", (v) => ((v.hosts[0].address = "web1.example.net"), (v.services[0].hostname = "app"), (v.zones = [{ ...zone(), records: [{ service: "app" }] }])), `'hearth:zones[0].records[0].service' is "app": expected a service whose host has an IP address (host 'web1' is reached by name, so there is no address to publish)`],
    ["a TTL of one second", (v) => (v.zones = [{ ...zone(), ttl: 1 }]), `'hearth:zones[0].ttl' is 1: expected an integer from 60 to 86400`],
];

function container() {
    return { name: "ct", host: "web1", rootfs: { copyFrom: "/srv/base" }, network: { bridge: "br0" }, addresses: ["10.0.0.5/24"], ssh: { authorizedKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMHP0rnHYlQm9yr6Lk3ALEcrrwORdxW6oZsHCIu1dB2Z me", privateKey: "ctKey" } };
}
function link() {
    return { name: "sites", interfaceName: "wg-sites", hub: { host: "web1", endpoint: "192.0.2.10:51820" }, peers: [{ name: "home", stack: "home" }] };
}
function zone() {
    return { name: "pub", zone: "example.org", backend: { kind: "cloudflare", zoneId: "0123456789abcdef0123456789abcdef" } };
}

describe("site config", () => {
    before(() => installMocks("hearth", "schema"));
    beforeEach(() => resetRecorded());

    it("accepts the base config and builds it", async () => {
        site(base());
        await settle();
        assert.deepEqual(recorded.filter((r) => r.type === "hearth:systemd:Service").map((r) => r.name).sort(), ["app", "job"]);
    });

    for (const [what, change, expected] of cases) {
        it(`refuses ${what}`, async () => {
            const v = base();
            change(v);
            const message = errorOf(v);
            if (typeof expected === "string") {
                assert.equal(message, `The site config has 1 error:\n  ${expected}`);
            } else {
                assert.match(message, /^The site config has 1 error:\n/);
                assert.match(message, expected);
            }
            await settle();
            assert.deepEqual(recorded, [], "nothing may be registered for a bad config");
        });
    }

    it(`has at least 25 bad-config cases (${cases.length})`, () => assert.ok(cases.length >= 25));

    it("reports every problem at once, sorted by key path", () => {
        const v = base();
        v.hosts[0].port = 0;
        v.services[1].memoryMaxMiB = -1;
        v.services[0].oomPolicy = "later";
        const lines = errorOf(v).split("\n");
        assert.equal(lines[0], "The site config has 3 errors:");
        assert.deepEqual(lines.slice(1).map((l) => l.trim().split("'")[1]), ["hearth:hosts[0].port", "hearth:services[0].oomPolicy", "hearth:services[1].memoryMaxMiB"]);
    });

    it("registers nothing when only a later service is bad", async () => {
        const v = base();
        v.services[1].execStart = ["relative/path"];
        assert.match(errorOf(v), /'hearth:services\[1\]\.execStart\[0\]'/);
        await settle();
        assert.deepEqual(recorded, []);
    });

    it("refuses a private key set in plain text without showing it", () => {
        const v = base();
        v.sshPrivateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-bytes";
        const message = errorOf(v, []);
        assert.equal(message, "The site config has 1 error:\n  'hearth:sshPrivateKey' is set in plain text (value not shown): expected a secret, set with `pulumi config set --secret hearth:sshPrivateKey` (it prompts for the value)");
        assert.ok(!message.includes("secret-bytes"));
    });

    it("refuses a private key pasted as a host key without showing it", () => {
        const v = base();
        v.hosts[0].hostKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
        const message = errorOf(v);
        assert.match(message, /^ {2}'hearth:hosts\[0\]\.hostKey' is "<a private key, not shown>": expected .*this is a private key/m);
        assert.ok(!message.includes("b3BlbnNzaC1rZXkt"), message);
    });

    it("accepts a host and a bastion pinned with each common key type", async () => {
        const v = base();
        v.hosts[0].hostKey = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIboypIehrWkvBA9k5VmVgykw5AUSvXXREvz9DQs0iFvPURhdkVhYTBQCNyBgOIFg/aod8zN9fSmdjQK0NO6PWU= root@web1";
        v.hosts[0].proxy = { address: "192.0.2.1", hostKey: TEST_BASTION_KEY };
        site(v);
        await settle();
        const cmd = recorded.find((r) => r.type === "command:remote:Command")!;
        assert.equal(cmd.inputs.connection.hostKey, v.hosts[0].hostKey);
        assert.equal(cmd.inputs.connection.proxy.hostKey, TEST_BASTION_KEY);
    });

    it("shows control characters and lookalikes in values escaped", () => {
        const v = base();
        v.hosts[0].name = "we\u04311"; // Cyrillic be: looks like a Latin letter in some fonts
        assert.match(errorOf(v), /'hearth:hosts\[0\]\.name' is "we\\u04311"/);
    });
});
