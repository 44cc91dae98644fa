// Host: how every component reaches a machine. The one place that builds the @pulumi/command connection.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { shq } from "./shell";
import { check, fail, HOST_NAME, checkPattern } from "./validate";
import { hostAddress } from "./core/rules";
import { ArgumentError } from "./core/errors";
import { parseSshPublicKey } from "./core/sshkey";

export interface BastionArgs {
    readonly address: pulumi.Input<string>;
    /** @default 22 */
    readonly port?: number;
    /** @default "root" */
    readonly user?: string;
    /** Must be a Pulumi secret (`config.requireSecret`, `pulumi.secret`). */
    readonly privateKey: pulumi.Output<string>;
    /**
     * The bastion's public host key (`ssh-ed25519 AAAA…`, its /etc/ssh/ssh_host_ed25519_key.pub), pinned like the
     * host's: required, and checked as an OpenSSH public key.
     */
    readonly hostKey: pulumi.Input<string>;
}

export interface HostArgs {
    /** Logical name: used in child resource names and in `out/plan/<stack>/<name>/`. */
    readonly name: string;
    /** DNS name or IP address sshd listens on. */
    readonly address: pulumi.Input<string>;
    /** @default 22 */
    readonly port?: number;
    /** @default "root" */
    readonly user?: string;
    /** SSH private key. Must already be a Pulumi secret, or it would be stored in plain state. */
    readonly privateKey: pulumi.Output<string>;
    /**
     * The host's public key, pinned so that no other machine can pose as it: an OpenSSH public key line
     * `<type> <base64> [comment]` (the host's /etc/ssh/ssh_host_ed25519_key.pub, or a line of
     * `ssh-keyscan -t ed25519 <address>` without the host name, checked against the host). Required: an unpinned
     * connection accepts any host key, so a man in the middle would get every stdin secret and forge stdout.
     * A plain string is checked here; an Output is checked when it resolves, failing the resources that use it.
     */
    readonly hostKey: pulumi.Input<string>;
    /** Optional jump host. */
    readonly proxy?: BastionArgs;
    /**
     * Run scripts through `sudo -n` (passwordless sudo required).
     * @default - true when `user` is not root
     */
    readonly sudo?: boolean;
    /** What the host can do, as declared by its owner; components refuse features a host lacks. */
    readonly facts?: HostFacts;
}

export interface HostFacts {
    /** @default true */
    readonly systemd?: boolean;
    /** ZFS is available (`zfs` on PATH). @default false */
    readonly zfs?: boolean;
    /** The pool supports native encryption. @default false */
    readonly zfsEncryption?: boolean;
    /** Compression algorithms the pool supports. @default ["off","on","lzjb","gzip"] */
    readonly zfsCompression?: readonly string[];
}

/** The connection fields of @pulumi/command, built from a Host. */
export type Connection = command.types.input.remote.ConnectionArgs;

function requireSecretOutput(value: unknown, arg: string): pulumi.Output<string> {
    if (typeof value === "string") {
        throw new pulumi.ResourceError(
            `The '${arg}' argument must be a Pulumi secret (config.requireSecret or pulumi.secret), got a plain string; a plain key would be stored in state in clear text.`,
            undefined,
        );
    }
    if (!pulumi.Output.isInstance(value)) {
        throw new pulumi.ResourceError(`The '${arg}' argument must be a Pulumi secret Output<string>.`, undefined);
    }
    return pulumi.secret(value as pulumi.Output<string>);
}

function checkPort(port: number | undefined, arg: string): number {
    const p = port ?? 22;
    if (!Number.isInteger(p) || p < 1 || p > 65535) fail(arg, p, "an integer from 1 to 65535");
    return p;
}

const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * Checks a host key: a plain string now (throwing a ResourceError), an Output when it resolves (the Output then
 * fails, and with it every resource whose connection carries it). Returns the key as given.
 */
function checkHostKey(value: unknown, arg: string): pulumi.Input<string> {
    const check = (v: unknown): string => {
        try {
            parseSshPublicKey(arg, v);
        } catch (e) {
            if (e instanceof ArgumentError) fail(e.arg, e.value, e.allowed);
            throw e;
        }
        return v as string;
    };
    const isPromise = value !== null && typeof value === "object" && typeof (value as PromiseLike<unknown>).then === "function";
    if (pulumi.Output.isInstance(value) || isPromise) return pulumi.output(value as pulumi.Input<string>).apply(check);
    return check(value);
}

/** Checks an address (a plain value now, an Output when it resolves): an IP literal or a DNS name. */
function checkAddress(value: unknown, arg: string): pulumi.Input<string> {
    const checkOne = (v: unknown): string => check(() => hostAddress(arg, v));
    const isPromise = value !== null && typeof value === "object" && typeof (value as PromiseLike<unknown>).then === "function";
    if (pulumi.Output.isInstance(value) || isPromise) return pulumi.output(value as pulumi.Input<string>).apply(checkOne);
    return checkOne(value);
}

export class Host {
    readonly name: string;
    readonly address: pulumi.Input<string>;
    readonly port: number;
    readonly user: string;
    readonly sudo: boolean;
    /** The pinned host key, as given (an Output is checked when it resolves). */
    readonly hostKey: pulumi.Input<string>;
    readonly facts: Required<HostFacts>;
    readonly connection: Connection;

    constructor(args: HostArgs) {
        this.name = checkPattern("host.name", args.name, HOST_NAME, "a lowercase DNS label (a-z, 0-9, '-', at most 63 characters)");
        this.user = checkPattern("host.user", args.user ?? "root", USER, "a POSIX user name ([a-z_][a-z0-9_-]{0,31})");
        this.port = checkPort(args.port, "host.port");
        this.sudo = args.sudo ?? this.user !== "root";
        this.address = checkAddress(args.address, "host.address");
        this.hostKey = checkHostKey(args.hostKey, "host.hostKey");
        this.facts = {
            systemd: args.facts?.systemd ?? true,
            zfs: args.facts?.zfs ?? false,
            zfsEncryption: args.facts?.zfsEncryption ?? false,
            zfsCompression: args.facts?.zfsCompression ?? ["off", "on", "lzjb", "gzip"],
        };
        const privateKey = requireSecretOutput(args.privateKey, "host.privateKey");
        let proxy: command.types.input.remote.ProxyConnectionArgs | undefined;
        if (args.proxy) {
            proxy = {
                host: checkAddress(args.proxy.address, "host.proxy.address"),
                port: checkPort(args.proxy.port, "host.proxy.port"),
                user: checkPattern("host.proxy.user", args.proxy.user ?? "root", USER, "a POSIX user name"),
                privateKey: requireSecretOutput(args.proxy.privateKey, "host.proxy.privateKey"),
                hostKey: checkHostKey(args.proxy.hostKey, "host.proxy.hostKey"),
            };
        }
        this.connection = {
            host: this.address,
            port: this.port,
            user: this.user,
            privateKey,
            hostKey: this.hostKey,
            ...(proxy ? { proxy } : {}),
            dialErrorLimit: 10,
            perDialTimeout: 15,
        };
    }

    /**
     * The command line that runs a hearth script on this host: bash (never the login shell, which may be sh),
     * under `sudo -n` for non-root users. The script is one quoted word; stdin stays free for file bodies.
     */
    wrap(script: string): string {
        const bash = `bash --noprofile --norc -c ${shq(script)}`;
        return this.sudo ? `sudo -n -- ${bash}` : bash;
    }
}

export interface RemoteScriptArgs {
    readonly host: Host;
    /** Converges the host; runs on create and whenever the script or `stdin` changes. */
    readonly script: string;
    /** Undoes what `script` did, keeping data unless the component was told otherwise. */
    readonly deleteScript?: string;
    /** Framed payloads (file bodies, secrets); secret if any part is. */
    readonly stdin?: pulumi.Input<string>;
    /** Content hash of everything non-secret the script installs; written as the script's first line. */
    readonly hash: string;
    /** Resources whose delete must run after this one's (e.g. the dataset a database lives on). */
    readonly deleteBefore?: readonly pulumi.Resource[];
}

export interface RemoteScript {
    /** Runs the converge script on create and on every change; never deletes anything. */
    readonly converge: command.remote.Command;
    /** Holds the delete script; runs nothing until the component itself is deleted. */
    readonly lifecycle?: command.remote.Command;
}

/**
 * Registers the remote commands a component converges with.
 *
 * Why no `triggers`: @pulumi/command marks `triggers` replaceOnChanges, and a replacement runs the new create and
 * then the *old* delete, which would remove what the new create just converged. So the content hash goes into the
 * script's first line instead: the converge command's `create`/`update` text changes exactly when the content does,
 * which is an in-place update, and an unchanged component runs nothing on `up`.
 *
 * Why a second command for delete: the converge command has no delete at all, so nothing can run a delete while
 * the component lives. The delete sits on a `-lifecycle` command with no create or update (it opens no SSH session
 * until it is deleted); its delete runs exactly once, when the component is deleted, with the script of the last `up`.
 *
 * Why the lifecycle command follows connection changes (no `ignoreChanges: ["connection"]`): in @pulumi/command
 * 1.2.1 a connection change is an in-place update (only `triggers` is replaceOnChanges), and an update of a command
 * without `update` runs nothing. So it costs no SSH session, and the delete always carries the host's current
 * connection: after a key rotation it logs in with the new key, after re-addressing it reaches the host at its new
 * address, and a re-pinned host key is the one it checks, instead of whatever answers at the old address.
 */
export function remoteScript(name: string, args: RemoteScriptArgs, opts: pulumi.CustomResourceOptions): RemoteScript {
    if (!/^[0-9a-f]{64}$/.test(args.hash)) throw new Error(`remoteScript ${name}: hash must be a sha256 hex digest`);
    const create = args.host.wrap(`# hearth-content: ${args.hash}\n${args.script}`);
    const converge = new command.remote.Command(
        name,
        {
            connection: args.host.connection,
            create,
            update: create,
            ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
            addPreviousOutputInEnv: false,
        },
        opts,
    );
    if (args.deleteScript === undefined) return { converge };
    const lifecycle = new command.remote.Command(
        `${name}-lifecycle`,
        {
            connection: args.host.connection,
            delete: args.host.wrap(args.deleteScript),
            addPreviousOutputInEnv: false,
        },
        { ...opts, dependsOn: [converge, ...(args.deleteBefore ?? [])] },
    );
    return { converge, lifecycle };
}

/** The content hash a converge command carries on its first line, or undefined for other commands. */
export function scriptHash(createCommand: string | undefined): string | undefined {
    return /# hearth-content: ([0-9a-f]{64})/.exec(createCommand ?? "")?.[1];
}

