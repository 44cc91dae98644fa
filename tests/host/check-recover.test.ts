// README, "Recovering from a failed up": a new version that cannot start fails half-way; the program is reverted, and
// the engine, diffing against the state it kept (the last successful inputs), runs nothing. The host is left with the
// failed version, invisible to `pulumi refresh`. The drift check sees it, a reapply makes the engine run the reverted
// converge, and the next check is clean.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { SystemdService } from "../../components/systemd";
import { checkHost, driftLines } from "./drift";
import { describeHost, startHost, TestHost } from "./harness";
import { ProgramRunner, RemoteCommandError } from "./runner";

describeHost("the drift check after a failed up and a reverted program, and the reapply that finishes it", function () {
    this.timeout(600_000);
    let h: TestHost;
    before(async () => { h = await startHost({ name: "recover" }); });
    after(async () => { await h?.stop(); });

    it("check shows the failed version left on the host; reapply and up converge the reverted program; check is clean", async () => {
        const runner = new ProgramRunner();
        const service = (execStart: string[], reapply = 0) => () => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, ...(reapply ? { reapply: { all: reapply } } : {}) });
            new SystemdService("ticker", { host, description: "Sleeps", execStart });
        };
        const v1 = service(["/usr/bin/sleep", "infinity"]);
        const v2 = service(["/usr/bin/hearth-no-such-binary"]);
        await runner.up(v1);
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);

        await assert.rejects(runner.up(v2), (e: unknown) => e instanceof RemoteCommandError && e.run.resource === "ticker-converge");
        const reverted = await runner.up(v1);
        assert.equal(reverted.runs.length, 0, "the engine runs nothing for the reverted program");

        // Checked against the reverted program: v2's unit file and a service that is not running.
        const found = driftLines(await checkHost(h, runner.resources)).map((l) => l.replace(/\b[0-9a-f]{12}\b/g, "#").replace(/-> (failed|activating)$/, "-> (failed or restarting)"));
        assert.deepEqual(found, [
            "ticker-converge: /etc/systemd/system/ticker.service content: sha256 # -> sha256 #",
            "ticker-converge: unit ticker.service active: active -> (failed or restarting)",
            "ticker-converge: unit ticker.service applied content: as hearth last applied it -> its files changed since",
        ]);

        const again = await runner.up(service(["/usr/bin/sleep", "infinity"], 1));
        assert.deepEqual(again.updated, ["ticker-converge"], "the reapply counter runs the converge once more");
        assert.equal((await h.exec("systemctl is-active ticker.service")).stdout.trim(), "active");
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
    });
});
