// HostAccounts rendering (pure: no Pulumi): the converge, the delete and the confirm over the runtime.
//
// On the host:
//   /etc/ssh/hearth/authorized_keys/<user>       the whole of a user's authorized keys: root's file, 0644, in
//                                                root-only directories (sshd reads it as the user; nobody can edit it)
//   /etc/ssh/sshd_config.d/00-hearth-accounts.conf  every account but root reads its keys only from those files
//   /etc/sudoers.d/hearth-<user>                 passwordless, TTY-less sudo (checked with visudo -cf first)
//   /var/lib/hearth/accounts/                    the last known-good deploy login (good/, restore.sh) for the guard
//   applied accounts/owner                       the one resource that owns all of the above (claimed first)
//   applied accounts/users                       the users hearth manages (one removed from the declaration is locked)
//   applied accounts/created                     the accounts hearth created (an existing system account is never taken)
//   applied accounts/groups/<user>               the groups hearth added <user> to (taken away when no longer declared)
//   applied accounts/login                       the deploy login's files as last applied and made live (sshd reloaded)
import { createHash } from "crypto";
import { OwnerMark } from "../core/owner";
import { contentHash, Script, shq } from "../shell";

export const KEYS_DIR = "/etc/ssh/hearth/authorized_keys";
export const SSHD_DROPIN = "/etc/ssh/sshd_config.d/00-hearth-accounts.conf";
export const SUDOERS_DIR = "/etc/sudoers.d";
/** The guard's name (runtime: hearth_guard_*). */
export const GUARD = "accounts";

export interface ResolvedKey {
    /** The public key line as given (`<type> <base64> [comment]`). */
    readonly key: string;
    readonly command?: string;
    readonly from?: readonly string[];
    readonly restrict: boolean;
}

export interface ResolvedUser {
    readonly name: string;
    readonly keys: readonly ResolvedKey[];
    readonly sudo: boolean;
    readonly shell: string;
    readonly groups: readonly string[];
}

export interface AccountsSpec {
    /** The deploy login: a dedicated account, or root (whose keys hearth leaves alone). */
    readonly deploy: { readonly user: string; readonly keys: readonly string[] } | { readonly root: { readonly reason: string } };
    readonly users: readonly ResolvedUser[];
    readonly confirmWithinSec: number;
}

/** One authorized_keys line: options (restrict, from=, command=) then the key. */
export function authorizedKeyLine(k: ResolvedKey): string {
    const opts: string[] = [];
    if (k.restrict) opts.push("restrict");
    if (k.from && k.from.length) opts.push(`from="${k.from.join(",")}"`);
    if (k.command !== undefined) opts.push(`command="${k.command}"`);
    return opts.length ? `${opts.join(",")} ${k.key}` : k.key;
}

export const keysPath = (user: string) => `${KEYS_DIR}/${user}`;
export const sudoersPath = (user: string) => `${SUDOERS_DIR}/hearth-${user}`;

/** A keys file: the mark, a line saying where it comes from, then one line per key. */
export function renderKeysFile(user: string, keys: readonly ResolvedKey[], mark: OwnerMark): string {
    return [`# hearth-owner: ${mark.id}`, `# The authorized keys of ${user}, written by hearth (HostAccounts): edits here are overwritten, keys in ~/.ssh are not read.`, ...keys.map(authorizedKeyLine), ""].join("\n");
}

/** The sshd drop-in: every account but root reads its keys from hearth's files only. */
export function renderSshdDropIn(mark: OwnerMark): string {
    return [
        `# hearth-owner: ${mark.id}`,
        `# Every account but root reads its authorized keys only from the root-owned files below ${KEYS_DIR} (HostAccounts):`,
        "# a key in ~/.ssh does not log in, and an account hearth declares no keys for has none.",
        "Match User *,!root",
        `\tAuthorizedKeysFile ${KEYS_DIR}/%u`,
        "\tAuthorizedKeysCommand none",
        "Match all",
        "",
    ].join("\n");
}

/** The sudoers file hearth_account_sudoers writes for `user` (the runtime prints exactly these lines). */
export function renderSudoers(user: string, mark: OwnerMark): string {
    return [`# hearth-owner: ${mark.id}`, `${user} ALL=(ALL:ALL) NOPASSWD: ALL`, `Defaults:${user} !requiretty`, ""].join("\n");
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

/** What the runtime's hearth_digest prints for these files (path, mode, owner, content), or "absent" for undefined. */
export function fileDigest(files: readonly (readonly [string, { mode: string; content: string } | undefined])[]): string {
    return sha256(files.map(([p, f]) => (f ? `${p} file ${f.mode} root root ${sha256(f.content)}\n` : `${p} absent\n`)).join(""));
}

export interface RenderedAccounts {
    readonly script: string;
    readonly deleteScript: string;
    /** Run over a fresh login as the deploy account: confirms the guarded change, or says it was rolled back. */
    readonly confirmScript: string;
    /** The files the converge installs from stdin, in order (their bodies are the stdin frames). */
    readonly frames: readonly string[];
    readonly check: readonly string[];
    /** The digest of the deploy login's files (drop-in, keys, sudoers) as declared. */
    readonly loginDigest: string;
    readonly hash: string;
}

export function renderAccounts(spec: AccountsSpec, mark: OwnerMark): RenderedAccounts {
    const deployUser = "user" in spec.deploy ? spec.deploy.user : undefined;
    const deployKeys: ResolvedKey[] = "user" in spec.deploy ? spec.deploy.keys.map((key) => ({ key, restrict: false })) : [];
    const dropIn = renderSshdDropIn(mark);
    // The deploy login's files: what a change of can lock hearth out, so it is applied under the guard.
    const loginFiles: (readonly [string, { mode: string; content: string }])[] = [[SSHD_DROPIN, { mode: "644", content: dropIn }]];
    if (deployUser) {
        loginFiles.push([keysPath(deployUser), { mode: "644", content: renderKeysFile(deployUser, deployKeys, mark) }]);
        loginFiles.push([sudoersPath(deployUser), { mode: "440", content: renderSudoers(deployUser, mark) }]);
    }
    const loginPaths = loginFiles.map(([p]) => p);
    const loginDigest = fileDigest(loginFiles);
    const declared = [...(deployUser ? [deployUser] : []), ...spec.users.map((u) => u.name)];
    const sudoers = [...(deployUser ? [deployUser] : []), ...spec.users.filter((u) => u.sudo).map((u) => u.name)];
    const frames: string[] = [];

    const s = new Script("HostAccounts: accounts, authorized keys, sudo").owner(mark);
    s.raw("hearth_lock accounts");
    // The host's accounts are this resource's (or nobody's) before anything is read for a decision or changed.
    s.raw("hearth_keys_own");
    // Everything the host must offer is checked before anything changes.
    if (deployUser) s.cmd("hearth_account_can", deployUser, "/bin/bash", "1");
    for (const u of spec.users) s.cmd("hearth_account_can", u.name, u.shell, "0", ...u.groups);
    s.cmd("hearth_keys_claim", SSHD_DROPIN, ...sudoers.map(sudoersPath));
    // Remembered before they change, so a run killed half-way still locks a removed user on the next run.
    s.cmd("hearth_account_manage", ...declared);
    if (deployUser) s.cmd("hearth_account_ensure", deployUser, "/bin/bash", "1");
    for (const u of spec.users) s.cmd("hearth_account_ensure", u.name, u.shell, "0", ...u.groups);
    s.raw(`hearth_dir ${KEYS_DIR}`);
    for (const u of spec.users) {
        frames.push(renderKeysFile(u.name, u.keys, mark));
        s.install({ path: keysPath(u.name), content: frames[frames.length - 1], mode: 0o644 });
        if (u.sudo) s.cmd("hearth_account_sudoers", u.name);
    }
    // The deploy login: the guard is armed (the known-good files kept) before its files change.
    s.cmd("hearth_keys_guard", String(spec.confirmWithinSec), loginDigest, ...loginPaths);
    s.install({ path: SSHD_DROPIN, content: dropIn, mode: 0o644 });
    frames.push(dropIn);
    if (deployUser) {
        s.install({ path: keysPath(deployUser), content: loginFiles[1][1].content, mode: 0o644 });
        frames.push(loginFiles[1][1].content);
        s.cmd("hearth_account_sudoers", deployUser);
    }
    s.cmd("hearth_keys_live", loginDigest, ...loginPaths);
    // What is no longer declared: its keys file and sudo go, its account is locked (never deleted).
    s.cmd("hearth_keys_prune", ...declared.map((n) => `k:${n}`), ...sudoers.map((n) => `s:${n}`));
    s.cmd("hearth_account_retire", ...declared);
    const script = s.render();

    const d = new Script("HostAccounts (delete): keys files, sudo and the sshd drop-in removed, accounts locked").owner(mark);
    d.raw("hearth_lock accounts", "hearth_keys_remove_all");
    const deleteScript = d.render();

    const c = new Script("HostAccounts: confirm the deploy login over a fresh connection").owner(mark);
    c.cmd("hearth_keys_confirm", loginDigest, ...loginPaths);
    const confirmScript = c.render();

    const check = [
        ["hearth_keys_check_sshd", SSHD_DROPIN].map(shq).join(" "),
        ["hearth_keys_check_guard", GUARD].map(shq).join(" "),
        ["hearth_keys_check_files", ...declared.map((n) => `k:${n}`), ...sudoers.map((n) => `s:${n}`)].map(shq).join(" "),
        ...sudoers.map((n) => ["hearth_keys_check_sudoers", n, mark.id].map(shq).join(" ")),
        ["hearth_keys_check_admins", ...sudoers].map(shq).join(" "),
    ];
    return { script, deleteScript, confirmScript, frames, check, loginDigest, hash: contentHash(script, deleteScript, confirmScript) };
}
