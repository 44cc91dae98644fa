// The home site's Radicale, as Pulumi.home.yaml declares it, deployed on a real test host by the site's own builder.
//
// The spec reads Pulumi.home.yaml, takes its Radicale service and every entry that service names (its packages entry
// and its dataset) with its host's entry, and points that host at a booted test host: the address and the pinned host
// key become the test host's, and its facts say only `zfs: true` (the host runs zfs-fuse). One value of the entries
// is changed, and the spec checks it is the only one: zfs-fuse pools (version 23) have no lz4_compress feature, so the
// dataset's lz4 becomes lzjb. Everything else is home's: the `ops` login through `sudo -n` (created here the way a
// user prepares a host), the package from the host's only apt source (the local repository), the dataset mounted at
// Radicale's collections, the hardened service under the package's user, its config file and its htpasswd credential
// hashed from a password in a secret config key. buildSite (stacks/site.ts) builds it under the mocks, the runner
// executes the registered commands over SSH, and a client on the host writes an event and reads it back as `family`.
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "../../stacks/plan-runtime";
import { parseSiteConfig } from "../../stacks/schema";
import { buildSite } from "../../stacks/site";
import { APT_REPO_MOUNT } from "./aptrepo";
import { mustExec } from "./crash";
import { describeHost, startHost, TestHost } from "./harness";
import { calendarEvent, calendarRoundTrip, davClient, EXPOSURE_BUDGET, radicaleExposure, radicaleListening } from "./radicale-client";
import { ProgramRunner } from "./runner";

const REPO = path.join(__dirname, "..", "..");
const PASSWORD = `family-${randomBytes(12).toString("hex")}`;
const EVENT_PATH = "/family/calendar/site-proof.ics";

const EVENT = calendarEvent("-//hearth//radicale site proof//EN", "hearth-radicale-site-proof@example.org", "the home site's Radicale");

type Entry = Record<string, any>;
/** The sections a service's references name, by the key a reference uses (stacks/config/services.ts). */
const SECTION = { service: "services", dataset: "datasets", database: "databases", file: "files", packages: "packages" } as const;

/** Home's config as the CLI would pass it, structured sections parsed. */
function homeConfig(): Record<string, unknown> {
    const { config } = loadStackConfig(REPO, "home");
    return Object.fromEntries(
        Object.entries(config)
            .filter(([k]) => k.startsWith("hearth:"))
            .map(([k, v]) => [k.slice("hearth:".length), v.startsWith("[") || v.startsWith("{") ? JSON.parse(v) : v]),
    );
}

/** Home's Radicale service, the entries it names (after/requires/wants) and its host: each section as home has it. */
function radicaleEntries(home: Record<string, any>): Record<string, Entry[]> {
    const service = (home.services as Entry[]).find((s) => s.name === "radicale")!;
    assert.ok(service, "Pulumi.home.yaml declares a service named radicale");
    const out: Record<string, Entry[]> = { hosts: (home.hosts as Entry[]).filter((h) => h.name === service.host), services: [service] };
    for (const ref of [...(service.after ?? []), ...(service.requires ?? []), ...(service.wants ?? [])]) {
        const [kind, name] = Object.entries(ref)[0] as [keyof typeof SECTION, string];
        const entry = (home[SECTION[kind]] as Entry[]).find((e) => e.name === name)!;
        (out[SECTION[kind]] ??= []).push(entry);
    }
    return out;
}

describeHost("the home site's Radicale on a real host, built by the site program", function () {
    this.timeout(600_000);
    let h: TestHost;
    let home: Record<string, any>;
    let entries: Record<string, Entry[]>;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const runner = new ProgramRunner();
    const timings: string[] = [];

    /** Home's entries pointed at the test host: what changes, and nothing else. */
    function pointed(): Record<string, Entry[]> {
        const copy: Record<string, Entry[]> = JSON.parse(JSON.stringify(entries));
        // Without rack1's baseline: its deploy key, admin networks and sysctls are the home site's (the placeholder key
        // would lock the test host's ops login out, and its firewall admits the home LAN only); the baseline is proven
        // by its own host specs (firewall, accounts, tuning, upgrades).
        copy.hosts = copy.hosts.map(({ baseline: _baseline, ...e }) => ({ ...e, address: h.address, hostKey: h.hostKey, facts: { zfs: true } }));
        copy.datasets = copy.datasets.map((d) => (d.compression === "lz4" ? { ...d, compression: "lzjb" } : d));
        return copy;
    }

    /** The site's secret config keys: the SSH key of the test host, and the password only this run knows. */
    function secrets(): Record<string, string> {
        const keys: Record<string, string> = { sshPrivateKey: h.privateKey };
        for (const s of entries.services) {
            for (const c of Object.values(s.credentials ?? {}) as any[]) for (const u of c.htpasswd ?? []) keys[u.password] = PASSWORD;
        }
        return keys;
    }

    /** The site program on the pointed entries, built by buildSite as stacks/index.ts does. */
    const program = () => {
        const keys = secrets();
        const site = parseSiteConfig({ values: { ...pointed(), ...keys }, secretKeys: new Set(Object.keys(keys)) });
        buildSite(site, { secret: (key) => pulumi.secret(keys[key]) });
    };

    async function up(what: string) {
        const started = Date.now();
        const r = await runner.up(program);
        timings.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s (${r.runs.length} remote commands)`);
        return r;
    }

    const dav = davClient(() => h, "family", PASSWORD);

    const listening = () => radicaleListening(h);

    before(async () => {
        home = homeConfig();
        entries = radicaleEntries(home);
        // The same repository as radicale.test.ts and packages.test.ts (one cached build).
        h = await startHost({ name: entries.hosts[0].name, aptPackages: ["radicale", "hello"] });
        await sh("systemctl is-active zfs-fuse && truncate -s 512M /var/lib/hearth-tank.img && zpool create tank /var/lib/hearth-tank.img");
        // Home logs in as `ops` and runs scripts through `sudo -n`: the host is prepared that way (README: what a host needs).
        const user = entries.hosts[0].user as string;
        await sh([
            `useradd -m -s /bin/bash ${user}`,
            `install -d -m 700 -o ${user} -g ${user} /home/${user}/.ssh`,
            `install -m 600 -o ${user} -g ${user} /root/.ssh/authorized_keys /home/${user}/.ssh/authorized_keys`,
            `printf '%s ALL=(ALL) NOPASSWD: ALL\\n' ${user} > /etc/sudoers.d/${user}`,
            `chmod 440 /etc/sudoers.d/${user}`,
        ].join(" && "));
    });
    after(async () => {
        if (timings.length) process.stderr.write(`radicale-site: ${timings.join("; ")}\n`);
        await h?.stop();
    });

    it("takes home's Radicale entries, changing only the host's address, key and facts (its baseline left out) and the dataset's lz4", () => {
        assert.deepEqual(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v.map((e) => e.name)])), {
            hosts: ["rack1"], services: ["radicale"], datasets: ["radicale-data"], packages: ["radicale-pkg"],
        });
        const p = pointed();
        const differences: string[] = [];
        for (const [section, list] of Object.entries(entries)) {
            list.forEach((e, i) => {
                for (const k of new Set([...Object.keys(e), ...Object.keys(p[section][i])])) {
                    if (JSON.stringify(e[k]) !== JSON.stringify(p[section][i][k])) differences.push(`${section}.${e.name}.${k}`);
                }
            });
        }
        assert.deepEqual(differences, ["hosts.rack1.address", "hosts.rack1.hostKey", "hosts.rack1.facts", "hosts.rack1.baseline", "datasets.radicale-data.compression"]);
        assert.equal(entries.hosts[0].user, "ops", "home's rack1 is reached as ops through sudo");
        assert.equal(entries.services[0].user.name, "radicale");
        assert.equal(entries.services[0].stateDirectory, "radicale/collections");
        assert.equal(entries.datasets[0].mountpoint, "/var/lib/radicale/collections");
        assert.deepEqual(entries.services[0].credentials, { htpasswd: { htpasswd: [{ user: "family", password: "radicalePassword" }] } });
    });

    it("up: installed from the local repository, served as family from the dataset, through ops and sudo", async () => {
        assert.notEqual((await h.exec("dpkg -s radicale")).code, 0, "radicale is not installed before");
        const r = await up("first up");
        assert.deepEqual(r.created.sort(), [
            "radicale-converge", "radicale-converge-lifecycle", "radicale-data-dataset", "radicale-data-dataset-lifecycle",
            "radicale-data-snapshots-converge", "radicale-data-snapshots-converge-lifecycle", "radicale-pkg-packages", "radicale-pkg-packages-lifecycle",
        ]);
        for (const c of runner.resources) assert.equal(c.inputs.connection.user, "ops", `${c.name} logs in as ops`);
        assert.match(await sh("cat /var/log/apt/history.log"), /^Install: .*\bradicale:[a-z0-9]+ \(/m, "apt's history shows the install");
        assert.match(await sh("apt-cache policy radicale"), new RegExp(`\\*\\*\\* \\S+ \\d+\\n\\s+\\d+ file:${APT_REPO_MOUNT} \\./ Packages`), "from the local repository");
        assert.equal((await sh("systemctl show -p FragmentPath,User,StateDirectory,ActiveState radicale.service")).trim().split("\n").sort().join(" "),
            "ActiveState=active FragmentPath=/etc/systemd/system/radicale.service StateDirectory=radicale/collections User=radicale");
        timings.push(`listening ${(await listening()).toFixed(1)} s after the first up`);

        await calendarRoundTrip(dav, "/family/calendar/", EVENT_PATH, EVENT, PASSWORD);

        const stored = `/var/lib/radicale/collections/collection-root${EVENT_PATH}`;
        assert.equal(await sh(`findmnt -n -o SOURCE -T ${stored}`), "tank/radicale\n", "the event is on the dataset");
        assert.equal(await sh(`stat -c '%a %U' ${stored}`), "600 radicale\n");
        // The credential is the htpasswd line hearth made from the password; the password itself is on no file.
        assert.match(await sh("cat /etc/credstore/radicale.service/htpasswd"), /^family:\$apr1\$[./0-9A-Za-z]{8}\$[./0-9A-Za-z]{22}\n$/);
        assert.equal(await sh(`grep -rlF -e '${PASSWORD}' /etc /usr/local/etc /var/lib/hearth /var/lib/radicale 2>/dev/null || true`), "", "the password is in no file");

        timings.push(`exposure ${await radicaleExposure(h)} (budget ${EXPOSURE_BUDGET})`);
    });

    it("a re-run of the site runs nothing: the htpasswd line from an unchanged password is unchanged", async () => {
        const before = await sh("systemctl show -p InvocationID --value radicale.service");
        const r = await up("re-run");
        assert.equal(r.runs.length, 0, "no remote command");
        assert.deepEqual([r.created, r.updated, r.replaced, r.deleted], [[], [], [], []]);
        assert.equal(await sh("systemctl show -p InvocationID --value radicale.service"), before, "the same invocation");
        assert.equal((await dav("GET", EVENT_PATH)).body, EVENT);
    });
});
