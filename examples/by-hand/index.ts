// A hand-written hearth program: the components used directly, without the site config schema.
//
// It imports the package as any site does; in this repository tsconfig.json maps "pulumi-hearth" to components/.
import * as pulumi from "@pulumi/pulumi";
import { Host, PostgresDb, SystemdService, ZfsDataset } from "pulumi-hearth";

const config = new pulumi.Config();

// How to reach the machine. The private key must be a Pulumi secret: `pulumi config set --secret sshPrivateKey < key`.
// The host key is required and pins the machine: `pulumi config set hostKey "$(cat /etc/ssh/ssh_host_ed25519_key.pub)"`
// with the file copied from the NAS (or `ssh-keyscan -t ed25519 <address>` without the host name, checked on the NAS).
const nas = new Host({
    name: "nas",
    address: config.get("address") ?? "192.0.2.50",
    user: "ops",
    privateKey: config.requireSecret("sshPrivateKey"),
    hostKey: config.require("hostKey"),
    facts: { zfs: true, zfsCompression: ["off", "on", "lzjb", "gzip", "lz4"] },
});

// Family photos on their own dataset, snapshotted every hour; deleting this resource keeps the data.
const photos = new ZfsDataset("photos", {
    host: nas,
    dataset: "tank/photos",
    mountpoint: "/srv/photos",
    compression: "lz4",
    snapshots: { every: "hourly", keep: { hourly: 24, daily: 14 } },
});

// A gallery that may read the photos and nothing else, reachable from the LAN only.
const gallery = new SystemdService(
    "gallery",
    {
        host: nas,
        description: "Photo gallery (read-only)",
        execStart: ["/usr/bin/python3", "-m", "http.server", "8080", "--directory", "/srv/photos"],
        bindReadOnlyPaths: ["/srv/photos"],
        network: "local",
        listenPorts: [8080],
        memoryMaxMiB: 256,
    },
    { dependsOn: [photos] },
);

// Its database, on a dataset of its own (8 KiB records, like PostgreSQL's pages), with a pooled connection.
const db = new PostgresDb("gallery-db", {
    host: nas,
    database: "gallery",
    clients: ["192.168.1.0/24"],
    tablespace: { dataset: "tank/pg/gallery", compression: "lz4" },
    pooler: { port: 6432 },
});

export const hosts = { nas: pulumi.interpolate`${nas.user}@${nas.address}:${nas.port}` };
export const galleryUnit = gallery.unitName;
export const photosPath = photos.mountpoint;
export const databaseUri = db.uri; // a secret: `pulumi stack output --show-secrets databaseUri`
