// The benchmark's SSH client, set to offer what @pulumi/command 1.2.1's client offers, so hearth's handshakes cost what they cost under `pulumi up`.
//
// The provider (github.com/pulumi/pulumi-command v1.2.1, provider/go.mod) pins golang.org/x/crypto v0.48.0 and builds its
// ssh.ClientConfig (provider/pkg/provider/remote/connection.go, SSHConfig) with no KeyExchanges, Ciphers or MACs, so
// Config.SetDefaults (ssh/common.go) uses defaultKexAlgos, defaultCiphers and defaultMACs; with a pinned host key it sets
// HostKeyAlgorithms to that key's type only. OpenSSH's own defaults differ (its first key exchange is a post-quantum hybrid,
// its first cipher chacha20-poly1305), so the benchmark passes these lists, minus the names the local ssh does not know.
import { spawnSync } from "child_process";
import { runSsh, SshOptions, SshResult, SshTarget } from "../tests/host/ssh";

export const PROVIDER_CLIENT = "@pulumi/command 1.2.1 (pulumi-command v1.2.1 provider/go.mod: golang.org/x/crypto v0.48.0)";

/** x/crypto v0.48.0 defaultKexAlgos, as SetDefaults expands them (curve25519-sha256@libssh.org after curve25519-sha256). */
export const GO_KEX = [
    "mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521", "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1",
] as const;
/** x/crypto v0.48.0 defaultCiphers (= supportedCiphers). */
export const GO_CIPHERS = [
    "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
] as const;
/** x/crypto v0.48.0 defaultMACs. */
export const GO_MACS = [
    "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "hmac-sha1-96",
] as const;
/** hearth always pins an ed25519 host key; the provider then offers only that key's type. */
export const GO_HOST_KEY_ALGOS = ["ssh-ed25519"] as const;

export interface ClientAlgorithms {
    readonly kex: readonly string[];
    readonly ciphers: readonly string[];
    readonly macs: readonly string[];
    readonly hostKeyAlgorithms: readonly string[];
    /** Names of the Go client's lists that the local ssh does not know (so it cannot offer them). */
    readonly dropped: readonly string[];
    /** The `-o` options that make ssh offer these lists, in this order. */
    readonly options: readonly string[];
}

let cached: ClientAlgorithms | undefined;

/** The provider's lists, keeping only what `ssh -Q` says the local OpenSSH implements. */
export function providerAlgorithms(): ClientAlgorithms {
    if (cached) return cached;
    const known = (what: string): Set<string> => {
        const r = spawnSync("ssh", ["-Q", what], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`ssh -Q ${what} failed (${r.status}): ${r.stderr}`);
        return new Set(r.stdout.split("\n").map((l) => l.trim()).filter(Boolean));
    };
    const dropped: string[] = [];
    const keep = (list: readonly string[], ok: Set<string>) => list.filter((n) => ok.has(n) || (dropped.push(n), false));
    const kex = keep(GO_KEX, known("kex"));
    const ciphers = keep(GO_CIPHERS, known("cipher"));
    const macs = keep(GO_MACS, known("mac"));
    const hostKeyAlgorithms = keep(GO_HOST_KEY_ALGOS, known("key-sig"));
    if (!kex.length || !ciphers.length || !macs.length || !hostKeyAlgorithms.length) {
        throw new Error(`the local ssh offers none of the provider's algorithms of some kind (dropped: ${dropped.join(", ")})`);
    }
    cached = {
        kex, ciphers, macs, hostKeyAlgorithms, dropped,
        options: [
            "-o", `KexAlgorithms=${kex.join(",")}`,
            "-o", `Ciphers=${ciphers.join(",")}`,
            "-o", `MACs=${macs.join(",")}`,
            "-o", `HostKeyAlgorithms=${hostKeyAlgorithms.join(",")}`,
            // x/crypto implements no compression.
            "-o", "Compression=no",
        ],
    };
    return cached;
}

/** runSsh with the provider's algorithm lists (ssh takes the first value of an option, so these go before the rest). */
export function runProviderSsh(t: SshTarget, command: string, opts: SshOptions = {}): Promise<SshResult> {
    return runSsh(t, command, { ...opts, options: [...(opts.options ?? []), ...providerAlgorithms().options] });
}

export interface Negotiated {
    readonly kex: string;
    readonly hostKey: string;
    readonly cipher: string;
    readonly mac: string;
    /** What the Go client would pick against the same server's offer (the client's first name the server also lists). */
    readonly goWouldPick: { readonly kex: string; readonly cipher: string; readonly mac: string };
}

/**
 * Logs in once with the provider's lists at debug level and reads what was negotiated and what the server offered; then
 * works out what x/crypto's full lists (names OpenSSH lacks included) would have negotiated with that server.
 */
export async function negotiation(t: SshTarget): Promise<Negotiated> {
    const r = await runProviderSsh(t, "true", { options: ["-o", "LogLevel=DEBUG2"] });
    if (r.code !== 0) throw new Error(`ssh -o LogLevel=DEBUG2 to ${t.address} exited ${r.code}: ${r.stderr.slice(-2000)}`);
    return parseNegotiation(r.stderr);
}

/** Reads OpenSSH's debug2 output: the peer's KEXINIT proposal and the `kex:` choices. */
export function parseNegotiation(debug: string): Negotiated {
    const lines = debug.split(/\r?\n/);
    const peerAt = lines.findIndex((l) => /peer server KEXINIT proposal/.test(l));
    if (peerAt < 0) throw new Error("ssh's debug output has no peer server KEXINIT proposal");
    const peer = (label: RegExp): string[] => {
        const l = lines.slice(peerAt).find((x) => label.test(x));
        if (!l) throw new Error(`ssh's debug output has no server ${label.source} line`);
        return l.replace(/^.*?: [^:]*: /, "").split(",");
    };
    const chosen = (re: RegExp): RegExpMatchArray => {
        for (const l of lines) {
            const m = l.match(re);
            if (m) return m;
        }
        throw new Error(`ssh's debug output has no line matching ${re.source}`);
    };
    const serverKex = peer(/debug2: KEX algorithms: /);
    const serverCiphers = peer(/debug2: ciphers ctos: /);
    const serverMacs = peer(/debug2: MACs ctos: /);
    const first = (client: readonly string[], server: readonly string[]) => client.find((n) => server.includes(n)) ?? "(none)";
    const cipher = chosen(/kex: client->server cipher: (\S+) MAC: (\S+)/);
    const goCipher = first(GO_CIPHERS, serverCiphers);
    return {
        kex: chosen(/kex: algorithm: (\S+)/)[1],
        hostKey: chosen(/kex: host key algorithm: (\S+)/)[1],
        cipher: cipher[1],
        mac: cipher[2],
        // An AEAD cipher carries its own MAC; OpenSSH prints it as <implicit>.
        goWouldPick: { kex: first(GO_KEX, serverKex), cipher: goCipher, mac: /gcm|chacha20/.test(goCipher) ? "<implicit>" : first(GO_MACS, serverMacs) },
    };
}
