// NspawnContainer renderer: golden files, shellcheck, systemd-analyze on the drop-in, and the real systemd-nspawn parsing the .nspawn file.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { OwnerMark } from "../../components/core/owner";
import { NSPAWN_HOST_KEY } from "../../components/core/protocols";
import { ContainerSpec, parseStartMs, renderConverge as converge, renderDelete as del, renderDropIn as dropIn, renderFiles as files, renderNetworkFile, renderNspawnFile as nspawnFile } from "../../components/nspawn/render";
import { parseScriptFiles, frameStdin } from "../../components/shell";
import { checkScript, verifyUnits } from "../tools";
import { golden } from "./golden";

export const MARK: OwnerMark = { id: "hearth/home/hearth:nspawn:Container/web", aliases: ["hearth/home/hearth:nspawn:Container/old-web"], adopt: false };
const renderConverge = (c: ContainerSpec, m: OwnerMark = MARK) => converge(c, m);
const renderDelete = (c: ContainerSpec, m: OwnerMark = MARK) => del(c, m);
const renderDropIn = (c: ContainerSpec) => dropIn(c, MARK);
const renderFiles = (c: ContainerSpec) => files(c, MARK);
const renderNspawnFile = (c: ContainerSpec) => nspawnFile(c, MARK);

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+qnnike2m5POlPYFnbDLTNtnYYVDkPmTOStlmpVbyN ops@example";

export function webSpec(over: Partial<ContainerSpec> = {}): ContainerSpec {
    return {
        machine: "web",
        hostname: "web",
        rootfs: { kind: "copy", from: "/var/lib/machines/.base-bookworm" },
        network: { kind: "bridge", iface: "br-ct" },
        addresses: ["10.231.40.2/24", "fd9a:8c69:3554:1::2/64"],
        gateways: ["10.231.40.1"],
        binds: [{ source: "/srv/media", target: "/srv/media", readWrite: false }, { source: "/var/lib/web-data", target: "/data", readWrite: true }],
        capabilities: [{ name: "CAP_NET_ADMIN", reason: "runs its own WireGuard interface" }],
        memoryMaxMiB: 512,
        cpuQuotaPercent: 150,
        tasksMax: 1024,
        ephemeral: false,
        ownership: "auto",
        authorizedKey: KEY,
        destroyOnDelete: false,
        ...over,
    };
}

const macvlan = () => webSpec({ machine: "cache", hostname: "cache", network: { kind: "macvlan", iface: "eth0" }, rootfs: { kind: "zfs", dataset: "tank/machines/cache" }, binds: [], capabilities: [], cpuQuotaPercent: undefined, ephemeral: true, gateways: [] });

/** Runs the real systemd-nspawn on a settings file next to an empty directory: it parses the file, then refuses the tree. */
function nspawnParse(machine: string, text: string): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-nspawn-"));
    try {
        fs.mkdirSync(path.join(dir, machine));
        fs.writeFileSync(path.join(dir, `${machine}.nspawn`), text);
        const r = spawnSync("systemd-nspawn", ["-D", path.join(dir, machine), "--settings=trusted", "--register=no", "-q", "true"], { encoding: "utf8", timeout: 20_000 });
        const out = `${r.stdout}${r.stderr}`;
        assert.match(out, /doesn't look like it has an OS tree/, `nspawn did not get as far as the tree check:\n${out}`);
        return out.split("\n").filter((l) => l.includes(".nspawn"));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("nspawn/render", () => {
    it("renders .nspawn, drop-in and network files (golden)", () => {
        golden("web.nspawn", renderNspawnFile(webSpec()));
        golden("web-50-hearth.conf", renderDropIn(webSpec()));
        golden("web.network", renderNetworkFile(webSpec()));
        golden("cache.nspawn", renderNspawnFile(macvlan()));
        golden("cache.network", renderNetworkFile(macvlan()));
        const n = renderNspawnFile(webSpec());
        assert.match(n, /^PrivateUsers=pick$/m);
        assert.match(n, /^BindReadOnly=\/srv\/media$/m);
        assert.match(n, /^Bind=\/var\/lib\/web-data:\/data$/m);
        assert.match(n, /^# runs its own WireGuard interface\nCapability=CAP_NET_ADMIN$/m);
        assert.match(n, /^Private=yes\nVirtualEthernet=yes\nBridge=br-ct$/m);
    });

    it("renders the converge and delete scripts (golden); both pass bash -n and shellcheck", () => {
        for (const [name, spec] of [["web", webSpec()], ["cache", macvlan()]] as const) {
            const c = renderConverge(spec);
            golden(`${name}-converge.sh`, c.script);
            golden(`${name}-delete.sh`, renderDelete(spec));
            assert.deepEqual(checkScript(c.script), [], `${name} converge`);
            assert.deepEqual(checkScript(renderDelete(spec)), [], `${name} delete`);
        }
    });

    it("installs exactly the rendered files, read back from the script and its stdin", () => {
        const c = renderConverge(webSpec());
        const files = parseScriptFiles(c.script, frameStdin(c.files.map((f) => f.content)));
        assert.deepEqual(files.map((f) => f.path), renderFiles(webSpec()).map((f) => f.path));
        assert.deepEqual(files.map((f) => f.path), [
            "/etc/systemd/nspawn/web.nspawn",
            "/etc/systemd/system/systemd-nspawn@web.service.d/50-hearth.conf",
            "/var/lib/hearth/nspawn/web/etc_systemd_network_10-hearth.network",
            "/var/lib/hearth/nspawn/web/etc_hostname",
            "/var/lib/hearth/nspawn/web/root_.ssh_authorized_keys",
        ]);
        assert.equal(files[4].content, `${KEY}\n`);
    });

    it("keeps a copied rootfs unless destroyOnDelete, and never removes an existing or ZFS one itself", () => {
        assert.match(renderDelete(webSpec({ destroyOnDelete: true })), /rm -rf --one-file-system -- \/var\/lib\/machines\/web/);
        assert.doesNotMatch(renderDelete(webSpec()), /rm -rf --one-file-system/);
        assert.doesNotMatch(renderDelete(macvlan()), /rm -rf --one-file-system/);
        assert.doesNotMatch(renderDelete(webSpec({ rootfs: { kind: "existing" } })), /rm -rf --one-file-system/);
    });

    it("the drop-in passes systemd-analyze verify over the real systemd-nspawn@.service", function () {
        const template = ["/usr/lib/systemd/system/systemd-nspawn@.service", "/lib/systemd/system/systemd-nspawn@.service"].find((p) => fs.existsSync(p));
        if (!template) {
            if (process.env.CI === "true") throw new Error("systemd-container is not installed: systemd-nspawn@.service missing");
            this.skip();
        }
        const units = { "systemd-nspawn@web.service": fs.readFileSync(template!, "utf8"), "systemd-nspawn@web.service.d/50-hearth.conf": renderDropIn(webSpec()) };
        assert.deepEqual(verifyUnits(units), []);
        // The check can fail: a misspelt key in the drop-in is reported.
        const bad = { ...units, "systemd-nspawn@web.service.d/50-hearth.conf": renderDropIn(webSpec()).replace("TasksMax", "TaskMax") };
        assert.ok(verifyUnits(bad).some((l) => /Unknown key 'TaskMax'/.test(l)));
    });

    it("systemd-nspawn itself parses the .nspawn files without a complaint, and does complain about a bad one", () => {
        assert.deepEqual(nspawnParse("web", renderNspawnFile(webSpec())), []);
        assert.deepEqual(nspawnParse("cache", renderNspawnFile(macvlan())), []);
        const bad = nspawnParse("web", renderNspawnFile(webSpec()).replace("PrivateUsers=pick", "PrivateUsers=pikc").replace("Bridge=", "Bridgee="));
        assert.ok(bad.some((l) => /UID\/GID shift invalid/.test(l)), bad.join("\n"));
        assert.ok(bad.some((l) => /Bridgee/.test(l)), bad.join("\n"));
    });

    it("parses the host key and start time from the script's stdout", () => {
        const out = "hearth: wrote x\nhearth: container web running 734 ms after systemctl start\nhearth-nspawn-hostkey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+qnnike2m5POlPYFnbDLTNtnYYVDkPmTOStlmpVbyN\n";
        assert.equal(NSPAWN_HOST_KEY.parse(out), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+qnnike2m5POlPYFnbDLTNtnYYVDkPmTOStlmpVbyN");
        assert.equal(parseStartMs(out), 734);
        assert.equal(NSPAWN_HOST_KEY.parse("hearth-nspawn-hostkey: ssh-rsa AAAA"), undefined);
        assert.equal(parseStartMs("hearth: wrote x"), undefined);
    });

    it("refuses control characters in any rendered value", () => {
        assert.throws(() => renderNspawnFile(webSpec({ hostname: "web\nBind=/" })), /one line/);
        assert.throws(() => renderNspawnFile(webSpec({ capabilities: [{ name: "CAP_NET_ADMIN", reason: "x\n[Exec]" }] })), /one line/);
    });
});
