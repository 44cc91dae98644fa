// Compile-time checks that each config section offers exactly the arguments of its component (so neither drifts).
import type {
    DnsZoneArgs,
    NspawnContainerArgs,
    PostgresDbArgs,
    SystemdLoosenings,
    SystemdServiceArgs,
    WireguardLinkArgs,
    WireguardSideArgs,
    ZfsDatasetArgs,
} from "../../components";
import type { ContainerConfig } from "./containers";
import type { DatabaseConfig } from "./databases";
import type { DatasetConfig } from "./datasets";
import type { ServiceConfig } from "./services";
import type { SideConfig, WireguardConfig } from "./wireguard";
import type { ZoneConfig } from "./zones";

/** `true` only when A and B have the same keys; anything else fails to type-check below. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : { onlyInConfig: Exclude<keyof A, keyof B>; onlyInComponent: Exclude<keyof B, keyof A> };

type Loosen = NonNullable<ServiceConfig["loosen"]>;

// `name` and `host` are the config's own (resource name, host by name); the rest maps one to one.
export const SERVICE_KEYS: SameKeys<Omit<ServiceConfig, "name">, SystemdServiceArgs> = true;
export const LOOSEN_KEYS: SameKeys<Loosen, SystemdLoosenings> = true;
export const DATASET_KEYS: SameKeys<Omit<DatasetConfig, "name">, ZfsDatasetArgs> = true;
export const DATABASE_KEYS: SameKeys<Omit<DatabaseConfig, "name">, PostgresDbArgs> = true;
export const CONTAINER_KEYS: SameKeys<Omit<ContainerConfig, "name">, NspawnContainerArgs> = true;
// A side may also name the site that manages it (`stack`), which the site program turns into `publicKey`/`endpoint`.
export const SIDE_KEYS: SameKeys<Omit<SideConfig, "stack">, WireguardSideArgs> = true;
export const LINK_KEYS: SameKeys<Omit<WireguardConfig, "name">, WireguardLinkArgs> = true;
export const ZONE_KEYS: SameKeys<Omit<ZoneConfig, "name">, DnsZoneArgs> = true;
