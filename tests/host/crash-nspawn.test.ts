// Crash points of NspawnContainer on a real test host: its converge (from nothing to a booted container) and its
// delete are killed after every step in turn (and once with stdout closed), re-run unchanged, and the host must equal
// a clean run: same files, modes and owners inside and outside the tree, the unit active (or gone) with the applied
// digest recorded, no leftovers. Each point resets cheaply: a fresh ZFS clone of the base snapshot (zfs-fuse) and the
// removal of the container's settings and state; the delete's reset adds one clean converge.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { ipv4HostAddress } from "../../components/net";
import { NspawnContainer } from "../../components/nspawn";
import { setCommandStdout } from "../mocks";
import { cleanRun, crashPoints, fileFacts, unitFacts, mustExec } from "./crash";
import { describeHost, startHost, TestHost } from "./harness";
import { BASE } from "./nspawn-base";
import { PLACEHOLDER_HOST_KEY_LINE } from "./outputs";
import { registeredCommands } from "./runner";
import { generateKey, sshTempDir } from "./ssh";

const M = "crash";
const ROOT = `/var/lib/machines/${M}`;
const UNIT = `systemd-nspawn@${M}.service`;

/** Back to nothing: the unit stopped and disabled, settings and state gone, a fresh clone of the base as the tree. */
const RESET = String.raw`set -euo pipefail
systemctl disable --now --quiet ${UNIT} 2>/dev/null || true
rm -f /etc/systemd/nspawn/${M}.nspawn /var/lib/hearth/applied/nspawn/${M} /var/lib/hearth/applied/nspawn-identity/${M} /var/lib/hearth/applied/nspawn-hostkey/${M}
rm -rf /etc/systemd/system/${UNIT}.d /var/lib/hearth/nspawn/${M} /var/lib/machines/.hearth-new-${M}
systemctl daemon-reload
zfs list -H -o name tank/machines >/dev/null 2>&1 || zfs create -o mountpoint=none tank/machines
if zfs list -H -o name tank/machines/${M} >/dev/null 2>&1; then
  for _ in $(seq 50); do zfs destroy -f tank/machines/${M} 2>/dev/null && break; sleep 0.2; done
fi
zfs list -H -o name tank/machines/${M} >/dev/null 2>&1 && { echo "could not destroy tank/machines/${M}" >&2; exit 1; }
rmdir ${ROOT} 2>/dev/null || true
zfs clone -o mountpoint=${ROOT} tank/base@bookworm tank/machines/${M}`;

const INNER = ["etc/hostname", "etc/systemd/network/10-hearth.network", "root/.ssh/authorized_keys", "etc/machine-id", "etc/.hearth-container"];
const KEYS = ["rsa", "ecdsa", "ed25519"].flatMap((t) => [`etc/ssh/ssh_host_${t}_key`, `etc/ssh/ssh_host_${t}_key.pub`]);
const HOST_FILES = [
    `/etc/systemd/nspawn/${M}.nspawn`,
    `/etc/systemd/system/${UNIT}.d/50-hearth.conf`,
    ...["etc_hostname", "etc_systemd_network_10-hearth.network", "root_.ssh_authorized_keys"].map((f) => `/var/lib/hearth/nspawn/${M}/${f}`),
    `/var/lib/hearth/applied/nspawn/${M}`,
    `/var/lib/hearth/applied/nspawn-identity/${M}`,
    `/var/lib/hearth/applied/nspawn-hostkey/${M}`,
];
/** Bytes that differ on every clean run too: the identity (token, keys, machine id) is compared by presence and mode. */
const RANDOM = [
    `${ROOT}/etc/machine-id`, `${ROOT}/etc/.hearth-container`, ...KEYS.map((k) => `${ROOT}/${k}`),
    `/var/lib/hearth/applied/nspawn-identity/${M}`, `/var/lib/hearth/applied/nspawn-hostkey/${M}`,
];

describeHost("NspawnContainer crash points", function () {
    this.timeout(3_600_000);
    let h: TestHost;
    let converge: { command: string; stdin?: string };
    let del: { command: string; stdin?: string };
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const fingerprint = async () => ({
        files: await fileFacts(h, [...HOST_FILES, ROOT, ...[...INNER, ...KEYS].map((f) => `${ROOT}/${f}`)], { random: RANDOM }),
        unit: (await unitFacts(h, [UNIT]))[UNIT],
        // No temp file in the tree or beside it, no half copy.
        leftovers: (await sh(`find ${ROOT}/etc ${ROOT}/root -name '.hearth.*' 2>/dev/null; ls -A /var/lib/machines | grep '^\\.hearth' || true`)).trim(),
        // The host key the script reports is the one in the tree.
        keyMatches: (await sh(`[ "$(cut -d' ' -f1,2 ${ROOT}/etc/ssh/ssh_host_ed25519_key.pub 2>/dev/null)" = "$(cat /var/lib/hearth/applied/nspawn-hostkey/${M} 2>/dev/null)" ] && echo yes || echo no`)).trim(),
    });

    before(async () => {
        h = await startHost({ name: "ctcrash" });
        const t0 = Date.now();
        await sh(BASE);
        process.stderr.write(`hearth crash-nspawn: base snapshot built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
        const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, facts: { zfs: true } });
        const key = generateKey(sshTempDir(), "crash-root", "hearth-crash-test");
        setCommandStdout((name) => (name.endsWith("-container") ? PLACEHOLDER_HOST_KEY_LINE : ""));
        const cmds = await registeredCommands(() => new NspawnContainer(M, {
            host,
            rootfs: { existing: true },
            network: { macvlan: "host0" },
            addresses: [ipv4HostAddress(`10.231.${h.index}.0/24`, 60)],
            privateUsersOwnership: "chown",
            memoryMaxMiB: 512,
            ssh: { authorizedKey: key.publicKey, privateKey: pulumi.secret(key.privateKey) },
        }));
        setCommandStdout();
        const c = cmds.find((x) => x.name === `${M}-container`)!;
        const l = cmds.find((x) => x.name === `${M}-container-lifecycle`)!;
        converge = { command: c.inputs.create, stdin: c.inputs.stdin };
        del = { command: l.inputs.delete, stdin: l.inputs.stdin };
    });
    after(async () => {
        await h?.stop();
    });

    it("converge: killed after any step (or with stdout closed), the re-run boots the same container", async () => {
        const report = await crashPoints(h, { name: "nspawn converge", reset: () => sh(RESET).then(() => undefined), run: converge, fingerprint });
        process.stderr.write(`hearth crash-nspawn: converge ${report.points} kill points in ${report.seconds.toFixed(0)} s\n`);
        assert.ok(report.points >= 15, `only ${report.points} kill points`);
        const fp = await fingerprint();
        assert.match(fp.unit, /ActiveState=active/);
        assert.equal(fp.keyMatches, "yes");
        assert.equal(fp.leftovers, "");
    });

    it("delete: killed after any step (or with stdout closed), the re-run removes the same things and keeps the tree", async () => {
        const report = await crashPoints(h, {
            name: "nspawn delete",
            reset: async () => {
                await sh(RESET);
                await cleanRun(h, converge, "converge before the delete");
            },
            run: del,
            fingerprint,
        });
        process.stderr.write(`hearth crash-nspawn: delete ${report.points} kill points in ${report.seconds.toFixed(0)} s\n`);
        assert.ok(report.points >= 8, `only ${report.points} kill points`);
        const fp = await fingerprint();
        assert.match(fp.unit, /ActiveState=inactive/);
        assert.ok(fp.files.some((l) => l.startsWith(`${ROOT}\tdir`)), "the tree is kept");
        assert.ok(fp.files.some((l) => l === `/etc/systemd/nspawn/${M}.nspawn\tabsent`));
    });
});
