// The normalized record shape every backend consumes; plain data, shared by the pure renderer and the validating model.

export const RECORD_TYPES = ["A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA", "NS"] as const;
export type DnsRecordType = (typeof RECORD_TYPES)[number];

/** Record data in one normalized shape: names absolute without trailing dot ("." for the root), addresses canonical. */
export type RecordData =
    | { readonly type: "A" | "AAAA"; readonly address: string }
    | { readonly type: "CNAME" | "NS"; readonly target: string }
    | { readonly type: "TXT"; readonly text: string }
    | { readonly type: "MX"; readonly priority: number; readonly exchange: string }
    | { readonly type: "SRV"; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }
    | { readonly type: "CAA"; readonly flags: number; readonly tag: string; readonly value: string };

/** One resource record as every backend consumes it. */
export type ZoneRecord = RecordData & {
    /** Relative to the zone, "@" for the apex. */
    readonly owner: string;
    readonly ttl: number;
    readonly proxied: boolean;
    /** The argument path it came from, for error messages (`["records", 3]`). */
    readonly path: readonly (string | number)[];
};
