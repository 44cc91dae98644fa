// hearth's own trees on a real host: a service can no longer be declared with hearth's (or the system's) directory as its
// StateDirectory=/RuntimeDirectory= (refused before any remote command), and a record tree that was handed to another
// user anyway (an earlier release, a hand-made unit) is never trusted: the converge stops naming the directory, the drift
// check reports the resource's error, and once root owns the tree again the converge goes on as before.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { parseCheckOutput, renderHostCheck } from "../../components/core/check";
import { Host } from "../../components/host";
import { SystemdService } from "../../components/systemd";
import { checksFor } from "./drift";
import { describeHost, startHost, TestHost } from "./harness";
import { mustExec } from "./crash";
import { ProgramRunner, registeredCommands, RemoteCommandError } from "./runner";

const SLEEP = ["/usr/bin/python3", "-c", "import time; time.sleep(1e9)"];
const RECORDS = "/var/lib/hearth/applied/systemd";

describeHost("hearth's record tree on a real host", function () {
    this.timeout(900_000);
    let h: TestHost;
    const runner = new ProgramRunner();
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const program = (version: string) => () => {
        const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
        new SystemdService("rec", { host, description: "A recorded service", execStart: SLEEP, environment: { VERSION: version } });
    };
    const invocation = async () => (await sh("systemctl show -p InvocationID --value rec.service")).trim();
    /** The refusal of a converge: a failed run whose stderr names the record and the directory that is not root's. */
    const refused = (dir: string) => (e: unknown) => {
        assert.ok(e instanceof RemoteCommandError, `not a failed remote command: ${e}`);
        assert.equal(e.run.resource, "rec-converge");
        assert.notEqual(e.run.code, 0);
        assert.match(e.run.stderr, new RegExp(`refusing to read the record /var/lib/hearth/applied/\\S+: ${dir.replace(/[/.]/g, "\\$&")} is a link, not a directory, or someone other than root can change it`));
        return true;
    };

    before(async () => {
        h = await startHost({ name: "resdirs" });
    });
    after(async () => { await h?.stop(); });

    it("refuses a service taking /run/hearth and /var/lib/hearth before any remote command runs", async () => {
        await assert.rejects(
            registeredCommands(() => {
                const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
                new SystemdService("squat", { host, description: "Squats hearth's trees", execStart: SLEEP, runtimeDirectory: "hearth", stateDirectory: "hearth" });
            }),
            /The 'stateDirectory' argument "hearth" is not allowed: expected .*reserved under \/var\/lib/,
        );
        assert.equal((await h.exec("test -e /etc/systemd/system/squat.service")).code, 1, "nothing was written");
    });

    it("converges, then refuses a record whose parent directory another user owns, in the converge and in the drift check", async () => {
        await runner.up(program("1"));
        assert.equal((await sh("systemctl is-active rec.service")).trim(), "active");
        assert.match(await sh(`ls ${RECORDS}`), /rec\.service/);
        const before = await invocation();

        // Planted by hand: the record's parent directory handed to an unprivileged user (nobody).
        await sh(`chown nobody ${RECORDS}`);
        await assert.rejects(runner.up(program("2")), refused(RECORDS));
        assert.equal(await invocation(), before, "nothing was restarted on a record nobody can trust");
        assert.match(await sh("systemctl show -p Environment --value rec.service"), /VERSION=1/, "the new unit was not applied either");

        // The drift check: the resource's checks stop with an error, the host's other checks go on (the script ends 0).
        const checks = checksFor(h, runner.resources);
        const r = await h.exec("bash --noprofile --norc -s", { stdin: renderHostCheck(h.name, checks) });
        assert.equal(r.code, 0, r.stderr);
        const reports = parseCheckOutput(r.stdout, checks.map((c) => c.resource));
        const rec = reports.find((x) => x.resource === "rec-converge");
        assert.ok(rec, `no report for rec-converge: ${r.stdout}`);
        assert.equal(rec.error, 65, `the check trusted the record: ${r.stdout}`);
        assert.match(r.stderr, new RegExp(`${RECORDS.replace(/[/.]/g, "\\$&")} is a link, not a directory, or someone other than root can change it`));

        // Group-writable is no better than another owner.
        await sh(`chown root ${RECORDS} && chmod 0770 ${RECORDS}`);
        await assert.rejects(runner.up(program("2")), refused(RECORDS));
        await sh(`chmod 0700 ${RECORDS}`);
    });

    it("refuses the finding's shape: /var/lib/hearth a link to private/hearth that a dynamic user owns", async () => {
        await sh([
            "mkdir -p /var/lib/private && chmod 0700 /var/lib/private",
            "mv /var/lib/hearth /var/lib/private/hearth",
            "ln -s private/hearth /var/lib/hearth",
            "chown -R 61234:61234 /var/lib/private/hearth",
        ].join(" && "));
        await assert.rejects(runner.up(program("2")), refused("/var/lib/hearth"));
        assert.match(await sh("systemctl show -p Environment --value rec.service"), /VERSION=1/);
        // Given back to root, the converge goes on: the change applies, and a re-run restarts nothing.
        await sh("rm /var/lib/hearth && mv /var/lib/private/hearth /var/lib/hearth && chown -R root:root /var/lib/hearth");
        await runner.up(program("2"));
        assert.match(await sh("systemctl show -p Environment --value rec.service"), /VERSION=2/);
        const after = await invocation();
        const runs = await runner.rerunCreate();
        assert.ok(runs.length > 0);
        for (const x of runs) assert.equal(x.code, 0, `${x.resource}: ${x.stderr}`);
        assert.equal(await invocation(), after, "a re-run restarts nothing");
    });
});
