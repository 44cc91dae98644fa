// For host specs whose components read a command's stdout (a public key, a host key): the mock runs that command on its test host, as the engine would.
import { spawnSync } from "child_process";
import { setCommandStdout } from "../mocks";
import { liveAddresses } from "./harness";
import { keyFile, sshArgv } from "./ssh";

/**
 * Makes mocked commands whose name matches `pattern` return the stdout of really running their create (with their
 * stdin) on the test host they target. The runner runs them again afterwards, which a hearth script must survive
 * unchanged (that is its idempotence). Results are cached per command text and stdin, so an unchanged command runs
 * once, like an unchanged resource in a real `up`. `ready` says whether it can run yet; until then `placeholder` is
 * returned (e.g. before the runner has created what the command runs on).
 */
export function commandOutputsFromHosts(pattern: RegExp, opts: { ready?: (name: string) => boolean; placeholder?: string } = {}): void {
    const cache = new Map<string, string>();
    setCommandStdout((name, inputs) => {
        if (!pattern.test(name)) return "";
        // Before what the command needs exists (a dataset the runner creates first), stand in as a preview would.
        if (opts.ready && !opts.ready(name)) return opts.placeholder ?? "";
        const key = `${name}\0${inputs.create}\0${inputs.stdin ?? ""}`;
        const hit = cache.get(key);
        if (hit !== undefined) return hit;
        const c = inputs.connection;
        if (!liveAddresses().includes(c?.host)) throw new Error(`${name}: refusing to run on ${c?.host}: not a test host this process started`);
        const argv = sshArgv({ address: c.host, port: c.port ?? 22, user: c.user ?? "root", privateKeyPath: keyFile(c.privateKey), hostKey: c.hostKey }, inputs.create);
        const r = spawnSync("ssh", argv, { input: inputs.stdin ?? "", encoding: "utf8", timeout: 300_000 });
        if (r.status !== 0) throw new Error(`${name} exited ${r.status} while resolving its outputs:\n${r.stdout}\n${r.stderr}`);
        cache.set(key, r.stdout);
        return r.stdout;
    });
}

/** What a container's converge prints before it ever ran (its host key a stand-in, as a preview would leave it unknown). */
export const PLACEHOLDER_HOST_KEY_LINE = "hearth-nspawn-hostkey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICpphTQTyBuoTwSQJGzwWA703Ud4M8gTV8bBzF7Hs9FW\n";

/**
 * The host keys containers' converges print, from the hosts (`commandOutputsFromHosts` over `-container` commands,
 * and over WireGuard `-key` commands too with `wireguardKeys`): a container's converge runs for real once `ready()`
 * (the runner's state holds it), and stands in with PLACEHOLDER_HOST_KEY_LINE before.
 */
export function containerOutputsFromHosts(ready: () => boolean, opts: { wireguardKeys?: boolean } = {}): void {
    commandOutputsFromHosts(opts.wireguardKeys ? /-(container|key)$/ : /-container$/, {
        ready: (name) => !name.endsWith("-container") || ready(),
        placeholder: PLACEHOLDER_HOST_KEY_LINE,
    });
}

export function resetCommandOutputs(): void {
    setCommandStdout();
}

/** `rtt min/avg/max/mdev = a/b/c/d ms` from ping's summary: the average, in ms. */
export function pingAvgMs(out: string): number | undefined {
    const m = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(out);
    return m ? Number(m[1]) : undefined;
}
