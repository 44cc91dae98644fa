// The cached Debian rootfs host tests boot: its package list, its cache key, and building it with image.sh when missing.
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** What every test host carries, so tests need no apt inside the target (see TESTHOST.md). */
export const BASE_PACKAGES: readonly string[] = [
    "systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2", "sudo", "python3", "ca-certificates",
    "postgresql", "pgbouncer", "zfs-fuse", "wireguard-tools", "wireguard-go", "systemd-container",
    "dnsutils", "knot", "knot-dnsutils", "procps", "iputils-ping", "netcat-openbsd", "curl",
];

export const IMAGE_SCRIPT = path.join(__dirname, "image.sh");

/** Where images and unpacked hosts live: outside the repo, so a clean clone still finds the cache. */
export function cacheDir(): string {
    const dir = process.env.HEARTH_CACHE || "/var/cache/hearth";
    if (!path.isAbsolute(dir)) throw new Error(`HEARTH_CACHE must be an absolute path, got ${JSON.stringify(dir)}`);
    return dir;
}

/** The sorted, de-duplicated package list of an image with `extra` on top of the base. */
export function imagePackages(extra: readonly string[] = []): string[] {
    for (const p of extra) {
        if (!/^[a-z0-9][a-z0-9.+-]*$/.test(p)) throw new Error(`not a Debian package name: ${JSON.stringify(p)}`);
    }
    return [...new Set([...BASE_PACKAGES, ...extra])].sort();
}

/** The tarball path for a package list: keyed by the list and the build recipe, so changing either rebuilds. */
export function imagePath(packages: readonly string[]): string {
    const key = createHash("sha256").update(fs.readFileSync(IMAGE_SCRIPT)).update(`\0${packages.join(",")}`).digest("hex").slice(0, 16);
    return path.join(cacheDir(), `bookworm-${key}.tar.zst`);
}

export interface Image {
    readonly path: string;
    /** True when this call built it (a cold start). */
    readonly built: boolean;
    readonly seconds: number;
}

const building = new Map<string, Promise<Image>>();

/** Returns the image for `packages`, building it first if the cache has none (image.sh serialises builders). */
export function ensureImage(packages: readonly string[]): Promise<Image> {
    const file = imagePath(packages);
    if (fs.existsSync(file) && fs.statSync(file).size > 0) return Promise.resolve({ path: file, built: false, seconds: 0 });
    let p = building.get(file);
    if (!p) {
        p = buildImage(file, packages).finally(() => building.delete(file));
        building.set(file, p);
    }
    return p;
}

function buildImage(file: string, packages: readonly string[]): Promise<Image> {
    const started = Date.now();
    process.stderr.write(`hearth host: no cached image at ${file}; building it (debootstrap, a few minutes)\n`);
    return new Promise((resolve, reject) => {
        const child = spawn("bash", [IMAGE_SCRIPT, file, packages.join(",")], { stdio: ["ignore", "pipe", "pipe"] });
        let log = "";
        const keep = (b: Buffer) => { log = (log + b.toString("utf8")).slice(-20_000); };
        child.stdout.on("data", keep);
        child.stderr.on("data", keep);
        child.on("error", reject);
        child.on("close", (code) => {
            const seconds = (Date.now() - started) / 1000;
            if (code !== 0 || !fs.existsSync(file)) {
                reject(new Error(`building the test host image failed (image.sh exit ${code}):\n${log}`));
                return;
            }
            process.stderr.write(`hearth host: cold image build took ${seconds.toFixed(1)} s (${(fs.statSync(file).size / 2 ** 20).toFixed(0)} MiB)\n`);
            resolve({ path: file, built: true, seconds });
        });
    });
}

const unpacking = new Map<string, Promise<string>>();

/**
 * The image unpacked once into a read-only lower directory that every host overlays (unpacking 500 MB per host
 * takes 2 to 15 s on a busy machine; an overlay mount takes milliseconds). The directory appears by an atomic
 * rename, so its existence means it is complete; `flock` keeps two processes from unpacking at once.
 */
export function ensureLowerDir(image: Image): Promise<string> {
    const dir = image.path.replace(/\.tar\.zst$/, ".d");
    if (fs.existsSync(dir)) return Promise.resolve(dir);
    let p = unpacking.get(dir);
    if (!p) {
        const script = [
            'set -euo pipefail; d=$1; img=$2',
            '[ -d "$d" ] && exit 0',
            'rm -rf --one-file-system "$d.tmp"; mkdir -m 0755 "$d.tmp"',
            'tar --zstd -xpf "$img" -C "$d.tmp" --numeric-owner --xattrs --xattrs-include="*" --acls',
            'mv -T "$d.tmp" "$d"',
        ].join("\n");
        p = new Promise<string>((resolve, reject) => {
            const child = spawn("flock", [`${image.path}.lock`, "bash", "-c", script, "unpack", dir, image.path], { stdio: ["ignore", "ignore", "pipe"] });
            let err = "";
            child.stderr.on("data", (b: Buffer) => { err += b.toString("utf8"); });
            child.on("error", reject);
            child.on("close", (code) => (code === 0 && fs.existsSync(dir) ? resolve(dir) : reject(new Error(`unpacking ${image.path} failed (${code}): ${err}`))));
        }).finally(() => unpacking.delete(dir));
        unpacking.set(dir, p);
    }
    return p;
}
