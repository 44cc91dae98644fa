// Site config for ZFS datasets (ZfsDatasetArgs; a database's tablespace takes the same fields).
import { z } from "zod";
import { bool, dict, int, label, list, oneOf, record } from "./fields";
import { hostPathField } from "./rules";

/**
 * Rules the component owns in full (dataset names, CIDRs, SQL names) are left to it; its errors come back at the key
 * path. Host paths are checked here too, by the same core rule the component uses.
 */
const text = (allowed: string) => z.string({ error: () => allowed });
const MAX_MIB = 2 ** 30;
/** Every ZfsDatasetArgs field except `host`; shared by datasets and a database's tablespace. */
export const datasetFields = {
    dataset: text("a dataset path 'pool/name'"),
    compression: text("a compression algorithm").optional(),
    recordsizeKiB: int(1, 128).optional(),
    quotaMiB: int(1, MAX_MIB).optional(),
    refquotaMiB: int(1, MAX_MIB).optional(),
    reservationMiB: int(1, MAX_MIB).optional(),
    mountpoint: hostPathField({ notSystemTree: true }, ["none", "legacy"]).optional(),
    canmount: oneOf(["on", "off", "noauto"]).optional(),
    atime: bool().optional(),
    readonly: bool().optional(),
    xattr: oneOf(["on", "off", "sa"]).optional(),
    userProperties: dict(/^[a-z0-9_.-]+:[a-z0-9_.:-]+$/, "a user property 'module:name'", text("a string"), "a mapping of module:name: value").optional(),
    encryption: bool().optional(),
    adopt: bool().optional(),
    previousNames: list(text("a dataset path"), "a list of dataset paths", 16).optional(),
    origin: text("a snapshot 'pool/dataset@name'").optional(),
    snapshots: record(
        {
            every: oneOf(["hourly", "daily", "weekly"]),
            keep: record({ hourly: int(0, 1000).optional(), daily: int(0, 1000).optional(), weekly: int(0, 1000).optional() }, "a retention"),
        },
        "a snapshot policy",
    ).optional(),
};

export const datasetSchema = record(
    {
        /** Resource name. */
        name: label(),
        host: label("the name of a host in hearth:hosts"),
        ...datasetFields,
        destroyOnDelete: bool().optional(),
        recursive: bool().optional(),
    },
    "a dataset",
);
export type DatasetConfig = z.infer<typeof datasetSchema>;
export const datasetsSchema = list(datasetSchema, "a list of datasets", 1000);
