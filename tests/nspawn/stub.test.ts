// NspawnContainer scripts run for real against stub tools in a private mount namespace: the converge copies the base,
// makes the identity and inner files as the tree's owner, records what it applied and re-runs without a restart; the
// delete keeps the data unless destroyOnDelete and leaves another resource's machine alone; hostile values (in
// rootfs.copyFrom and in the ownership mark) stay literal words that never execute.
import { strict as assert } from "assert";
import * as fs from "fs";
import { OwnerMark } from "../../components/core/owner";
import { ContainerSpec, renderConverge, renderDelete } from "../../components/nspawn/render";
import { frameStdin } from "../../components/shell";
import { checkScript } from "../tools";
import { webSpec } from "./render.test";
import { canStub, StubRun, stubRuns } from "./stub";

const MARK: OwnerMark = { id: "hearth/home/hearth:nspawn:Container/web", aliases: [], adopt: false };
const q = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;

function converge(c: ContainerSpec, mark: OwnerMark = MARK) {
    const r = renderConverge(c, mark);
    return { script: r.script, stdin: frameStdin(r.files.map((f) => f.content)) };
}

/** A base tree at `from`: enough of an OS for the script (usr, etc, an old identity that must be replaced). */
function baseSetup(from: string): string {
    return [
        `mkdir -p -- ${q(`${from}/usr`)} ${q(`${from}/etc/ssh`)} ${q(`${from}/root`)}`,
        `echo 0123456789abcdef0123456789abcdef > ${q(`${from}/etc/machine-id`)}`,
        `echo base-key > ${q(`${from}/etc/ssh/ssh_host_ed25519_key`)}`,
        `echo 'ssh-ed25519 AAAAbase base' > ${q(`${from}/etc/ssh/ssh_host_ed25519_key.pub`)}`,
    ].join("\n");
}

const ok = (r: StubRun, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);

describe("nspawn scripts against stub tools", function () {
    this.timeout(120_000);
    before(function () {
        if (!canStub()) {
            if (process.env.CI === "true") throw new Error("the stub runs need root and unshare");
            this.skip();
        }
    });

    it("converge: copies the base, makes a new identity, installs the inner files; the re-run changes and restarts nothing", () => {
        const spec = webSpec({ rootfs: { kind: "copy", from: "/srv/base" } });
        const c = converge(spec);
        const [first, again] = stubRuns(baseSetup("/srv/base"), [c, c]);
        ok(first, "first converge");
        assert.match(first.stdout, /hearth: copied \/srv\/base to \/var\/lib\/machines\/web/);
        assert.match(first.stdout, /^hearth-nspawn-hostkey: ssh-ed25519 AAAA[A-Za-z0-9+/]+=*$/m);
        assert.doesNotMatch(first.stdout, /AAAAbase/, "the base's host key is replaced");
        assert.match(first.tree, /^\/var\/lib\/machines\/web\/etc\/hostname f 644 root$/m);
        assert.match(first.tree, /^\/var\/lib\/machines\/web\/root\/.ssh\/authorized_keys f 600 root$/m);
        assert.match(first.tree, /^\/var\/lib\/machines\/web\/etc\/machine-id f 444 root$/m);
        assert.match(first.tree, /^\/var\/lib\/hearth\/applied\/nspawn\/web f 600 root$/m);
        assert.match(first.log, /^systemctl start systemd-nspawn@web.service$/m);
        ok(again, "re-run");
        assert.doesNotMatch(again.stdout, /wrote|copied/);
        assert.doesNotMatch(again.log, /systemctl stop/);
        assert.equal(again.stdout.match(/^hearth-nspawn-hostkey: .*$/m)?.[0], first.stdout.match(/^hearth-nspawn-hostkey: .*$/m)?.[0], "the same host key");
    });

    it("a tree owned by the container's uid range (below a 0700 /var/lib/machines) is read and written as that uid", () => {
        const spec = webSpec({ rootfs: { kind: "copy", from: "/srv/base" } });
        const c = converge(spec);
        const [first, again] = stubRuns(`${baseSetup("/srv/base")}\nchown -R 10485760:10485760 /srv/base`, [c, c]);
        ok(first, "first converge");
        for (const f of ["etc/hostname", "etc/.hearth-container", "etc/machine-id", "etc/ssh/ssh_host_ed25519_key", "root/.ssh/authorized_keys"]) {
            assert.match(first.tree, new RegExp(`^/var/lib/machines/web/${f.replace(/\./g, "\\.")} f \\d+ 10485760$`, "m"), f);
        }
        ok(again, "re-run");
        assert.doesNotMatch(again.stdout, /wrote|copied/);
        assert.doesNotMatch(again.log, /systemctl stop/);
    });

    it("renaming the machine within the resource retires the old one (stopped, disabled, settings gone) and keeps its tree", () => {
        const a = converge(webSpec({ rootfs: { kind: "copy", from: "/srv/base" } }));
        const b = converge(webSpec({ machine: "web2", hostname: "web2", rootfs: { kind: "copy", from: "/srv/base" } }));
        // An operator's copy of the settings (same owner line) is not this resource's machine: it is never retired.
        const [, renamed, again] = stubRuns(`${baseSetup("/srv/base")}`, [a, { script: `cp /etc/systemd/nspawn/web.nspawn /etc/systemd/nspawn/copy9.nspawn\ntouch /run/stub-active\n${b.script}`, stdin: b.stdin }, b]);
        ok(renamed, "renamed converge");
        assert.match(renamed.stdout, /retiring container web \(the machine of this resource is now web2\); its tree is kept/);
        const log = renamed.log.split("\n");
        assert.ok(log.indexOf("systemctl stop systemd-nspawn@web.service") >= 0, renamed.log);
        assert.ok(log.indexOf("systemctl stop systemd-nspawn@web.service") < log.indexOf("systemctl start systemd-nspawn@web2.service"), "the old one stops before the new one starts");
        assert.doesNotMatch(renamed.tree, /\/etc\/systemd\/nspawn\/web\.nspawn/);
        assert.match(renamed.tree, /\/etc\/systemd\/nspawn\/web2\.nspawn/);
        assert.match(renamed.tree, /\/var\/lib\/machines\/web\/usr/, "the old tree is kept");
        assert.match(renamed.tree, /\/etc\/systemd\/nspawn\/copy9\.nspawn/, "a copy carrying the same owner line is left alone");
        assert.doesNotMatch(renamed.log, /copy9/);
        ok(again, "re-run");
        assert.doesNotMatch(again.stdout, /retiring/);
    });

    it("a settings change stops the running container before its tree changes", () => {
        const a = converge(webSpec({ rootfs: { kind: "copy", from: "/srv/base" } }));
        const b = converge(webSpec({ rootfs: { kind: "copy", from: "/srv/base" }, memoryMaxMiB: 1024, hostname: "web2" }));
        const [, changed] = stubRuns(`${baseSetup("/srv/base")}`, [a, { script: `touch /run/stub-active\n${b.script}`, stdin: b.stdin }]);
        ok(changed, "changed converge");
        const log = changed.log.split("\n");
        const stop = log.indexOf("systemctl stop systemd-nspawn@web.service");
        const start = log.indexOf("systemctl start systemd-nspawn@web.service");
        assert.ok(stop >= 0, changed.log);
        // Stopped (the stub's unit is idle after a stop), the tree changes, then it starts again.
        assert.ok(start > stop, changed.log);
        assert.match(changed.stdout, /wrote \.\/etc\/hostname/);
    });

    it("delete keeps a copied rootfs unless destroyOnDelete; leaves another resource's machine alone", () => {
        const spec = webSpec({ rootfs: { kind: "copy", from: "/srv/base" } });
        const c = converge(spec);
        const other: OwnerMark = { id: "hearth/home/hearth:nspawn:Container/intruder", aliases: [], adopt: false };
        const [, kept, , refusedConverge, foreignDelete, destroyed] = stubRuns(baseSetup("/srv/base"), [
            c,
            { script: renderDelete(spec, MARK) },
            c,
            converge(spec, other),
            { script: renderDelete(spec, other) },
            { script: renderDelete({ ...spec, destroyOnDelete: true }, MARK) },
        ]);
        ok(kept, "delete");
        assert.match(kept.stdout, /kept \/var\/lib\/machines\/web/);
        assert.match(kept.tree, /^\/var\/lib\/machines\/web d /m);
        assert.doesNotMatch(kept.tree, /nspawn\/web\.nspawn|50-hearth\.conf|applied\/nspawn[^/ ]*\/web/);
        assert.equal(refusedConverge.code, 65, refusedConverge.stderr);
        assert.match(refusedConverge.stderr, /container web is owned by another resource \(hearth\/home\/hearth:nspawn:Container\/web\).*aliases/);
        ok(foreignDelete, "another resource's delete");
        assert.match(foreignDelete.stdout, /leaving it alone/);
        assert.match(foreignDelete.tree, /^\/etc\/systemd\/nspawn\/web\.nspawn f /m);
        assert.doesNotMatch(foreignDelete.log, /disable|stop/);
        ok(destroyed, "delete with destroyOnDelete");
        assert.doesNotMatch(destroyed.tree, /^\/var\/lib\/machines\/web/m);
        assert.doesNotMatch(destroyed.tree, /\/etc\/systemd\/nspawn\/web\.nspawn/);
    });

    it("adopt takes over a machine of another resource and rewrites its mark", () => {
        const spec = webSpec({ rootfs: { kind: "copy", from: "/srv/base" } });
        const adopter: OwnerMark = { id: "hearth/home/hearth:nspawn:Container/new", aliases: [], adopt: true };
        const [, adopted, oldDelete] = stubRuns(baseSetup("/srv/base"), [converge(spec), converge(spec, adopter), { script: renderDelete(spec, MARK) }]);
        ok(adopted, "adopting converge");
        assert.match(adopted.stdout, /adopting container web \(mark was 'hearth\/home\/hearth:nspawn:Container\/web'/);
        ok(oldDelete, "the old resource's delete");
        assert.match(oldDelete.stdout, /leaving it alone/);
        assert.match(oldDelete.tree, /^\/var\/lib\/hearth\/applied\/nspawn\/web f /m);
    });

    describe("canaries: hostile values stay one literal word", () => {
        const canaries = (n: string) => [
            `/srv/$(touch /tmp/CANARY-${n}-a)`,
            `/srv/\`touch /tmp/CANARY-${n}-b\``,
            `/srv/x'; touch /tmp/CANARY-${n}-c; '`,
            `/srv/x"; touch /tmp/CANARY-${n}-d; "`,
            `/srv/x\ntouch /tmp/CANARY-${n}-e\n`,
            `/srv/x && touch /tmp/CANARY-${n}-f`,
            `/srv/CANARY-GLOB-*`,
        ];
        const witnesses = (n: string) => ["a", "b", "c", "d", "e", "f"].map((x) => `/tmp/CANARY-${n}-${x}`);

        it("rootfs.copyFrom: bash -n, shellcheck, and a stub run that copies the literal directory", () => {
            const n = `${process.pid}-${Date.now()}`;
            for (const from of canaries(n)) {
                const spec = webSpec({ rootfs: { kind: "copy", from } });
                const c = converge(spec);
                assert.deepEqual(checkScript(c.script), [], from);
                assert.deepEqual(checkScript(renderDelete(spec, MARK)), [], from);
                const [conv, del] = stubRuns(`${baseSetup(from)}\nmkdir -p /srv/CANARY-GLOB-x/usr /srv/CANARY-GLOB-y/usr`, [c, { script: renderDelete({ ...spec, destroyOnDelete: true }, MARK) }]);
                ok(conv, `converge with copyFrom ${JSON.stringify(from)}`);
                assert.ok(conv.stdout.includes(`hearth: copied ${from} to /var/lib/machines/web`), `${JSON.stringify(from)}: ${conv.stdout}`);
                ok(del, `delete with copyFrom ${JSON.stringify(from)}`);
            }
            for (const w of witnesses(n)) assert.equal(fs.existsSync(w), false, `${w} was created: a canary ran`);
        });

        it("the ownership mark and aliases: quoted words, never code", () => {
            const n = `${process.pid}-${Date.now()}-m`;
            const mark: OwnerMark = { id: `p/s/$(touch /tmp/CANARY-${n}-a)/x'; touch /tmp/CANARY-${n}-b; '`, aliases: [`\`touch /tmp/CANARY-${n}-c\``], adopt: false };
            const spec = webSpec({ rootfs: { kind: "copy", from: "/srv/base" } });
            const c = converge(spec, mark);
            assert.deepEqual(checkScript(c.script), []);
            const [conv, del] = stubRuns(baseSetup("/srv/base"), [c, { script: renderDelete(spec, mark) }]);
            ok(conv, "converge");
            ok(del, "delete");
            for (const w of witnesses(n).slice(0, 3)) assert.equal(fs.existsSync(w), false, `${w} was created: a canary ran`);
        });
    });
});
