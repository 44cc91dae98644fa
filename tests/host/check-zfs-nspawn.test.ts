// Drift checks of ZfsDataset and NspawnContainer on a real test host (zfs-fuse, a container booted from a clone): a
// converged host checks clean; hand drift (a property set and one inherited, an unmounted dataset, a stopped
// container, a file edited inside its tree and a link planted in place of another) is reported exactly, the link never
// followed; a reapply clears it; and no check changes anything on the host.
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { ipv4HostAddress } from "../../components/net";
import { NspawnContainer } from "../../components/nspawn";
import { ZfsDataset } from "../../components/zfs";
import { mustExec } from "./crash";
import { checkHost, driftLines } from "./drift";
import { describeHost, startHost, TestHost } from "./harness";
import { BASE } from "./nspawn-base";
import { containerOutputsFromHosts, resetCommandOutputs } from "./outputs";
import { ProgramRunner } from "./runner";
import { generateKey, sshTempDir } from "./ssh";

const sha12 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex").slice(0, 12);
const ROOT = "/var/lib/machines/web";

describeHost("drift checks of a dataset and a container", function () {
    this.timeout(900_000);
    let h: TestHost;
    let cidr: string;
    const key = generateKey(sshTempDir(), "check-container-root", "hearth-check-test");
    const runner = new ProgramRunner();
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const program = (reapply: number) => () => {
        const host = new Host({
            name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, facts: { zfs: true },
            ...(reapply > 0 ? { reapply: { all: reapply } } : {}),
        });
        new ZfsDataset("data", { host, dataset: "tank/app", mountpoint: "/srv/app", compression: "gzip", atime: false, quotaMiB: 64 });
        new NspawnContainer("web", {
            host,
            machine: "web",
            rootfs: { zfs: { origin: "tank/base@bookworm", dataset: "tank/machines/web" } },
            network: { macvlan: "host0" },
            addresses: [cidr],
            privateUsersOwnership: "chown",
            ssh: { authorizedKey: key.publicKey, privateKey: pulumi.secret(key.privateKey) },
        });
    };
    const check = async () => driftLines(await checkHost(h, runner.resources));
    /** What a check must leave as it was: the datasets' own properties and mounts, every file hearth keeps (mode, owner, size, mtime), the files inside the tree, the container's invocation. */
    const state = () => sh([
        "zfs get -Hp -o name,property,value,source -s local all tank/app tank/machines/web",
        "zfs get -H -o name,property,value mounted,mountpoint,origin tank/app tank/machines/web",
        "systemctl show -p InvocationID -p ActiveState systemd-nspawn@web.service",
        "find /etc/systemd/nspawn /etc/systemd/system /var/lib/hearth /run/hearth /usr/local/lib/hearth -printf '%p %y %m %u %s %T@\\n' | LC_ALL=C sort",
        `cd ${ROOT} && stat -c '%n %F %a %u %s %.9Y %.9Z' etc/hostname etc/.hearth-container etc/systemd/network/10-hearth.network root/.ssh root/.ssh/authorized_keys etc/ssh/ssh_host_ed25519_key.pub`,
    ].join("\n"));
    /** Runs the check between two readings of the state and asserts it changed nothing; its drift lines. */
    const readOnlyCheck = async () => {
        const before = await state();
        const lines = await check();
        assert.equal(await state(), before, "the check changed nothing");
        return lines;
    };

    before(async () => {
        h = await startHost({ name: "chkzn" });
        cidr = ipv4HostAddress(`10.231.${h.index}.0/24`, 60);
        await sh(BASE);
        containerOutputsFromHosts(() => runner.resources.some((r) => r.name === "web-container"));
    });
    after(async () => {
        resetCommandOutputs();
        await h?.stop();
    });

    it("a converged host checks clean, and the check changes nothing", async () => {
        await runner.up(program(0));
        // The engine ran the container's converge before its placeholder was replaced: one more up settles the outputs.
        await runner.up(program(0));
        assert.equal((await sh("systemctl is-active systemd-nspawn@web.service")).trim(), "active");
        assert.deepEqual(await readOnlyCheck(), []);
    });

    it("reports each hand drift exactly, never follows a planted link, and changes nothing", async () => {
        await sh([
            "zfs set compression=lzjb tank/app",
            "zfs inherit atime tank/app",
            "zfs unmount tank/app",
            "systemctl stop systemd-nspawn@web.service",
            `echo edited >> ${ROOT}/etc/hostname`,
            `ln -sfn /etc/shadow ${ROOT}/root/.ssh/authorized_keys`,
        ].join(" && "));
        const lines = await readOnlyCheck();
        assert.deepEqual(lines, [
            "data-dataset: dataset tank/app atime: off -> on (default)",
            "data-dataset: dataset tank/app compression: gzip -> lzjb",
            "data-dataset: dataset tank/app mounted: at /srv/app -> not mounted",
            "web-container: unit systemd-nspawn@web.service active: active -> inactive",
            `web-container: ${ROOT}/etc/hostname content: sha256 ${sha12("web\n")} -> sha256 ${sha12("web\nedited\n")}`,
            `web-container: ${ROOT}/root/.ssh/authorized_keys: a file -> a link to /etc/shadow`,
        ]);
        assert.equal((await sh(`stat -c %F ${ROOT}/root/.ssh/authorized_keys`)).trim(), "symbolic link", "the link is left where it was");
    });

    it("a reapply clears it, and the next check is clean", async () => {
        const r = await runner.up(program(1));
        assert.ok(r.updated.includes("data-dataset") && r.updated.includes("web-container"), `reapply reruns the converges: ${r.updated}`);
        assert.equal((await sh("systemctl is-active systemd-nspawn@web.service")).trim(), "active");
        assert.equal((await sh(`stat -c %F ${ROOT}/root/.ssh/authorized_keys`)).trim(), "regular file");
        assert.equal((await sh("zfs get -H -o value compression,atime,mounted tank/app")), "gzip\noff\nyes\n");
        assert.deepEqual(await readOnlyCheck(), []);
    });
});
