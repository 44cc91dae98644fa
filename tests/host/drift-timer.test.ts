// HostDriftTimer on a real host: converged after a HostFile and a SystemdService, its unit runs the host's own checks
// as root in its sandbox: on a matching host it succeeds and its journal says so; after a hand edit of the HostFile's
// file it fails (status 1) and its journal names the drift. Neither run changes anything: every file's mtime and
// content in the trees involved and hearth's applied state are the same after each run as before it.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { DRIFT_CHECK_PATH, DRIFT_UNIT, HostDriftTimer } from "../../components/drift";
import { HostFile } from "../../components/files";
import { Host } from "../../components/host";
import { SystemdService } from "../../components/systemd";
import { checkHost, driftLines } from "./drift";
import { mustExec } from "./crash";
import { describeHost, startHost, TestHost } from "./harness";
import { ProgramRunner } from "./runner";

const UNIT = `${DRIFT_UNIT}.service`;

describeHost("HostDriftTimer on a real host", function () {
    this.timeout(900_000);
    let h: TestHost;
    const runner = new ProgramRunner();

    const sh = (command: string): Promise<string> => mustExec(h, command);

    const program = () => {
        const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
        new HostFile("conf", { host, path: "/etc/dtapp/app.conf", content: "a = 1\n", createParents: true });
        new SystemdService("dt-app", { host, description: "Runs while the timer checks it", execStart: ["/bin/sleep", "infinity"] });
        new HostDriftTimer("drift", { host, onCalendar: "*-*-* 04:00:00" });
    };

    /** Every file below the trees the check reads (path, type, mode, size, mtime, content), and the app's InvocationID. */
    async function fingerprint(): Promise<string> {
        const files = await sh(
            "find /etc/dtapp /etc/systemd/system /usr/local/lib/hearth /var/lib/hearth -xdev -printf '%p %y %m %s %T@\\n' -type f -exec sha256sum {} + 2>/dev/null | sort",
        );
        return `${files}\n${await sh("systemctl show -p InvocationID dt-app.service")}`;
    }

    /** Starts the check unit once; its exit status and what that run wrote to the journal. */
    async function runCheck(): Promise<{ ok: boolean; status: string; journal: string }> {
        const before = await fingerprint();
        const started = await h.exec(`systemctl start ${UNIT}`);
        const id = (await sh(`systemctl show -p InvocationID --value ${UNIT}`)).trim();
        assert.match(id, /^[0-9a-f]{32}$/);
        await sh("journalctl --sync");
        const journal = await sh(`journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=${id}`);
        const status = (await sh(`systemctl show -p ExecMainStatus --value ${UNIT}`)).trim();
        assert.equal(await fingerprint(), before, "the check changed nothing");
        return { ok: started.code === 0, status, journal };
    }

    before(async () => {
        h = await startHost({ name: "drift-timer" });
        await sh("systemctl is-system-running --wait || true");
        await runner.up(program);
    });
    after(async () => {
        await h?.stop();
    });

    it("installs the check root-only and a timer on the schedule; `npm run check` finds the host matching", async () => {
        assert.equal((await sh(`stat -c '%a %U %G' ${DRIFT_CHECK_PATH}`)).trim(), "700 root root");
        assert.equal((await sh(`systemctl is-enabled ${DRIFT_UNIT}.timer; systemctl is-active ${DRIFT_UNIT}.timer`)).trim(), "enabled\nactive");
        assert.match(await sh(`systemctl show -p TimersCalendar --value ${DRIFT_UNIT}.timer`), /OnCalendar=\*-\*-\* 04:00:00/);
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
    });

    it("succeeds on a matching host and says so in the journal; fails with the drift in the journal after a hand edit", async () => {
        const clean = await runCheck();
        assert.ok(clean.ok, clean.journal);
        assert.equal(clean.status, "0");
        assert.match(clean.journal, /^hearth-check\tconf-file$/m);
        assert.match(clean.journal, /^hearth-check\tdt-app-converge$/m);
        assert.doesNotMatch(clean.journal, /^hearth-(drift|error)\t/m);
        assert.match(clean.journal, /^hearth: drift check: the host matches$/m);

        await sh("printf 'a = 2\\n' > /etc/dtapp/app.conf");
        const drifted = await runCheck();
        assert.ok(!drifted.ok, "the unit fails on drift");
        assert.equal(drifted.status, "1");
        assert.equal((await h.exec(`systemctl is-failed -q ${UNIT}`)).code, 0, "the unit is failed (for OnFailure= alerting)");
        const lines = drifted.journal.split("\n").filter((l) => l.startsWith("hearth-drift\t"));
        assert.deepEqual(lines.map((l) => l.replace(/\b[0-9a-f]{12}\b/g, "#")), ["hearth-drift\t/etc/dtapp/app.conf content\tsha256 #\tsha256 #"]);
        assert.match(drifted.journal, /^hearth: drift check: 1 difference\(s\), 0 resource\(s\) not checked to the end$/m);
        // What `npm run check` reports is the same one difference (the failed check unit is no drift of its own).
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)).map((l) => l.replace(/\b[0-9a-f]{12}\b/g, "#")), ["conf-file: /etc/dtapp/app.conf content: sha256 # -> sha256 #"]);
    });
});
