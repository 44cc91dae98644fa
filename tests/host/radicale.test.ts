// The end-to-end proof of issue 13: Radicale (CalDAV) from Debian's packages, deployed by hearth on a real test host.
// DebianPackages installs it from the local apt repository (the host's only source; nothing is fetched inside it), a
// ZfsDataset holds its collections, and a SystemdService named like the packaged unit runs it hardened, its config file
// bound read-only from hearth's tree and its htpasswd line (from a Pulumi secret) delivered as a credential. A client on
// the host writes an event over HTTP and reads it back; then a config change restarts it once, a re-run runs nothing,
// and deleting the service leaves the package and the data.
//
// Why a named user and not DynamicUser: Radicale's data lives on the dataset, mounted at the collections directory the
// package ships (/var/lib/radicale/collections). `StateDirectory=radicale/collections` makes systemd chown the mounted
// dataset to the service's user at each start, which works for the package's `radicale` user. Under DynamicUser systemd
// would have to move that directory to /var/lib/private and put a symlink in its place, which it cannot do to a mount
// point: tried on this host, the service exits 238/STATE_DIRECTORY at every start.
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { htpasswdLine } from "../../components";
import { Host } from "../../components/host";
import { DebianPackages } from "../../components/packages";
import { SystemdService } from "../../components/systemd";
import { ZfsDataset } from "../../components/zfs";
import { APT_REPO_MOUNT } from "./aptrepo";
import { mustExec } from "./crash";
import { describeHost, startHost, TestHost } from "./harness";
import { calendarEvent, calendarRoundTrip, davClient, EXPOSURE_BUDGET, radicaleExposure, radicaleListening } from "./radicale-client";
import { ProgramRunner } from "./runner";

const COLLECTIONS = "/var/lib/radicale/collections";
const PASSWORD = `alice-${randomBytes(12).toString("hex")}`;
const EVENT_PATH = "/alice/calendar/proof.ics";

const EVENT = calendarEvent("-//hearth//radicale proof//EN", "hearth-radicale-proof@example.org", "hearth deployed Radicale");

function config(extra = ""): string {
    return [
        "[server]",
        "hosts = 0.0.0.0:5232",
        "",
        "[auth]",
        "type = htpasswd",
        "htpasswd_filename = /run/credentials/radicale.service/htpasswd",
        "htpasswd_encryption = md5",
        "",
        "[storage]",
        `filesystem_folder = ${COLLECTIONS}`,
        "",
        "[rights]",
        "type = owner_only",
        "",
        extra,
    ].join("\n");
}

interface Shape {
    /** Declare the SystemdService (false: the program without it). */
    readonly service: boolean;
    /** Extra config text appended to Radicale's config file. */
    readonly extra?: string;
    /** Keep the packaged radicale.service unmasked (a SystemdService declares it). @default true */
    readonly keep?: boolean;
}

describeHost("Radicale from Debian, deployed by hearth (issue 13's proof)", function () {
    this.timeout(600_000);
    let h: TestHost;
    /** The version the local repository serves, pinned and held. */
    let version: string;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const runner = new ProgramRunner();
    const timings: string[] = [];

    /** The whole site: a fresh Host per run, as each `pulumi up` is a fresh process (plan-time claims are per Host). */
    const program = (shape: Shape) => () => {
        const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, facts: { zfs: true } });
        const packages = new DebianPackages("radicale", {
            host,
            packages: [{ name: "radicale", version, hold: true }],
            keepUnits: shape.keep === false ? [] : ["radicale.service"],
        });
        const dataset = new ZfsDataset("radicale-data", { host, dataset: "tank/radicale", mountpoint: COLLECTIONS });
        if (!shape.service) return;
        new SystemdService("radicale", {
            host,
            unitName: "radicale.service",
            description: "Radicale CalDAV and CardDAV server",
            execStart: ["/usr/bin/radicale"],
            user: { name: "radicale", reason: "its collections are a dataset mounted where the package put them, which a DynamicUser state directory cannot be" },
            stateDirectory: "radicale/collections",
            network: "local",
            listenPorts: [5232],
            files: [{ target: "/etc/radicale/config", content: config(shape.extra) }],
            credentials: { htpasswd: pulumi.secret(PASSWORD).apply((p) => htpasswdLine("alice", p)) },
            requires: [dataset, packages],
        });
    };

    /** A timed `up`, its duration recorded for the report. */
    async function up(what: string, shape: Shape) {
        const started = Date.now();
        const r = await runner.up(program(shape));
        timings.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s (${r.runs.length} remote commands)`);
        return r;
    }

    const dav = davClient(() => h, "alice", PASSWORD);

    const unitState = async () => {
        const out = await sh("systemctl show -p InvocationID,ExecMainStartTimestamp,MainPID,NRestarts,ActiveState radicale.service");
        return Object.fromEntries(out.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    };
    const starts = async () => Number((await sh("journalctl -q -o cat -u radicale.service | grep -c '^Started ' || true")).trim());
    const listening = () => radicaleListening(h);
    const storedEvent = () => `${COLLECTIONS}/collection-root${EVENT_PATH}`;

    before(async () => {
        // The same repository as packages.test.ts (one cached build): radicale, its dependencies, and hello.
        h = await startHost({ name: "cal", aptPackages: ["radicale", "hello"] });
        assert.equal((await sh("cat /etc/apt/sources.list.d/* /etc/apt/sources.list 2>/dev/null || true")).trim(), `deb [trusted=yes] file:${APT_REPO_MOUNT} ./`, "the local repository is the host's only apt source");
        version = /Package: radicale\n(?:.*\n)*?Version: (\S+)/.exec(await sh(`cat ${APT_REPO_MOUNT}/Packages`))![1];
        await sh("systemctl is-active zfs-fuse && truncate -s 512M /var/lib/hearth-tank.img && zpool create tank /var/lib/hearth-tank.img");
    });
    after(async () => {
        if (timings.length) process.stderr.write(`radicale: ${timings.join("; ")}\n`);
        await h?.stop();
    });

    it("before: radicale is not installed on the host", async () => {
        const r = await h.exec("dpkg -s radicale");
        assert.notEqual(r.code, 0, "dpkg -s radicale fails");
        assert.match(r.stderr, /package 'radicale' is not installed/);
        assert.equal((await h.exec("test -e /etc/systemd/system/radicale.service || test -e /lib/systemd/system/radicale.service")).code, 1);
    });

    it("up: installed from the local repository, the unit is hearth's, alice writes an event and reads it back from the dataset", async () => {
        const r = await up("first up", { service: true });
        assert.deepEqual(r.created, ["radicale-packages", "radicale-data-dataset", "radicale-packages-lifecycle", "radicale-data-dataset-lifecycle", "radicale-converge", "radicale-converge-lifecycle"]);

        // The package, from the local repository, by apt.
        assert.equal(await sh("dpkg-query -W -f='${db:Status-Abbrev} ${Version}' radicale"), `hi  ${version}`, "installed (held) at the pinned version");
        assert.equal((await sh("apt-mark showhold")).trim(), "radicale", "held at its pinned version");
        assert.match(await sh("cat /var/log/apt/history.log"), /^Install: .*\bradicale:[a-z0-9]+ \(/m, "apt's history shows the install");
        assert.match(await sh("apt-cache policy radicale"), new RegExp(`\\*\\*\\* \\S+ \\d+\\n\\s+\\d+ file:${APT_REPO_MOUNT} \\./ Packages`), "installed from the local repository");
        assert.equal(await sh("dpkg --verify radicale"), "", "the packaged files, /etc/radicale/config included, are untouched");

        // radicale.service is hearth's unit, enabled and running (not masked, not the packaged one).
        assert.equal((await h.exec("systemctl is-enabled radicale.service")).stdout.trim(), "enabled");
        assert.equal((await sh("systemctl show -p FragmentPath --value radicale.service")).trim(), "/etc/systemd/system/radicale.service");
        assert.match(await sh("head -1 /etc/systemd/system/radicale.service"), /^# Managed by hearth/);
        assert.deepEqual(await unitState().then((s) => [s.ActiveState, s.NRestarts]), ["active", "0"]);

        timings.push(`listening ${(await listening()).toFixed(1)} s after the first up`);
        // A client on the host: the calendar, the event in it, the event back byte for byte; a wrong password is refused.
        await calendarRoundTrip(dav, "/alice/calendar/", EVENT_PATH, EVENT, PASSWORD);
        assert.equal((await dav("PUT", "/alice/calendar/intruder.ics", { body: EVENT, password: "wrong-password" })).status, 401);

        // The event is a file on the dataset, owned by the service's user and readable by no one else.
        assert.equal(await sh("zfs list -H -o name,mountpoint,mounted tank/radicale"), `tank/radicale\t${COLLECTIONS}\tyes\n`);
        assert.equal(await sh(`findmnt -n -o SOURCE -T ${storedEvent()}`), "tank/radicale\n");
        assert.equal(await sh(`cat ${storedEvent()}`), EVENT, "the stored file is the event");
        assert.equal(await sh(`stat -c '%a %U' ${COLLECTIONS} ${storedEvent()}`), "755 radicale\n600 radicale\n");

        // The htpasswd line is a credential: root-only at rest, the service user's alone at run time, in no plain file.
        assert.equal(await sh("stat -c '%a %U' /etc/credstore/radicale.service /etc/credstore/radicale.service/htpasswd"), "700 root\n600 root\n");
        const line = htpasswdLine("alice", PASSWORD);
        assert.equal(await sh("cat /etc/credstore/radicale.service/htpasswd"), line);
        assert.equal(await sh("stat -c '%a %U' /run/credentials/radicale.service /run/credentials/radicale.service/htpasswd"), "500 radicale\n400 radicale\n",
            "the credential in the service is its user's alone");
        assert.equal(await sh("grep -rlF -e 'alice:$apr1$' /etc /usr/local/etc /var/lib/hearth 2>/dev/null | grep -v '^/etc/credstore/' || true"), "", "the htpasswd line is in no other file");
        const conf = "/usr/local/etc/hearth/radicale.service/etc/radicale/config";
        assert.equal(await sh(`stat -c '%a %U' ${conf}`), "644 root\n");
        assert.equal(await sh(`cat ${conf}`), config());
        assert.doesNotMatch(await sh(`cat ${conf}`), new RegExp(PASSWORD));

        // The unit's exposure on the host, within the budget the policy pack applies.
        process.stderr.write(`radicale: systemd-analyze security radicale.service on the host: exposure ${await radicaleExposure(h)} (budget ${EXPOSURE_BUDGET})\n`);
    });

    it("a config change restarts the service exactly once, and the event is still there", async () => {
        const before = await unitState();
        const startsBefore = await starts();
        assert.equal((await dav("GET", "/.web/")).status, 200, "the web interface is on before the change");
        const r = await up("config change", { service: true, extra: "[web]\ntype = none\n" });
        assert.deepEqual([r.created, r.updated, r.replaced, r.deleted], [[], ["radicale-converge"], [], []]);
        assert.equal(r.runs.length, 1);
        const after = await unitState();
        assert.notEqual(after.InvocationID, before.InvocationID, "a new invocation");
        assert.notEqual(after.ExecMainStartTimestamp, before.ExecMainStartTimestamp);
        assert.notEqual(after.MainPID, before.MainPID);
        assert.deepEqual([after.ActiveState, after.NRestarts], ["active", "0"], "running, never restarted by a failure");
        assert.equal(await starts(), startsBefore + 1, "started exactly once more");
        timings.push(`listening ${(await listening()).toFixed(1)} s after the restart`);
        assert.notEqual((await dav("GET", "/.web/")).status, 200, "the new config is in effect: no web interface");
        const got = await dav("GET", EVENT_PATH);
        assert.equal(got.status, 200);
        assert.equal(got.body, EVENT);
    });

    it("a re-run of the same program runs nothing, and each converge script run directly changes nothing", async () => {
        const before = await unitState();
        const r = await up("re-run", { service: true, extra: "[web]\ntype = none\n" });
        assert.equal(r.runs.length, 0, "no remote command");
        assert.deepEqual([r.created, r.updated, r.replaced, r.deleted], [[], [], [], []]);
        const direct = async (name: string) => {
            const inputs = runner.resources.find((c) => c.name === name)!.inputs;
            const out = await h.exec(inputs.create, { stdin: inputs.stdin });
            assert.equal(out.code, 0, `${name}: ${out.stdout}${out.stderr}`);
            return out.stdout;
        };
        assert.match(await direct("radicale-packages"), /^hearth: packages unchanged$/m);
        assert.match(await direct("radicale-data-dataset"), /^hearth: tank\/radicale unchanged$/m);
        const svc = await direct("radicale-converge");
        assert.doesNotMatch(svc, /^hearth: (wrote|removed|restarted|reloaded|started)/m, svc);
        assert.deepEqual(await unitState(), before, "the same invocation: nothing restarted");
    });

    it("deleting the service removes its unit, config and credential; the package, the dataset and the event stay", async () => {
        const r = await up("service delete", { service: false });
        assert.deepEqual([r.created, r.updated, r.replaced, r.deleted.sort()], [[], [], [], ["radicale-converge", "radicale-converge-lifecycle"]]);
        for (const p of ["/etc/systemd/system/radicale.service", "/usr/local/etc/hearth/radicale.service", "/etc/credstore/radicale.service"]) {
            assert.equal((await h.exec(`test -e ${p}`)).code, 1, `${p} is gone`);
        }
        assert.notEqual((await h.exec("systemctl is-active radicale.service")).stdout.trim(), "active");
        // What is left is the packaged unit, disabled (hearth's delete disabled the name): it does not start at boot.
        assert.equal((await sh("systemctl show -p FragmentPath --value radicale.service")).trim(), "/lib/systemd/system/radicale.service");
        assert.equal((await h.exec("systemctl is-enabled radicale.service")).stdout.trim(), "disabled");
        assert.equal((await sh("ss -Hltn 'sport = :5232' | wc -l")).trim(), "0", "nothing listens on Radicale's port");
        assert.equal(await sh("dpkg-query -W -f='${db:Status-Abbrev} ${Version}' radicale"), `hi  ${version}`, "still installed and held");
        assert.equal(await sh("zfs list -H -o name,mounted tank/radicale"), "tank/radicale\tyes\n");
        assert.equal(await sh(`cat ${storedEvent()}`), EVENT, "the event is still on the dataset");
    });

    it("once no service declares it, dropping radicale.service from keepUnits masks the packaged unit; the data stays", async () => {
        const r = await up("unit no longer kept", { service: false, keep: false });
        assert.deepEqual([r.created, r.updated, r.replaced, r.deleted], [[], ["radicale-packages"], [], []]);
        assert.match(r.runs[0].stdout, /^hearth: mask radicale\.service$/m);
        assert.equal((await h.exec("systemctl is-enabled radicale.service")).stdout.trim(), "masked");
        assert.equal((await sh("ss -Hltn 'sport = :5232' | wc -l")).trim(), "0");
        await sh("dpkg -s radicale >/dev/null");
        assert.equal(await sh(`cat ${storedEvent()}`), EVENT);
    });
});
