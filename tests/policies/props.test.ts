// The recorded-props types the policies are written against (components/core/props.ts) name exactly the keys each
// real component records under the mocks: a component that records a new or renamed key fails here, and a type that
// gains or loses a key fails to compile (each key list below must list the type's keys, no more, no fewer).
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import type { ContainerProps, DatabaseProps, DatasetProps, LinkProps, RemoteCommandProps, ServiceProps, ZoneProps } from "../../components/core/props";
import { DnsZone } from "../../components/dns";
import { NspawnContainer } from "../../components/nspawn";
import { PostgresDb } from "../../components/postgres";
import { SystemdService } from "../../components/systemd";
import { CONTAINER_TYPE, DATABASE_TYPE, DATASET_TYPE, REMOTE_COMMAND_TYPE, SERVICE_TYPE, WIREGUARD_TYPE, ZONE_TYPE } from "../../components/tokens";
import { WireguardLink } from "../../components/wireguard";
import { ZfsDataset } from "../../components/zfs";
import { installMocks } from "../mocks";
import { declare, fixtureHost } from "./fixtures";

/** Every key of T, each marked optional or not; `satisfies` makes the list exactly T's keys. */
type Keys<T> = { readonly [K in keyof T]-?: undefined extends T[K] ? "optional" : "required" };

const SERVICE = {
    name: "required", unitName: "required", dropIn: "optional", description: "optional", execStart: "required", environment: "required", identity: "required",
    stateDirectory: "optional", cacheDirectory: "optional", runtimeDirectory: "optional", logsDirectory: "optional", bindPaths: "required",
    bindReadOnlyPaths: "required", readWritePaths: "required", network: "required", listenPorts: "required", memoryMaxMiB: "optional",
    cpuQuotaPercent: "optional", tasksMax: "optional", oomPolicy: "required", restart: "required", restartSec: "required", credentials: "required",
    timer: "optional", socket: "optional", loosen: "required", hostname: "optional", enable: "required", startWhenExists: "optional", type: "required",
    execReload: "required", workingDirectory: "optional", environmentFile: "optional", files: "required", after: "required", requires: "required",
    wants: "required", host: "required", unitText: "required", hash: "required",
} as const satisfies Keys<ServiceProps>;
const CONTAINER = {
    host: "required", machine: "required", rootfs: "required", network: "required", addresses: "required", binds: "required", capabilities: "required",
    limits: "required", ephemeral: "required", destroyOnDelete: "required", owner: "required",
} as const satisfies Keys<ContainerProps>;
const DATASET = {
    host: "required", dataset: "required", properties: "required", userProperties: "required", encryption: "required", adopt: "required",
    previousNames: "required", origin: "optional", snapshots: "optional", destroyOnDelete: "required", recursive: "required",
} as const satisfies Keys<DatasetProps>;
const DATABASE = {
    host: "required", database: "required", user: "required", port: "required", extensions: "required", schemas: "required", grants: "required",
    clients: "required", authMethod: "required", pooler: "optional", tablespaceDataset: "optional", passwordVersion: "required", adopt: "required",
    destroyOnDelete: "required",
} as const satisfies Keys<DatabaseProps>;
const LINK = {
    interfaceName: "required", network: "required", mtu: "required", keepaliveSec: "optional", keyVersion: "required", presharedKey: "required", sides: "required",
} as const satisfies Keys<LinkProps>;
const ZONE = {
    zone: "required", backend: "required", ttl: "required", public: "required", allowPrivate: "required", allowWildcard: "required", records: "required",
    serviceRecords: "required",
} as const satisfies Keys<ZoneProps>;
const COMMAND = {
    connection: "required", create: "optional", update: "optional", delete: "optional", stdin: "optional", environment: "optional", triggers: "optional",
    addPreviousOutputInEnv: "optional", logging: "optional",
} as const satisfies Keys<RemoteCommandProps>;

const KEYS: Record<string, Record<string, "optional" | "required">> = {
    [SERVICE_TYPE]: SERVICE, [CONTAINER_TYPE]: CONTAINER, [DATASET_TYPE]: DATASET, [DATABASE_TYPE]: DATABASE, [WIREGUARD_TYPE]: LINK, [ZONE_TYPE]: ZONE,
    [REMOTE_COMMAND_TYPE]: COMMAND,
};

describe("recorded props types (components/core/props.ts)", () => {
    before(() => installMocks());

    it("name every key each component and its commands record, and only those", async () => {
        const host = fixtureHost();
        const d = await declare(() => {
            new SystemdService("web", { host, description: "web", execStart: ["/usr/bin/web"], stateDirectory: "web", memoryMaxMiB: 256, hostname: "web.home.arpa", timer: { onCalendar: "daily" }, user: { name: "app", reason: "owns files in /srv/app already" } } as any);
            new SystemdService("drop", { host, dropIn: { unit: "nginx.service" }, loosen: { privateDevices: { reason: "talks to a USB serial device" } } } as any);
            new NspawnContainer("ct", { host, rootfs: { copyFrom: "/var/lib/machines/.base" }, network: { bridge: "br0" }, addresses: ["10.1.0.2/24"], ssh: { authorizedKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+qnnike2m5POlPYFnbDLTNtnYYVDkPmTOStlmpVbyN ops", privateKey: pulumi.secret("k") }, cpuQuotaPercent: 50, capabilities: [{ name: "CAP_NET_ADMIN", reason: "runs its own tunnel" }] });
            new ZfsDataset("data", { host, dataset: "tank/app" });
            new PostgresDb("db", { host, database: "app", user: "app", clients: ["10.0.0.0/8"] } as any);
            new WireguardLink("wg", { interfaceName: "wg-sites", hub: { host, endpoint: "10.0.0.2:51820", subnets: ["10.10.0.0/16"] }, peers: [{ host: fixtureHost({ name: "cabin" }) }] } as any);
            new DnsZone("z", { zone: "example.org", backend: { kind: "cloudflare", zoneId: "0123456789abcdef0123456789abcdef" }, records: [{ name: "www", type: "A", value: "203.0.113.7" }] } as any);
        });
        const seen = new Set<string>();
        for (const r of d.resources) {
            const keys = KEYS[r.type];
            if (!keys) continue;
            seen.add(r.type);
            const recorded = Object.keys(r.inputs);
            assert.deepEqual(recorded.filter((k) => !(k in keys)), [], `${r.type} ${r.name} records keys its props type does not name`);
            assert.deepEqual(Object.keys(keys).filter((k) => keys[k] === "required" && !recorded.includes(k)), [], `${r.type} ${r.name} does not record keys its props type requires`);
        }
        assert.deepEqual([...seen].sort(), Object.keys(KEYS).sort(), "every props type was checked against a real resource");
    });
});
