// HostAccounts (hearth:host:Accounts): the deploy account hearth logs in with, human users, and the one owner of every
// authorized_keys file on a host. A change of the deploy login is applied under the runtime's guard and confirmed by a
// second command that dials afresh as the deploy account; unconfirmed, it is rolled back.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { rehearsalPoint } from "../core/owner";
import { Connection, Host, outlasting, remoteScript } from "../host";
import { publicKeyOfPrivateKey } from "../core/sshkey";
import { claimOnHost, fileObject, ownerMark } from "../ownership";
import { frameStdin, wrapCommand } from "../shell";
import { ACCOUNTS_TYPE } from "../tokens";
import { check, fail } from "../validate";
import { parseArgs } from "../core/schema";
import { AccountsSpec, KEYS_DIR, renderAccounts, ResolvedKey, SSHD_DROPIN, sudoersPath } from "./render";
import { HostAccountsArgs, HostAccountsArgsSchema, KeyArg, keyEntrySchema } from "./schema";

export { HostAccountsArgs, HostAccountsArgsSchema, KeyArg, KeyEntry, UserArgs, RESERVED_USERS, PRIVILEGED_GROUPS, keyEntrySchema } from "./schema";
export { AccountsSpec, ResolvedKey, ResolvedUser, authorizedKeyLine, renderAccounts, KEYS_DIR, SSHD_DROPIN, keysPath, sudoersPath } from "./render";

/** A key as an authorized_keys entry: options resolved (`restrict` defaults to true for a forced command). */
export function resolveKey(k: KeyArg): ResolvedKey {
    if (typeof k === "string") return { key: k, restrict: false };
    return { key: k.key, ...(k.command !== undefined ? { command: k.command } : {}), ...(k.from ? { from: [...k.from] } : {}), restrict: k.restrict ?? k.command !== undefined };
}

/**
 * A forced-command key entry, checked now: how another component (a backup target's key, a container's root key)
 * contributes a line to a user's authorized keys through HostAccounts (pass it in that user's `keys`).
 */
export function forcedCommandKey(key: string, command: string, opts: { from?: readonly string[]; restrict?: boolean } = {}): KeyArg {
    return check(() => parseArgs(keyEntrySchema, { key, command, ...(opts.from ? { from: [...opts.from] } : {}), ...(opts.restrict !== undefined ? { restrict: opts.restrict } : {}) }, ["key"]));
}

/** Checks every argument and resolves defaults; throws an ArgumentError naming the first bad one. */
export function resolveAccountsArgs(args: HostAccountsArgs): { host: Host; spec: AccountsSpec; adopt: boolean } {
    const a = parseArgs(HostAccountsArgsSchema, args);
    const spec: AccountsSpec = {
        deploy: "user" in a.deploy ? { user: a.deploy.user, keys: [...a.deploy.keys] } : { root: { reason: a.deploy.root.reason } },
        users: (a.users ?? []).map((u) => ({ name: u.name, keys: u.keys.map(resolveKey), sudo: u.sudo !== undefined, shell: u.shell ?? "/bin/bash", groups: [...(u.groups ?? [])] })),
        confirmWithinSec: a.confirmWithinSec ?? 120,
    };
    return { host: a.host, spec, adopt: a.adopt ?? false };
}

/**
 * The Host's connection, its private key checked when it resolves: when the Host logs in as an account this resource
 * declares, that account's keys must include the key's public half, or the converge would lock hearth out (every other
 * command on the host, this up and the next, would be refused until the guard rolls back). The converge then fails
 * before it runs, naming the account and the public key to add. A key in a format without a public header (PEM) is
 * not checked; the guard still rolls back a lock-out.
 */
export function keyChecked(name: string, host: Host, spec: AccountsSpec): Connection {
    const login = host.user;
    const keys = "user" in spec.deploy && spec.deploy.user === login ? spec.deploy.keys : spec.users.find((u) => u.name === login)?.keys.map((k) => k.key);
    if (keys === undefined) return host.connection;
    const declared = new Set(keys.map((k) => k.split(" ").slice(0, 2).join(" ")));
    const privateKey = pulumi.output(host.connection.privateKey).apply((pk): string => {
        const pub = typeof pk === "string" ? publicKeyOfPrivateKey(pk) : undefined;
        if (pub !== undefined && !declared.has(pub)) {
            throw new Error(
                `HostAccounts ${name}: the keys declared for ${login}, the account host ${host.name} logs in as, do not include the public half of the Host's private key; ` +
                    `this converge would lock hearth out of ${host.name}. Add it to ${"user" in spec.deploy && spec.deploy.user === login ? "deploy.keys" : `the keys of users '${login}'`}: ${pub}`,
            );
        }
        return pk as string;
    });
    return { ...host.connection, privateKey };
}

export class HostAccounts extends pulumi.ComponentResource {
    /** The converge: accounts, keys files, sudo, the sshd drop-in. */
    readonly command: command.remote.Command;
    /** The confirm: a fresh login as the deploy account, after the converge. Depend on it before switching the Host's user. */
    readonly confirm: command.remote.Command;
    /** The user hearth logs in as once this is applied (`root` with `deploy: { root }`). */
    readonly deployUser: string;

    constructor(name: string, args: HostAccountsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const { host, spec, adopt } = check(() => resolveAccountsArgs(args));
        const deployUser = "user" in spec.deploy ? spec.deploy.user : "root";
        // The Host's own login loses its keys unless it is declared here (every account but root reads only hearth's files).
        if (host.user !== "root" && host.user !== deployUser && !spec.users.some((u) => u.name === host.user && u.sudo)) {
            fail("host", host.user, `a Host whose user is root, the deploy account (${deployUser}) or a declared user with sudo: every account but root reads its keys only from what HostAccounts declares, so '${host.user}' would be locked out (declare it in users with its keys and sudo while you bootstrap)`);
        }
        const mark = ownerMark(ACCOUNTS_TYPE, name, opts, adopt);
        claimOnHost(host, "accounts", mark, "host", host.name);
        claimOnHost(host, fileObject(SSHD_DROPIN), mark, "host", host.name);
        claimOnHost(host, fileObject(KEYS_DIR), mark, "host", host.name);
        for (const u of [...("user" in spec.deploy ? [spec.deploy.user] : []), ...spec.users.filter((x) => x.sudo).map((x) => x.name)]) {
            claimOnHost(host, fileObject(sudoersPath(u)), mark, "users", u);
        }
        rehearsalPoint();
        super(
            ACCOUNTS_TYPE,
            name,
            {
                host: host.name,
                deploy: deployUser,
                users: spec.users.map((u) => ({ name: u.name, keys: u.keys.length, sudo: u.sudo, shell: u.shell, groups: u.groups })),
                confirmWithinSec: spec.confirmWithinSec,
            },
            opts,
        );
        this.deployUser = deployUser;
        const r = renderAccounts(spec, mark);
        const cmds = remoteScript(
            `${name}-accounts`,
            { host, script: r.script, deleteScript: r.deleteScript, stdin: frameStdin(r.frames), hash: r.hash, check: r.check, connection: keyChecked(name, host, spec) },
            { parent: this },
        );
        this.command = cmds.converge;
        // Dials afresh (its own command) as the deploy account with the Host's key, through sudo -n like every converge.
        const confirmConnection = outlasting({ ...host.connection, user: deployUser }, spec.confirmWithinSec);
        const confirmCommand = wrapCommand(r.confirmScript, deployUser !== "root");
        this.confirm = new command.remote.Command(
            `${name}-confirm`,
            { connection: confirmConnection, create: confirmCommand, update: confirmCommand, addPreviousOutputInEnv: false },
            { parent: this, dependsOn: [cmds.converge] },
        );
        this.registerOutputs({});
    }
}
