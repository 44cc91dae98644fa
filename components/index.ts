// hearth's public API: everything a user imports.
export * from "./tokens";
export { Host, HostArgs, HostFacts, BastionArgs, Connection, remoteScript, RemoteScriptArgs, RemoteScript, scriptHash } from "./host";
export { shq, Script, RenderedFile, frameStdin, contentHash } from "./shell";
export * from "./net";
export * from "./wireguard";
export * from "./systemd";
export * from "./nspawn";
export * from "./zfs";
export * from "./postgres";
export * from "./dns";
