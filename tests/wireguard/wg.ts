// Spec helpers for WireGuard: golden files, and the real `wg` reading a rendered config on a throwaway wireguard-go interface.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROBE_FILTER } from "../../components/wireguard/render";
import { golden as compare } from "../golden";

const GOLDEN = path.join(__dirname, "golden");

/** Compares with a golden file through the one golden-file helper; `UPDATE_GOLDEN=1` rewrites it. */
export function golden(name: string, actual: string): void {
    compare(GOLDEN, name, actual);
}

/** A real key pair from the local `wg`. */
export function wgKeyPair(): { privateKey: string; publicKey: string } {
    const priv = spawnSync("wg", ["genkey"], { encoding: "utf8" }).stdout.trim();
    const pub = spawnSync("wg", ["pubkey"], { input: priv + "\n", encoding: "utf8" }).stdout.trim();
    return { privateKey: priv, publicKey: pub };
}

export function canProbeWireguard(): string | undefined {
    if (process.getuid?.() !== 0) return "needs root (netns, /dev/net/tun)";
    for (const t of ["wg", "wg-quick", "wireguard-go", "ip"]) if (spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0) return `${t} is not installed`;
    if (!fs.existsSync("/dev/net/tun")) return "/dev/net/tun is missing";
    return undefined;
}

export interface Probe {
    /** `wg-quick strip FILE | PROBE_FILTER | wg setconf IF /dev/stdin`, exactly as the converge script does: exit status and output. */
    setconf(config: string): { status: number | null; out: string; shown: string };
    close(): Promise<void>;
}

/**
 * A wireguard-go interface inside a network namespace this process creates (no route leaves it, nothing is
 * brought up), as the converge script's throwaway probe does on a host.
 */
export async function openProbe(): Promise<Probe> {
    const id = `${process.pid % 100000}`;
    const ns = `hearth-wgt-${id}`;
    const ifc = `hwt${id}`;
    const add = spawnSync("ip", ["netns", "add", ns], { encoding: "utf8" });
    if (add.status !== 0) throw new Error(`ip netns add: ${add.stderr}`);
    const child = spawn("ip", ["netns", "exec", ns, "wireguard-go", "-f", ifc], { stdio: "ignore", env: { ...process.env, WG_PROCESS_FOREGROUND: "1" } });
    const sock = `/var/run/wireguard/${ifc}.sock`;
    for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    if (!fs.existsSync(sock)) throw new Error("wireguard-go did not create its socket");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-wg-"));
    return {
        setconf(config: string) {
            const f = path.join(dir, `${ifc}.conf`);
            fs.writeFileSync(f, config, { mode: 0o600 });
            const r = spawnSync("bash", ["-c", `set -o pipefail; wg-quick strip "$1" | ${PROBE_FILTER} | ip netns exec "$2" wg setconf "$3" /dev/stdin`, "x", f, ns, ifc], { encoding: "utf8" });
            const shown = spawnSync("ip", ["netns", "exec", ns, "wg", "showconf", ifc], { encoding: "utf8" }).stdout;
            return { status: r.status, out: `${r.stdout}${r.stderr}`, shown };
        },
        async close() {
            if (child.exitCode === null) {
                const done = new Promise((r) => child.once("exit", r));
                child.kill("SIGTERM");
                await done;
            }
            spawnSync("ip", ["netns", "del", ns]);
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
