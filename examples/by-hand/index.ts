// A hand-written hearth program: the components used directly, without the site config schema.
//
// It imports the package as any site does; in this repository tsconfig.json maps "pulumi-hearth" to components/.
import * as pulumi from "@pulumi/pulumi";
import { DebianPackages, Host, HostFile, htpasswdLine, PostgresDb, SystemdService, ZfsDataset } from "pulumi-hearth";

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

// A gallery that may read the photos and nothing else, reachable from the LAN only. `requires` takes the dataset
// itself: the unit gets RequiresMountsFor=/srv/photos, and the dataset is created before the service.
const gallery = new SystemdService("gallery", {
    host: nas,
    description: "Photo gallery (read-only)",
    execStart: ["/usr/bin/python3", "-m", "http.server", "8080", "--directory", "/srv/photos"],
    bindReadOnlyPaths: ["/srv/photos"],
    network: "local",
    listenPorts: [8080],
    memoryMaxMiB: 256,
    requires: [photos],
});

// Calendars and contacts: Radicale from Debian's package. Every unit a package ships is masked unless kept; the
// SystemdService below is named like the packaged radicale.service and replaces it, so that unit is kept.
const radicalePkg = new DebianPackages("radicale-pkg", {
    host: nas,
    packages: ["radicale"],
    keepUnits: ["radicale.service"],
});

// Its collections on their own dataset, mounted where the package keeps them.
const calendars = new ZfsDataset("calendars", {
    host: nas,
    dataset: "tank/radicale",
    mountpoint: "/var/lib/radicale/collections",
    compression: "lz4",
    snapshots: { every: "daily", keep: { daily: 14 } },
});

// Who may use which collection: the package's own rights file (it ships one, so hearth adopts it and puts it back on
// delete). Written once the package has made /etc/radicale. Everyone has their own calendars, and the family's
// shared ones under /family/.
const rights = new HostFile(
    "radicale-rights",
    {
        host: nas,
        path: "/etc/radicale/rights",
        adopt: true,
        content: [
            "[root]", "user: .+", "collection:", "permissions: R", "",
            "[principal]", "user: .+", "collection: {user}", "permissions: RW", "",
            "[own]", "user: .+", "collection: {user}/[^/]+", "permissions: rw", "",
            "[family]", "user: .+", "collection: family/[^/]+", "permissions: rw", "",
        ].join("\n"),
    },
    { dependsOn: [radicalePkg] },
);

// The server, hardened, as the package's user (its state directory is the dataset's mount point, which a DynamicUser
// state directory cannot be). Its config is hearth's file bound read-only over the packaged one; the logins are an
// htpasswd line made from a secret password (`pulumi config set --secret radicalePassword`), stable for an unchanged
// password, delivered as a credential. `requires` the dataset (mounted first), the package and the rights file (a
// change of that file restarts the service).
const radicale = new SystemdService("radicale", {
    host: nas,
    description: "Radicale CalDAV/CardDAV server",
    execStart: ["/usr/bin/radicale"],
    user: { name: "radicale", reason: "its collections are a dataset mounted where the package put them, which a DynamicUser state directory cannot be" },
    stateDirectory: "radicale/collections",
    network: "local",
    listenPorts: [5232],
    memoryMaxMiB: 256,
    files: [
        {
            target: "/etc/radicale/config",
            content: [
                "[server]", "hosts = 0.0.0.0:5232", "",
                "[auth]", "type = htpasswd", "htpasswd_filename = /run/credentials/radicale.service/htpasswd", "htpasswd_encryption = md5", "",
                "[rights]", "type = from_file", "file = /etc/radicale/rights", "",
                "[storage]", "filesystem_folder = /var/lib/radicale/collections", "",
            ].join("\n"),
        },
    ],
    credentials: { htpasswd: config.requireSecret("radicalePassword").apply((pw) => `${htpasswdLine("family", pw, `${pulumi.getProject()}/${pulumi.getStack()}/radicale`)}\n`) },
    requires: [calendars, radicalePkg, rights],
});

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
export const radicaleUnit = radicale.unitName;
export const photosPath = photos.mountpoint;
export const databaseUri = db.uri; // a secret: `pulumi stack output --show-secrets databaseUri`
