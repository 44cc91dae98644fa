// hearth-systemd-no-new-privileges: units set NoNewPrivileges=yes; remediation adds it and keeps the stdin framing right.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { systemdNoNewPrivileges as policy } from "../../../policies/systemd/no-new-privileges";
import type { RemoteCommandProps } from "../../../components/core/props";
import { installedFiles, unwrapCommand } from "../../../policies/lib/commands";
import { installMocks } from "../../mocks";
import { commandArgs, remediation, unitFile, violations } from "../fixtures";
import { assertMetadata } from "../metadata";
import { LOCKED_UNIT, lockedWith, realConverge } from "./unit-texts";

const OPEN = "[Unit]\nDescription=open\n\n[Service]\nUser=app\nExecStart=/usr/bin/app\n";

describe("hearth-systemd-no-new-privileges", () => {
    before(() => installMocks());

    it("has its metadata (remediate by default)", () => assertMetadata(policy, "hearth-systemd-no-new-privileges", "remediate"));

    it("passes the unit a real SystemdService installs", async () => {
        assert.deepEqual(await violations(policy, realConverge()), []);
    });

    it("passes units that set it or get it from DynamicUser=", async () => {
        assert.deepEqual(await violations(policy, commandArgs({ files: [unitFile("a.service", LOCKED_UNIT)] })), []);
        assert.deepEqual(await violations(policy, commandArgs({ files: [unitFile("b.service", "[Service]\nDynamicUser=yes\nExecStart=/usr/bin/app\n")] })), []);
    });

    it("leaves an explicit NoNewPrivileges=no to the loosening rules", async () => {
        const text = lockedWith({ DynamicUser: ["User=app"], NoNewPrivileges: ["NoNewPrivileges=no"] });
        assert.deepEqual(await violations(policy, commandArgs({ files: [unitFile("a.service", text)] })), []);
    });

    it("flags a unit that does not mention it", async () => {
        const v = await violations(policy, commandArgs({ files: [unitFile("open.service", OPEN)] }));
        assert.deepEqual(v, ["Unit open.service does not set NoNewPrivileges=yes, so its processes can gain privileges through setuid binaries and file capabilities."]);
    });

    it("remediates by adding the line, keeping the other files and secret frames in place", async () => {
        const other = { path: "/etc/app/app.conf", content: "listen = 8080\n", mode: 0o640 };
        const args = commandArgs({ files: [other, unitFile("open.service", OPEN)], secrets: ["s3cr3t-value"] });
        const fixed = await remediation(policy, args);
        assert.ok(fixed);
        const files = installedFiles(fixed as RemoteCommandProps);
        assert.equal(files[0].content, other.content);
        assert.equal(files[1].content, OPEN.replace("[Service]\n", "[Service]\nNoNewPrivileges=yes\n"));
        assert.deepEqual(await violations(policy, { ...args, props: fixed }), []);
        // The real script still installs exactly these bodies from the rewritten stdin.
        // The runtime writes only below directories root alone can change (not /tmp).
        fs.mkdirSync("/run/hearth-spec", { recursive: true, mode: 0o700 });
        const root = fs.mkdtempSync("/run/hearth-spec/nnp-");
        try {
            const script = unwrapCommand(fixed.create).replace(/hearth_install '?\/etc\//g, `hearth_install ${root}/etc/`).replace(/\/run\/fixture-secret/g, `${root}/secret`).replace(/ root root$/gm, ` ${os.userInfo().username} ${os.userInfo().username}`);
            const r = spawnSync("bash", ["-c", script], { input: fixed.stdin, encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            assert.equal(fs.readFileSync(path.join(root, "etc/systemd/system/open.service"), "utf8"), files[1].content);
            assert.equal(fs.readFileSync(path.join(root, "secret-0"), "utf8"), "s3cr3t-value");
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("does not remediate a waived resource", async () => {
        const args = commandArgs({ files: [unitFile("open.service", OPEN)] }, { config: { waivers: [{ resource: "fixture-converge", reason: "vendor helper needs setuid ping" }] } });
        assert.equal(await remediation(policy, args), undefined);
        assert.deepEqual(await violations(policy, args), []);
    });
});
