// The drift check of SystemdService, HostFile and DebianPackages on a real host: converged, the check reports nothing;
// drifted by hand (a service stopped and disabled, its unit file edited and reloaded, its credential's mode changed,
// a HostFile edited, another service's unit file rewritten without a daemon-reload, a package's hold released) it
// reports exactly those; a reapply and `up` clear them. No check changes anything: every file's mtime and content in
// the trees involved, hearth's applied state and each unit's InvocationID are the same after it as before.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { HostFile } from "../../components/files";
import { Host } from "../../components/host";
import { DebianPackages } from "../../components/packages";
import { SystemdService } from "../../components/systemd";
import { checkHost, driftLines } from "./drift";
import { mustExec } from "./crash";
import { describeHost, startHost, TestHost } from "./harness";
import { ProgramRunner } from "./runner";

const TOKEN = "drift-token-0123456789abcdef";
const UNITS = ["drift-app.service", "drift-job.service"];

describeHost("drift check of services, host files and packages on a real host", function () {
    this.timeout(900_000);
    let h: TestHost;
    const runner = new ProgramRunner();

    const sh = (command: string): Promise<string> => mustExec(h, command);

    function program(reapply = 0): () => void {
        return () => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, ...(reapply ? { reapply: { all: reapply } } : {}) });
            new DebianPackages("pk", { host, packages: [{ name: "hello", hold: true }] });
            new HostFile("extra", { host, path: "/etc/driftapp/extra.conf", content: "extra = 1\n" });
            new SystemdService("drift-app", {
                host,
                description: "Reads a token and a config file",
                execStart: ["/bin/sleep", "infinity"],
                credentials: { token: pulumi.secret(TOKEN) },
                files: [{ target: "/etc/driftapp/settings", content: "a = 1\n" }],
            });
            new SystemdService("drift-job", { host, description: "Runs beside it", execStart: ["/bin/sleep", "infinity"] });
        };
    }

    /** Every file below the trees a check could touch (mtime, mode, size, content), and each unit's InvocationID. */
    async function fingerprint(): Promise<string> {
        const files = await sh(
            "find /etc/systemd/system /etc/credstore /etc/driftapp /usr/local/etc/hearth /var/lib/hearth /run/hearth /var/lib/dpkg/status -xdev " +
                "-printf '%p %y %m %s %T@\\n' -type f -exec sha256sum {} + 2>/dev/null | sort",
        );
        const ids = await sh(`systemctl show -p Id -p InvocationID ${UNITS.join(" ")}`);
        return `${files}\n${ids}`;
    }

    /** The drift the host's checks report, hashes (12 hex digits) written as '#'; asserting the check changed nothing. */
    async function drift(): Promise<string[]> {
        const before = await fingerprint();
        const reports = await checkHost(h, runner.resources);
        assert.equal(await fingerprint(), before, "the check changed nothing");
        return driftLines(reports).map((l) => l.replace(/\b[0-9a-f]{12}\b/g, "#"));
    }

    before(async () => {
        h = await startHost({ name: "check-sd", aptPackages: ["radicale", "hello", "memcached"] });
        await sh("systemctl is-system-running --wait || true");
        // The config file's target (systemd binds onto it) and the HostFile's directory: as a package would ship them.
        await sh("mkdir -p /etc/driftapp && touch /etc/driftapp/settings");
        await runner.up(program());
    });
    after(async () => {
        await h?.stop();
    });

    it("reports nothing on a converged host", async () => {
        assert.equal((await sh(`systemctl is-active ${UNITS.join(" ")}`)).trim(), "active\nactive");
        assert.deepEqual(await drift(), []);
    });

    it("reports exactly what was changed by hand, and nothing after a reapply and up", async () => {
        await sh(
            [
                "sed -i 's/^Description=.*/Description=edited by hand/' /etc/systemd/system/drift-app.service",
                "systemctl daemon-reload",
                "systemctl disable -q drift-app.service",
                "systemctl stop drift-app.service",
                "chmod 0644 /etc/credstore/drift-app.service/token",
                "printf 'extra = 2\\n' > /etc/driftapp/extra.conf",
                // A new unit file written over the old one (its header, hence its owner mark, kept), without a daemon-reload.
                "{ head -n 2 /etc/systemd/system/drift-job.service; printf '[Service]\\nExecStart=/bin/sleep 1000\\n[Install]\\nWantedBy=multi-user.target\\n'; } > /etc/systemd/system/drift-job.service.new",
                "mv /etc/systemd/system/drift-job.service.new /etc/systemd/system/drift-job.service",
                "apt-mark unhold hello >/dev/null",
            ].join(" && "),
        );
        // In any order of resources (the program registers its converges as their inputs resolve).
        assert.deepEqual((await drift()).sort(), [
            "pk-packages: package hello hold: held -> not held",
            "extra-file: /etc/driftapp/extra.conf content: sha256 # -> sha256 #",
            "drift-app-converge: /etc/systemd/system/drift-app.service content: sha256 # -> sha256 #",
            "drift-app-converge: /etc/credstore/drift-app.service/token mode: 0600 -> 0644",
            "drift-app-converge: unit drift-app.service enabled: enabled -> disabled",
            "drift-app-converge: unit drift-app.service active: active -> inactive",
            "drift-app-converge: unit drift-app.service applied content: as hearth last applied it -> its files changed since",
            "drift-job-converge: /etc/systemd/system/drift-job.service content: sha256 # -> sha256 #",
            "drift-job-converge: unit drift-job.service NeedDaemonReload: no -> yes",
            "drift-job-converge: unit drift-job.service applied content: as hearth last applied it -> its files changed since",
        ].sort());

        const up = await runner.up(program(1));
        assert.deepEqual(up.updated.sort(), ["drift-app-converge", "drift-job-converge", "extra-file", "pk-packages"], "the reapply runs every converge again");
        assert.deepEqual(await drift(), []);
        assert.equal((await sh(`systemctl is-active ${UNITS.join(" ")}; apt-mark showhold`)).trim(), "active\nactive\nhello");
    });
});
