// The cached Debian rootfs host tests boot: a base image (image.sh, debootstrap) plus package layers over it, each
// cached under its own key, so adding a package rebuilds one small layer and never the base.
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** What every test host carries, so tests need no apt inside the target (see TESTHOST.md). The base image: changing
 * this list rebuilds everything (debootstrap, minutes); a package a new feature needs goes in LAYERS instead. */
export const BASE_PACKAGES: readonly string[] = [
    "systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2", "sudo", "python3", "ca-certificates",
    "postgresql", "pgbouncer", "zfs-fuse", "wireguard-tools", "wireguard-go", "systemd-container",
    "dnsutils", "knot", "knot-dnsutils", "procps", "iputils-ping", "netcat-openbsd", "curl",
];

/**
 * Package sets installed over the base image, bottom first, on every test host. Each is a cached layer keyed by its
 * packages and everything below it: adding a package to the last set rebuilds that set only (seconds: a download
 * from the apt mirror and a dpkg run, see ensureLayer and harness.ts), a new feature's packages are a new set at the end.
 */
export const LAYERS: readonly (readonly string[])[] = [
    // the host baseline (issue 20): the firewall, unattended security upgrades
    ["nftables", "unattended-upgrades"],
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

/** The cache directory of a layer of `packages` over `lowerDirs` (top first): keyed by the recipe, the tree below and the list. */
export function layerPath(lowerDirs: readonly string[], packages: readonly string[]): string {
    const key = createHash("sha256").update(`${LAYER_RECIPE}\0${lowerDirs.map((d) => path.basename(d)).join(":")}\0${[...packages].sort().join(",")}`)
        .digest("hex").slice(0, 16);
    return path.join(cacheDir(), `layer-${key}.d`);
}

/** The recipe's version: a change in LAYER_SCRIPT must change this, so that old layers are not reused. */
const LAYER_RECIPE = "layer 1";

// Runs under `flock DIR.lock unshare --mount`: every mount lives in a private namespace and goes when it ends.
// apt runs chrooted into an overlay of the tree below, its lists, caches and sources in tmpfs; what the install
// changed is the overlay's upper directory, which becomes the layer by an atomic rename. No daemon starts
// (policy-rc.d, and a chroot has no running systemd). Whiteouts and opaque directories of the upper directory are
// overlayfs's own format, so the layer works as a lower directory as it is.
const LAYER_SCRIPT = String.raw`set -euo pipefail; out=$1; lowers=$2; repo=$3; shift 3
[ -d "$out" ] && exit 0
w=$out.tmp; rm -rf --one-file-system -- "$w"; mkdir -m 0755 -p "$w/upper" "$w/work" "$w/fs"; r=$w/fs
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=$lowers,upperdir=$w/upper,workdir=$w/work,redirect_dir=off,metacopy=off" "$r"
mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev"; mount -t tmpfs tmpfs "$r/run"; mount -t tmpfs tmpfs "$r/tmp"
mkdir -p "$r/run/apt/repo" "$r/run/apt/parts" "$r/run/apt/lists/partial" "$r/run/apt/archives/partial"
mount --bind "$repo" "$r/run/apt/repo"; mount -o remount,bind,ro "$r/run/apt/repo"
echo 'deb [trusted=yes] file:/run/apt/repo ./' >"$r/run/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"; chmod 0755 "$r/usr/sbin/policy-rc.d"
aptc() {
  chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C apt-get -q \
    -o Dir::Etc::SourceList=/run/apt/sources.list -o Dir::Etc::SourceParts=/run/apt/parts -o Dir::State::Lists=/run/apt/lists \
    -o Dir::Cache=/run/apt -o Dir::Cache::Archives=/run/apt/archives -o APT::Sandbox::User=root "$@" >>"$w/apt.log" 2>&1
}
aptc update && aptc install -y --no-install-recommends "$@" || { tail -n 40 "$w/apt.log" >&2; exit 1; }
rm -f -- "$r/usr/sbin/policy-rc.d" "$r"/var/log/*.log "$r"/var/log/apt/*.log
rm -rf -- "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/locale/*
umount -R "$r"
mv -T -- "$w/upper" "$out"
rm -rf --one-file-system -- "$w"`;

const layering = new Map<string, Promise<string>>();

/**
 * The layer that installs `packages` (served by the local apt repository `repo`, aptrepo.ts) over `lowerDirs` (top
 * first): built once and cached; `flock` keeps two processes from building it at once. Resolves to its directory.
 */
export function ensureLayer(lowerDirs: readonly string[], packages: readonly string[], repo: string): Promise<string> {
    if (!lowerDirs.length) throw new Error("a layer needs the tree below it: lowerDirs is empty");
    for (const p of packages) {
        if (!/^[a-z0-9][a-z0-9.+-]*$/.test(p)) throw new Error(`not a Debian package name: ${JSON.stringify(p)}`);
    }
    if (!packages.length) throw new Error(`a layer needs packages: the list over ${lowerDirs[0]} is empty`);
    const dir = layerPath(lowerDirs, packages);
    if (fs.existsSync(dir)) return Promise.resolve(dir);
    let p = layering.get(dir);
    if (!p) {
        const started = Date.now();
        p = new Promise<string>((resolve, reject) => {
            const args = [`${dir}.lock`, "unshare", "--mount", "bash", "-c", LAYER_SCRIPT, "layer", dir, lowerDirs.join(":"), repo, ...packages];
            const child = spawn("flock", args, { stdio: ["ignore", "ignore", "pipe"] });
            let err = "";
            child.stderr.on("data", (b: Buffer) => { err = (err + b.toString("utf8")).slice(-20_000); });
            child.on("error", reject);
            child.on("close", (code) => {
                if (code !== 0 || !fs.existsSync(dir)) { reject(new Error(`building the layer ${packages.join(" ")} over ${lowerDirs[0]} failed (${code}): ${err}`)); return; }
                process.stderr.write(`hearth host: layer ${packages.join(" ")} built in ${((Date.now() - started) / 1000).toFixed(1)} s (${dir})\n`);
                resolve(dir);
            });
        }).finally(() => layering.delete(dir));
        layering.set(dir, p);
    }
    return p;
}
