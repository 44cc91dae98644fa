// A service directory systemd chowns to the service's user never takes hearth's own tree (/var/lib/hearth's records,
// /run/hearth's locks) or a system tree: every reserved first segment of every directory argument, full unit and drop-in,
// is refused with a ResourceError naming the argument, the value and what is allowed, before anything registers.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import { join } from "path";
import { describe as shown } from "../../components/core/errors";
import { RESERVED_SERVICE_DIRECTORIES, SERVICE_DIRECTORY_ROOTS, serviceDirectoryAllowed, ServiceDirectoryKind } from "../../components/core/rules";
import { resolveServiceArgs, SystemdService, SystemdServiceArgs } from "../../components/systemd";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";
import { testHost } from "./scenarios";

const FIELDS: readonly (readonly [string, ServiceDirectoryKind])[] = [
    ["stateDirectory", "state"],
    ["cacheDirectory", "cache"],
    ["runtimeDirectory", "runtime"],
    ["logsDirectory", "logs"],
];

/** What the finding and the system need reserved, at least (the rule may reserve more). */
const REQUIRED: Record<ServiceDirectoryKind, readonly string[]> = {
    state: ["hearth", "private", "systemd", "dpkg", "apt", "ucf", "postgresql", "knot", "machines", "sudo", "polkit-1", "dbus"],
    runtime: ["hearth", "systemd", "user", "lock", "sshd", "dbus", "udev", "postgresql", "knot", "credentials", "host", "log", "mount"],
    logs: ["hearth", "journal", "private", "postgresql"],
    cache: ["hearth", "private", "apt", "debconf", "man"],
    configuration: ["hearth"],
};

const full = { description: "A service", execStart: ["/bin/sleep", "infinity"] };
const dropIn = { dropIn: { unit: "nginx.service" } };

describe("SystemdService reserved directory names", () => {
    const host = testHost();
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it("reserves hearth for every kind, and at least the system trees the review named", () => {
        for (const kind of Object.keys(REQUIRED) as ServiceDirectoryKind[]) {
            for (const n of REQUIRED[kind]) assert.ok(RESERVED_SERVICE_DIRECTORIES[kind].includes(n), `${n} is not reserved under ${SERVICE_DIRECTORY_ROOTS[kind]}`);
        }
    });

    it("the README lists exactly the reserved names of each argument", () => {
        const readme = readFileSync(join(__dirname, "../../components/systemd/README.md"), "utf8");
        for (const [field, kind] of FIELDS) {
            const row = readme.split("\n").find((l) => l.startsWith(`| \`${field}\` | ${SERVICE_DIRECTORY_ROOTS[kind]} |`));
            assert.ok(row, `no README row for ${field}`);
            assert.equal(row.split("|")[3].trim(), RESERVED_SERVICE_DIRECTORIES[kind].join(", "), field);
        }
    });

    for (const [field, kind] of FIELDS) {
        for (const form of ["a full unit", "a drop-in"] as const) {
            const base = form === "a full unit" ? full : dropIn;
            for (const reserved of RESERVED_SERVICE_DIRECTORIES[kind]) {
                for (const value of [reserved, `${reserved}/sub`]) {
                    it(`refuses ${field} ${JSON.stringify(value)} on ${form}, naming the argument, the value and what is allowed, registering nothing`, async () => {
                        const args = { host, ...base, [field]: value } as unknown as SystemdServiceArgs;
                        assert.throws(
                            () => new SystemdService("squat", args),
                            (e: unknown) => {
                                assert.ok(e instanceof pulumi.ResourceError, `not a ResourceError: ${e}`);
                                assert.ok(
                                    e.message.includes(`The '${field}' argument ${shown(value)} is not allowed: expected ${serviceDirectoryAllowed(kind)}`),
                                    `message: ${e.message}`,
                                );
                                assert.ok(e.message.includes(`reserved under ${SERVICE_DIRECTORY_ROOTS[kind]}`), e.message);
                                return true;
                            },
                        );
                        await settle();
                        assert.deepEqual(recorded.map((r) => `${r.type} ${r.name}`), []);
                    });
                }
            }
        }
    }

    it("refuses the reviewed case (runtimeDirectory and stateDirectory 'hearth'), and each of its two halves alone", () => {
        const cases: [Record<string, string>, string][] = [
            [{ runtimeDirectory: "hearth", stateDirectory: "hearth" }, "stateDirectory"],
            [{ runtimeDirectory: "hearth" }, "runtimeDirectory"],
            [{ stateDirectory: "hearth" }, "stateDirectory"],
        ];
        for (const [over, arg] of cases) {
            assert.throws(
                () => resolveServiceArgs("squat", { host, ...full, ...over } as SystemdServiceArgs),
                (e: unknown) => e instanceof Error && e.message.startsWith(`The '${arg}' argument "hearth" is not allowed: expected `),
                JSON.stringify(over),
            );
        }
    });

    it("accepts names that only start like a reserved one, a reserved name further down, and a name reserved only under another root", () => {
        const ok: Record<string, string>[] = [
            { stateDirectory: "hearth-dns-example", runtimeDirectory: "hearth-dns-example" },
            { stateDirectory: "knotty", runtimeDirectory: "knotty", logsDirectory: "knotty", cacheDirectory: "knotty" },
            { stateDirectory: "app/hearth", runtimeDirectory: "app/systemd", logsDirectory: "app/journal", cacheDirectory: "app/apt" },
            // "journal" is reserved under /var/log only, "lock" under /run only, "debconf" under /var/cache only.
            { stateDirectory: "journal", logsDirectory: "lock", runtimeDirectory: "debconf" },
            { stateDirectory: "Hearth.d" },
        ];
        for (const a of ok) {
            const r = resolveServiceArgs("svc", { host, ...full, ...a } as SystemdServiceArgs);
            for (const [k, v] of Object.entries(a)) assert.equal((r as unknown as Record<string, unknown>)[k], v, k);
        }
    });

    it("claims each directory's first segment per tree and host: a second service on it (or below it) is refused, naming both", async () => {
        const h = testHost();
        new SystemdService("one", { host: h, ...full, stateDirectory: "app", runtimeDirectory: "app", logsDirectory: "app", cacheDirectory: "app" } as SystemdServiceArgs);
        for (const [field, kind] of FIELDS) {
            for (const value of ["app", "app/sub"]) {
                assert.throws(
                    () => new SystemdService("two", { host: h, ...full, [field]: value } as unknown as SystemdServiceArgs),
                    (e: unknown) => {
                        assert.ok(e instanceof pulumi.ResourceError, `not a ResourceError: ${e}`);
                        assert.ok(e.message.includes(`The '${field}' argument ${shown(value)} is not allowed: expected `), e.message);
                        assert.match(e.message, new RegExp(`service directory ${SERVICE_DIRECTORY_ROOTS[kind].replace(/\//g, "\\/")}\\/app is already managed by .*one`));
                        return true;
                    },
                );
            }
        }
        // Another name, the same name on another host, and one service using one name in every tree are all fine.
        new SystemdService("three", { host: h, ...full, stateDirectory: "app2/sub" } as SystemdServiceArgs);
        new SystemdService("four", { host: testHost(), ...full, stateDirectory: "app", runtimeDirectory: "app" } as SystemdServiceArgs);
        await settle();
        assert.deepEqual(recorded.filter((r) => r.name === "two" || r.name.startsWith("two-")), []);
    });
});
