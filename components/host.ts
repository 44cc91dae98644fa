// Host: how every component reaches a machine. The one place that builds the @pulumi/command connection.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { wrapCommand } from "./shell";
import { convergedKey, convergeTail } from "./core/check";
import { check, checkLater } from "./validate";
import { parseArgs } from "./core/schema";
import { HOST_ADDRESS, HOST_KEY, HostArgs, HostArgsSchema } from "./host-schema";

export { BastionArgs, HostArgs, HostFacts } from "./host-schema";

/** The connection fields of @pulumi/command, built from a Host. */
export type Connection = command.types.input.remote.ConnectionArgs;

export class Host {
    readonly name: string;
    readonly address: pulumi.Input<string>;
    readonly port: number;
    readonly user: string;
    readonly sudo: boolean;
    /** The pinned host key, as given (an Output is checked when it resolves). */
    readonly hostKey: pulumi.Input<string>;
    readonly facts: { readonly systemd: boolean; readonly zfs: boolean; readonly zfsEncryption: boolean; readonly zfsCompression: readonly string[]; readonly postgresql: { readonly version: number; readonly cluster: string } };
    readonly connection: Connection;
    private readonly reapplyAll: number;
    private readonly reapplyByName: Readonly<Record<string, number>>;

    constructor(args: HostArgs) {
        const a = check(() => parseArgs(HostArgsSchema, args, ["host"]));
        this.name = a.name;
        this.user = a.user ?? "root";
        this.port = a.port ?? 22;
        this.sudo = a.sudo ?? this.user !== "root";
        this.address = checkLater(a.address, HOST_ADDRESS, ["host", "address"]);
        this.hostKey = checkLater(a.hostKey, HOST_KEY, ["host", "hostKey"]);
        this.facts = {
            systemd: a.facts?.systemd ?? true,
            zfs: a.facts?.zfs ?? false,
            zfsEncryption: a.facts?.zfsEncryption ?? false,
            zfsCompression: a.facts?.zfsCompression ?? ["off", "on", "lzjb", "gzip"],
            postgresql: a.facts?.postgresql ?? { version: 15, cluster: "main" },
        };
        this.reapplyAll = a.reapply?.all ?? 0;
        this.reapplyByName = a.reapply?.resources ?? {};
        const privateKey = pulumi.secret(a.privateKey);
        let proxy: command.types.input.remote.ProxyConnectionArgs | undefined;
        if (a.proxy) {
            proxy = {
                host: checkLater(a.proxy.address, HOST_ADDRESS, ["host", "proxy", "address"]),
                port: a.proxy.port ?? 22,
                user: a.proxy.user ?? "root",
                privateKey: pulumi.secret(a.proxy.privateKey),
                hostKey: checkLater(a.proxy.hostKey, HOST_KEY, ["host", "proxy", "hostKey"]),
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
        return wrapCommand(script, this.sudo);
    }

    /**
     * The reapply counter of the component named `component` on this host: the host's `reapply.all` plus its own entry
     * in `reapply.resources`. Part of its converge's header, so raising it runs that converge again on the next `up`.
     */
    reapplyCount(component: string | undefined): number {
        return this.reapplyAll + (component !== undefined && Object.hasOwn(this.reapplyByName, component) ? this.reapplyByName[component] : 0);
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
    /**
     * A hash of content the script uses but does not carry (another component's file, text that resolves later):
     * written as a `# hearth-uses:` line after the content hash, so a change of it converges again. Absent: the
     * command is exactly what it was without it.
     */
    readonly uses?: pulumi.Input<string>;
    /**
     * The component's own read-only checks (core/check.ts): calls of `hearth_check_*` runtime functions, carried in the
     * converge as comments it never runs, for `npm run check`. The converge's files and its completion are checked
     * without them.
     */
    readonly check?: readonly string[];
    /**
     * The connection both commands use instead of the host's: the same connection with a field that checks something
     * when it resolves (the command fails before it runs when the check throws). @default the host's connection
     */
    readonly connection?: Connection;
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
    const key = convergedKey(pulumi.getProject(), pulumi.getStack(), name);
    const component = opts.parent ? pulumi.resourceName(opts.parent) : undefined;
    const reapply = args.host.reapplyCount(component);
    const build = (uses: string | undefined): string =>
        args.host.wrap(
            [
                `# hearth-content: ${args.hash}`,
                ...(uses !== undefined ? [`# hearth-uses: ${uses}`] : []),
                ...(reapply > 0 ? [`# hearth-reapply: ${reapply}`] : []),
                args.script.endsWith("\n") ? args.script.slice(0, -1) : args.script,
                convergeTail(key, args.hash, uses, args.script, args.check ?? []),
                "",
            ].join("\n"),
        );
    // The host's sshd hands the command to the login shell as ONE argument, which Linux caps (MAX_ARG_STRLEN): a longer
    // one would fail on the host with "Argument list too long". `uses` is a fixed-length digest, so its size is known.
    // Without `uses` the command measured is the one registered.
    const measured = fitting(name, "converge", build(args.uses === undefined ? undefined : "0".repeat(64)));
    const del = args.deleteScript === undefined ? undefined : fitting(name, "delete", args.host.wrap(args.deleteScript));
    const create: pulumi.Input<string> =
        args.uses === undefined
            ? measured
            : pulumi.output(args.uses).apply((u) => {
                  if (!/^[0-9a-f]{64}$/.test(u)) throw new Error(`remoteScript ${name}: uses must be a sha256 hex digest`);
                  return build(u);
              });
    const converge = new command.remote.Command(
        name,
        {
            connection: args.connection ?? args.host.connection,
            create,
            update: create,
            ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
            addPreviousOutputInEnv: false,
        },
        opts,
    );
    registerConverge(args.host, { name, create, ...(args.stdin !== undefined ? { stdin: args.stdin } : {}) });
    if (del === undefined) return { converge };
    const lifecycle = new command.remote.Command(
        `${name}-lifecycle`,
        {
            connection: args.connection ?? args.host.connection,
            delete: del,
            addPreviousOutputInEnv: false,
        },
        { ...opts, dependsOn: [converge, ...(args.deleteBefore ?? [])] },
    );
    return { converge, lifecycle };
}

/**
 * `connection` with dials that outlast a guard's window of `windowSec` seconds: for a command that must fail to connect
 * until a guard restores what locked it out, then connect and say so. @pulumi/command 1.2.1 retries every dial error
 * (connect, handshake, login) up to `dialErrorLimit` times, waiting 100 ms x1.5 between dials and at most 5 s; a
 * dropped SYN costs `perDialTimeout` per dial, a refused login only the wait. So 10 dials plus one per 5 s of window.
 */
export function outlasting(connection: Connection, windowSec: number): Connection {
    return { ...connection, perDialTimeout: 15, dialErrorLimit: 10 + Math.ceil(windowSec / 5) };
}

/** Linux's limit for one argument (MAX_ARG_STRLEN, 32 pages of 4 KiB, with its terminating NUL). */
export const MAX_COMMAND_BYTES = 32 * 4096 - 1;

/** `command`, when it fits in one argument on a host; else an error naming the resource and both sizes. */
function fitting(name: string, what: string, command: string): string {
    const bytes = Buffer.byteLength(command, "utf8");
    if (bytes > MAX_COMMAND_BYTES) {
        throw new Error(
            `remoteScript ${name}: the ${what} command is ${bytes} bytes; a host runs it as one argument of at most ` +
                `${MAX_COMMAND_BYTES} bytes (Linux's MAX_ARG_STRLEN). Split the component or move content into files (they travel on stdin).`,
        );
    }
    return command;
}

/** A converge as remoteScript registered it: what a host's own drift check (components/drift) is derived from. */
export interface RegisteredConverge {
    /** The converge command's name (how `npm run check` names the resource too). */
    readonly name: string;
    /** The wrapped converge command, as the command runs it. */
    readonly create: pulumi.Input<string>;
    readonly stdin?: pulumi.Input<string>;
}

const convergesByHost = new WeakMap<Host, RegisteredConverge[]>();

function registerConverge(host: Host, c: RegisteredConverge): void {
    const list = convergesByHost.get(host) ?? [];
    list.push(c);
    convergesByHost.set(host, list);
}

/** The converges registered on `host` so far, in the order the program registered them. */
export function hostConverges(host: Host): readonly RegisteredConverge[] {
    return [...(convergesByHost.get(host) ?? [])];
}

/** The content hash a converge command carries on its first line, or undefined for other commands. */
export function scriptHash(createCommand: string | undefined): string | undefined {
    return /# hearth-content: ([0-9a-f]{64})/.exec(createCommand ?? "")?.[1];
}

