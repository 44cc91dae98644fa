// What each resource records as its inputs (state, `pulumi preview` diffs, policy props): Inputs resolved, secrets as
// their values, a Host as its name. The policy pack reads resources through these types.
//
// Types only: nothing here loads at run time. Pure: no Pulumi import.

/** A reason as a component records it (already checked against the component's reason rule). */
type Reason = string;

/** What a command:remote:Command records (the @pulumi/command 1.2.1 inputs hearth and site programs set). */
export interface RemoteCommandProps {
    readonly connection: RemoteConnectionProps;
    /** hearth: `[sudo -n -- ]bash --noprofile --norc -c <the script as one shell word>`. */
    readonly create?: string;
    readonly update?: string;
    readonly delete?: string;
    /** hearth: framed file bodies and secrets (`<byte length>\n<bytes>` repeated). */
    readonly stdin?: string;
    readonly environment?: Readonly<Record<string, string>>;
    readonly triggers?: readonly unknown[];
    readonly addPreviousOutputInEnv?: boolean;
    readonly logging?: string;
}

export interface RemoteConnectionProps {
    readonly host: string;
    readonly port?: number;
    readonly user?: string;
    readonly privateKey?: string;
    readonly password?: string;
    /** The SSH public key the host must present (unset: any key is accepted). */
    readonly hostKey?: string;
    readonly proxy?: Omit<RemoteConnectionProps, "proxy" | "dialErrorLimit" | "perDialTimeout">;
    readonly dialErrorLimit?: number;
    readonly perDialTimeout?: number;
}

/** hearth:systemd:Service records its resolved arguments, its host's name, the rendered main file and the content hash. */
export interface ServiceProps {
    readonly name: string;
    readonly unitName: string;
    readonly dropIn?: { readonly unit: string; readonly name: string };
    readonly description?: string;
    readonly execStart: readonly string[];
    readonly environment: readonly (readonly [string, string])[];
    readonly identity: ServiceIdentity;
    readonly stateDirectory?: string;
    readonly cacheDirectory?: string;
    readonly runtimeDirectory?: string;
    readonly logsDirectory?: string;
    readonly bindPaths: readonly { readonly source: string; readonly target: string }[];
    readonly bindReadOnlyPaths: readonly { readonly source: string; readonly target: string }[];
    readonly readWritePaths: readonly string[];
    readonly network: "none" | "local" | "internet";
    readonly listenPorts: readonly number[];
    readonly memoryMaxMiB?: number;
    readonly cpuQuotaPercent?: number;
    readonly tasksMax?: number;
    readonly oomPolicy: "kill" | "stop" | "continue";
    readonly restart: "on-failure" | "always" | "no";
    readonly restartSec: number;
    /** Credential names only; the values travel as secret stdin frames of the converge command. */
    readonly credentials: readonly string[];
    readonly timer?: { readonly onCalendar: string; readonly persistent: boolean; readonly randomizedDelaySec: number };
    readonly socket?: { readonly listenStream: string; readonly listenPort?: number; readonly idleStopSec: number; readonly targetPort: number };
    readonly loosen: ServiceLoosenings;
    readonly hostname?: string;
    readonly enable: boolean;
    readonly startWhenExists?: string;
    readonly type: "simple" | "exec" | "notify" | "oneshot";
    /** ExecReload= argv; empty without one. */
    readonly execReload: readonly string[];
    readonly workingDirectory?: string;
    readonly environmentFile?: string;
    /** Config files: where the service sees each (`target`), where hearth writes it (`source`) and its mode; never the text. */
    readonly files: readonly { readonly target: string; readonly source: string; readonly mode: number }[];
    /** Typed references, as the unit uses them (the components' labels, units, mounts and watched files). */
    readonly after: readonly ServiceDependencyProps[];
    readonly requires: readonly ServiceDependencyProps[];
    readonly wants: readonly ServiceDependencyProps[];
    /** The host's name. */
    readonly host: string;
    readonly unitText: string;
    readonly hash: string;
}

/** A component a service names in `after`, `requires` or `wants`. */
export interface ServiceDependencyProps {
    readonly label: string;
    readonly units: readonly string[];
    readonly mounts: readonly string[];
    readonly files: readonly string[];
}

/** Who a service runs as. `packaged`: a drop-in keeps the packaged unit's own User=. */
export type ServiceIdentity =
    | { readonly kind: "dynamic" }
    | { readonly kind: "named"; readonly name: string; readonly reason: Reason }
    | { readonly kind: "root"; readonly reason: Reason }
    | { readonly kind: "packaged" };

/** Each loosening of a service's sandbox, with the reason written into the unit. */
export interface ServiceLoosenings {
    readonly writablePaths?: { readonly paths: readonly string[]; readonly reason: Reason };
    readonly capabilities?: { readonly caps: readonly string[]; readonly reason: Reason };
    readonly addressFamilies?: { readonly families: readonly string[]; readonly reason: Reason };
    readonly syscallGroups?: { readonly groups: readonly string[]; readonly reason: Reason };
    readonly namespaces?: { readonly namespaces: readonly string[]; readonly reason: Reason };
    readonly memoryDenyWriteExecute?: { readonly reason: Reason };
    readonly privateDevices?: { readonly reason: Reason };
    readonly privateUsers?: { readonly reason: Reason };
    readonly protectHome?: { readonly reason: Reason };
    readonly procSubset?: { readonly reason: Reason };
}

/** hearth:nspawn:Container records a summary of its resolved arguments (no SSH key). */
export interface ContainerProps {
    readonly host: string;
    readonly machine: string;
    readonly rootfs: { readonly kind: "zfs"; readonly dataset: string } | { readonly kind: "copy"; readonly from: string } | { readonly kind: "existing" };
    /** Always a private network: a veth on a host bridge, or a macvlan on a host interface. */
    readonly network: { readonly kind: "bridge" | "macvlan"; readonly iface: string };
    readonly addresses: readonly string[];
    readonly binds: readonly { readonly source: string; readonly target: string; readonly readWrite: boolean }[];
    /** Capabilities beyond nspawn's default set, each with its reason. */
    readonly capabilities: readonly { readonly name: string; readonly reason: Reason }[];
    readonly limits: { readonly memoryMaxMiB: number; readonly cpuQuotaPercent?: number; readonly tasksMax: number };
    readonly ephemeral: boolean;
    readonly destroyOnDelete: boolean;
    /** The owner id the machine's files are marked with. */
    readonly owner: string;
}

/** hearth:zfs:Dataset records its resolved arguments. */
export interface DatasetProps {
    readonly host: string;
    readonly dataset: string;
    readonly properties: Readonly<Record<string, string>>;
    readonly userProperties: Readonly<Record<string, string>>;
    readonly encryption: boolean;
    readonly adopt: boolean;
    readonly previousNames: readonly string[];
    readonly origin?: string;
    readonly snapshots?: unknown;
    readonly destroyOnDelete: boolean;
    readonly recursive: boolean;
}

/** hearth:postgres:Database records its resolved arguments (never the password). */
export interface DatabaseProps {
    readonly host: string;
    readonly database: string;
    readonly user: string;
    readonly port: number;
    readonly extensions: readonly string[];
    readonly schemas: readonly string[];
    readonly grants: readonly unknown[];
    readonly clients: readonly { readonly cidr: string; readonly ssl: boolean }[];
    readonly authMethod: "scram-sha-256";
    readonly pooler?: unknown;
    readonly tablespaceDataset?: string;
    readonly passwordVersion: number;
    readonly adopt: boolean;
    readonly destroyOnDelete: boolean;
}

/** hearth:wireguard:Link records its plan; keys are generated on the hosts and never recorded. */
export interface LinkProps {
    readonly interfaceName: string;
    readonly network: string;
    readonly mtu: number;
    readonly keepaliveSec?: number;
    readonly keyVersion: number;
    /** `given`: a secret the program passed (its value is not recorded here). */
    readonly presharedKey: "none" | "random" | "given";
    readonly sides: readonly {
        readonly name: string;
        readonly role: string;
        /** The host's name; unset for a side hearth does not manage. */
        readonly host?: string;
        readonly endpoint?: string;
        readonly listenPort?: number;
        readonly subnets: readonly string[];
        readonly addresses: readonly string[];
    }[];
}

/** hearth:dns:Zone records a summary: its records with absolute owner names and their data as zone-file text. */
export interface ZoneProps {
    readonly zone: string;
    readonly backend: "host" | "cloudflare" | "route53";
    readonly ttl: number;
    /** Published to the internet. */
    readonly public: boolean;
    readonly allowPrivate: boolean;
    readonly allowWildcard: boolean;
    readonly records: readonly { readonly name: string; readonly type: string; readonly ttl: number; readonly value: string }[];
    /** Service records whose addresses are known only at deploy time. */
    readonly serviceRecords: readonly { readonly name: string; readonly ttl: number }[];
}
