// Configuration files from the site config: HostFileArgs with the host looked up and a secret content read from its
// secret config key.
import * as pulumi from "@pulumi/pulumi";
import { Host, HostFile, HostFileArgs } from "../../components";
import { FileConfig } from "../config/files";
import { SecretSource } from "./hosts";

export function fileArgs(f: FileConfig, host: Host, secret: SecretSource): HostFileArgs {
    const { name: _n, host: _h, dependsOn: _d, content, secretContent, ...rest } = f;
    if (secretContent !== undefined) return { ...rest, host, secret: true, content: secret(secretContent) };
    return { ...rest, host, content: content! };
}

export function createFiles(files: readonly FileConfig[], hostFor: (name: string) => Host, secret: SecretSource, optsFor: (name: string) => pulumi.ComponentResourceOptions = () => ({})): Map<string, HostFile> {
    return new Map(files.map((f) => [f.name, new HostFile(f.name, fileArgs(f, hostFor(f.host), secret), optsFor(f.name))]));
}
