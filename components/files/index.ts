// HostFile: a configuration file that belongs to no single service (a package's conf.d snippet, /etc/default/<pkg>).
export { HostFileArgs, HostFileArgsSchema, hostFileShape, checkHostFile, configPath, fileContent, isFileContent, MAX_CONTENT_BYTES } from "./schema";
