// A local apt repository for test hosts, which have no way out: built on the build machine (Debian bookworm, as the
// hosts are) from `.deb` files `apt-get download` fetches, and bind-mounted read-only into a host as its only apt
// source (harness.ts: StartHostArgs.aptRepo). Nothing is ever fetched from inside a test host.
//
// What it holds: the requested packages and their dependency closure (no recommends) minus what the host image already
// has, as apt resolves it against the image's own dpkg status. Cached under cacheDir() by the package list and the
// image, complete once its directory exists (it appears by an atomic rename).
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { cacheDir } from "./image";

/** Where a test host sees the repository (read-only). */
export const APT_REPO_MOUNT = "/srv/hearth-apt";
/** The one apt source a host with a local repository has. */
export const APT_REPO_SOURCE = `deb [trusted=yes] file:${APT_REPO_MOUNT} ./`;
/** The recipe's version: a change here makes a new cache entry. */
const RECIPE = "aptrepo 1";

function sh(cmd: string, args: readonly string[], cwd?: string): { status: number | null; out: string; err: string } {
    const r = spawnSync(cmd, [...args], { cwd, encoding: "utf8", env: { ...process.env, LC_ALL: "C", DEBIAN_FRONTEND: "noninteractive" }, maxBuffer: 64 * 2 ** 20 });
    if (r.error) throw r.error;
    return { status: r.status, out: r.stdout ?? "", err: r.stderr ?? "" };
}

/**
 * The packages (with versions) apt would install on a host whose dpkg status is `statusFile`: the closure of
 * `packages` without recommends, minus what is installed there. Undefined when apt cannot resolve them (no lists?).
 */
export function closureFor(packages: readonly string[], statusFile: string): { name: string; version: string }[] | undefined {
    const r = sh("apt-get", ["-s", "-q", "-o", `Dir::State::status=${statusFile}`, "install", "--no-install-recommends", ...packages]);
    if (r.status !== 0) return undefined;
    const out: { name: string; version: string }[] = [];
    for (const m of r.out.matchAll(/^Inst (\S+) (?:\[\S+\] )?\((\S+) /gm)) out.push({ name: m[1].replace(/:[a-z0-9]+$/, ""), version: m[2] });
    return out;
}

/** The dpkg status of a tree of overlay lower directories (top first): the topmost layer that has one. */
export function dpkgStatus(lowerDirs: readonly string[]): string {
    for (const d of lowerDirs) {
        const f = path.join(d, "var/lib/dpkg/status");
        if (fs.existsSync(f)) return f;
    }
    throw new Error(`no var/lib/dpkg/status in ${lowerDirs.join(", ")}`);
}

/**
 * The repository directory for `packages` on hosts whose tree is `lower`: the image tree every host overlays, or
 * its layers top first (image.ts). Built once (download, dpkg-scanpackages) and cached, keyed by the top layer.
 * Runs `apt-get update` on the build machine only when apt cannot resolve the packages with the lists it has.
 */
export function ensureAptRepo(packages: readonly string[], lower: string | readonly string[]): string {
    for (const p of packages) if (!/^[a-z0-9][a-z0-9.+-]+(=[0-9][A-Za-z0-9.+~:-]*)?$/.test(p)) throw new Error(`not a Debian package name: ${JSON.stringify(p)}`);
    const lowerDirs = typeof lower === "string" ? [lower] : [...lower];
    if (!lowerDirs.length) throw new Error("ensureAptRepo: the host tree (lower) is empty");
    const wanted = [...new Set(packages)].sort();
    const key = createHash("sha256").update(`${RECIPE}\0${path.basename(lowerDirs[0])}\0${wanted.join(",")}`).digest("hex").slice(0, 16);
    const dir = path.join(cacheDir(), `apt-repo-${key}`);
    if (fs.existsSync(path.join(dir, "Packages"))) return dir;
    const status = dpkgStatus(lowerDirs);
    let closure = closureFor(wanted, status);
    if (!closure) {
        const u = sh("apt-get", ["-q", "-o", "DPkg::Lock::Timeout=300", "update"]);
        if (u.status !== 0) throw new Error(`apt-get update on the build machine failed: ${u.err}`);
        closure = closureFor(wanted, status);
        if (!closure) throw new Error(`apt cannot resolve ${wanted.join(" ")} for the test image: ${sh("apt-get", ["-s", "-o", `Dir::State::status=${status}`, "install", "--no-install-recommends", ...wanted]).err}`);
    }
    if (!closure.length) throw new Error(`the test image already has ${wanted.join(" ")}: nothing to serve`);
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true, mode: 0o755 });
    try {
        // apt's sandbox user cannot write into root's cache: the download runs as root (a warning, not a failure).
        const dl = sh("apt-get", ["-q", "-o", "APT::Sandbox::User=root", "download", ...closure.map((c) => `${c.name}=${c.version}`)], tmp);
        if (dl.status !== 0) throw new Error(`apt-get download failed: ${dl.err}`);
        const scan = sh("dpkg-scanpackages", ["--multiversion", ".", "/dev/null"], tmp);
        if (scan.status !== 0) throw new Error(`dpkg-scanpackages failed: ${scan.err}`);
        fs.writeFileSync(path.join(tmp, "Packages"), scan.out, { mode: 0o644 });
        const debs = fs.readdirSync(tmp).filter((f) => f.endsWith(".deb"));
        if (debs.length !== closure.length) throw new Error(`expected ${closure.length} .deb files, found ${debs.length}: ${debs.join(" ")}`);
        fs.renameSync(tmp, dir);
    } catch (e) {
        fs.rmSync(tmp, { recursive: true, force: true });
        // Another process may have built it meanwhile.
        if (fs.existsSync(path.join(dir, "Packages"))) return dir;
        throw e;
    }
    return dir;
}

/** The package names and versions a repository built by ensureAptRepo serves (from its Packages index). */
export function repoPackages(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const stanza of fs.readFileSync(path.join(dir, "Packages"), "utf8").split(/\n\n+/)) {
        const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
        const version = /^Version: (\S+)$/m.exec(stanza)?.[1];
        if (name && version) out[name] = version;
    }
    return out;
}
