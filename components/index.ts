// hearth's public API: everything a user imports.
export * from "./tokens";
export { Host, HostArgs, HostFacts, BastionArgs, Connection, remoteScript, RemoteScriptArgs, RemoteScript, scriptHash } from "./host";
export { HostArgsSchema, hostFields, sshEndpointFields, hostFactsSchema, HOST_ZFS_COMPRESSION } from "./host-schema";
export { shq, Script, RenderedFile, frameStdin, contentHash, unwrapCommand, unquote } from "./shell";
// Drift checks: derived from each converge, joined per host, read back (npm run check).
export { checkOfConverge, renderHostCheck, parseCheckOutput, reportName, ResourceCheck, ResourceReport, Drift } from "./core/check";
export * from "./net";
export * from "./wireguard";
export * from "./systemd";
export * from "./nspawn";
export * from "./zfs";
export * from "./postgres";
export * from "./dns";
export * from "./packages";
export * from "./files";
export * from "./drift";
// The host baseline: accounts and keys, tuning, upgrades, the firewall; HostBaseline declares them together.
export * from "./accounts";
export * from "./tuning";
export * from "./upgrades";
export * from "./firewall";
export * from "./baseline";
export { ServiceDependency, Dependable, isDependable } from "./refs";
export { htpasswdLine } from "./core/htpasswd";
// Argument errors and the shared schema rules: site programs and libraries build their own config on them.
export { ArgumentError, describe, HIDDEN, isSecretName } from "./core/errors";
export { rehearse, Rehearsed, forgetClaims } from "./core/owner";
export { declaredAt, listeningHosts } from "./core/owner";
export * as rules from "./core/schema";
export * as ip from "./core/ip";
