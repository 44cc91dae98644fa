// The stdout protocols: what the emitted bash prints is what the parser reads back, and the plan recognises a script
// that prints it, bare or quoted into a command.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { NSPAWN_HOST_KEY, StdoutProtocol, WG_PUBLIC_KEY, ZFS_MOUNTPOINT } from "../../components/core/protocols";
import { RUNTIME } from "../../components/core/runtime";
import { isWgKey } from "../../components/core/vocab";
import * as fc from "fast-check";
import { shq } from "../../components/shell";

// The runtime's own hearth_say (the zfs mountpoint is printed through it).
const HEARTH_SAY = /^hearth_say\(\) \{.*\}$/m.exec(RUNTIME)![0];

const WG_KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+qnnike2m5POlPYFnbDLTNtnYYVDkPmTOStlmpVbyN";

const cases: { name: string; p: StdoutProtocol; value: string; emitted: string; word: (v: string) => string; bad: string[] }[] = [
    {
        name: "WireGuard public key",
        p: WG_PUBLIC_KEY,
        value: WG_KEY,
        emitted: `printf 'hearth-wg-public-key: %s\\n' "$hearth_pub"`,
        word: (v) => shq(v),
        bad: ["hearth-wg-public-key: short=", `hearth-wg-public-key: ${WG_KEY.slice(0, 42)}B=`, ` hearth-wg-public-key: ${WG_KEY}`, `hearth-wg-public-key: ${WG_KEY} `],
    },
    {
        name: "container SSH host key",
        p: NSPAWN_HOST_KEY,
        value: HOST_KEY,
        emitted: `printf 'hearth-nspawn-hostkey: %s\\n' "$hearth_pub"`,
        word: (v) => shq(v),
        bad: ["hearth-nspawn-hostkey: ssh-rsa AAAA", "hearth-nspawn-hostkey: ", `hearth-nspawn-hostkey: ${HOST_KEY} x`],
    },
    {
        name: "dataset mountpoint",
        p: ZFS_MOUNTPOINT,
        value: "/srv/app data",
        emitted: `hearth_say "mountpoint=$hearth_pub"`,
        word: (v) => `$(printf %s ${shq(v)})`,
        bad: ["hearth: mountpoint=", "hearth:  mountpoint=/x", "mountpoint=/x"],
    },
];

describe("core/protocols: stdout protocols", () => {
    for (const c of cases) {
        describe(c.name, () => {
            it("emits the exact bash the golden scripts hold", () => {
                assert.equal(c.p.emit(c.p === ZFS_MOUNTPOINT ? "$hearth_pub" : '"$hearth_pub"'), c.emitted);
            });

            it("parses what the emitted bash prints, among other lines", () => {
                const out = execFileSync("bash", ["-c", `${HEARTH_SAY}\necho 'hearth: before'\n${c.p.emit(c.word(c.value))}\necho 'hearth: after'`], { encoding: "utf8" });
                assert.ok(out.includes(`${c.p.marker}${c.value}\n`), out);
                assert.equal(c.p.parse(out), c.value);
            });

            it("parses the line it simulates, and nothing from empty or malformed output", () => {
                assert.equal(c.p.parse(`hearth: x\n${c.p.line(c.value)}\n`), c.value);
                assert.equal(c.p.parse(""), undefined);
                assert.equal(c.p.parse(undefined), undefined);
                for (const b of c.bad) assert.equal(c.p.parse(`${b}\n`), undefined, JSON.stringify(b));
            });

            it("recognises a script that prints it, bare and single-quoted into bash -c, and not one that does not", () => {
                const script = `#!/bin/bash\n${c.p.emit(c.word(c.value))}\n`;
                assert.ok(c.p.printedBy(script));
                assert.ok(c.p.printedBy(`sudo -n -- bash --noprofile --norc -c ${shq(script)}`));
                assert.ok(!c.p.printedBy("#!/bin/bash\nhearth_say done\n"));
            });
        });
    }

    it("no protocol recognises another's script", () => {
        for (const a of cases) {
            for (const b of cases) {
                if (a !== b) assert.ok(!b.p.printedBy(a.p.emit(a.word(a.value))), `${b.name} in ${a.name}`);
            }
        }
    });

    it("reads back exactly the WireGuard keys the argument rules accept (one pattern: vocab's WG_KEY_TEXT)", () => {
        const b64 = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split(""));
        const candidate = fc.oneof(
            fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString("base64")),
            fc.string({ unit: b64, minLength: 43, maxLength: 43 }).map((s) => `${s}=`),
            fc.string({ unit: fc.oneof(b64, fc.constantFrom("=", " ", "-")), minLength: 40, maxLength: 46 }),
        );
        fc.assert(fc.property(candidate, (key) => {
            assert.equal(WG_PUBLIC_KEY.parse(WG_PUBLIC_KEY.line(key)) === key, isWgKey(key), key);
        }), { numRuns: 500 });
        assert.equal(WG_PUBLIC_KEY.parse(WG_PUBLIC_KEY.line(WG_KEY)), WG_KEY);
        assert.equal(isWgKey(WG_KEY), true);
    });
});
