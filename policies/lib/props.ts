// The props each resource type records, as the policies read them, and a reader for props of any shape.
import type { ContainerProps, DatabaseProps, DatasetProps, LinkProps, RemoteCommandProps, ServiceProps, ZoneProps } from "../../components/core/props";
import type { CONTAINER_TYPE, DATABASE_TYPE, DATASET_TYPE, REMOTE_COMMAND_TYPE, SERVICE_TYPE, WIREGUARD_TYPE, ZONE_TYPE } from "../../components/tokens";

type Recorded = { [K in typeof SERVICE_TYPE]: ServiceProps } & { [K in typeof CONTAINER_TYPE]: ContainerProps } & { [K in typeof DATASET_TYPE]: DatasetProps } &
    { [K in typeof DATABASE_TYPE]: DatabaseProps } & { [K in typeof WIREGUARD_TYPE]: LinkProps } & { [K in typeof ZONE_TYPE]: ZoneProps } &
    { [K in typeof REMOTE_COMMAND_TYPE]: RemoteCommandProps };

/** The props a resource of type `T` records: a hearth component's or a remote command's, else (a provider's) unknown. */
export type PropsOf<T extends string> = T extends keyof Recorded ? Recorded[T] : Readonly<Record<string, unknown>>;

/** One resource a policy looks at: its type and the props that type records (a union over `T`, narrowed by `type`). */
export type TypedResource<T extends string> = T extends unknown ? { readonly type: T; readonly props: PropsOf<T> } : never;

/** Every string in a value, with the path to it (`a.b[2]`), skipping the given top-level keys. */
export function stringsIn(value: unknown, skip: readonly string[] = [], path = ""): { path: string; value: string }[] {
    if (typeof value === "string") return [{ path, value }];
    if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, [], `${path}[${i}]`));
    if (value && typeof value === "object") {
        return Object.entries(value)
            .filter(([k]) => !(path === "" && skip.includes(k)))
            .flatMap(([k, v]) => stringsIn(v, [], path ? `${path}.${k}` : k));
    }
    return [];
}
