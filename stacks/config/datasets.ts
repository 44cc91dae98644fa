// Site config for ZFS datasets: ZfsDatasetArgs with the host named instead of given (the component's schema, its
// limits and its cross-field rules).
import { z } from "zod";
import { checkZfsDataset, zfsDatasetFields } from "../../components";
import { label, list, record } from "./fields";
import { dependsOnField } from "./services";

const { destroyOnDelete: _d, recursive: _r, ...tablespaceFields } = zfsDatasetFields;

/** ZfsDatasetArgs fields a tablespace takes: all but `host`, and the delete options its database decides. */
export const datasetFields = tablespaceFields;

export const datasetSchema = record(
    {
        /** Resource name. */
        name: label(),
        host: label("the name of a host in hearth:hosts"),
        ...zfsDatasetFields,
        dependsOn: dependsOnField(),
    },
    "a dataset",
).superRefine(checkZfsDataset);
export type DatasetConfig = z.infer<typeof datasetSchema>;
export const datasetsSchema = list(datasetSchema, "a list of datasets", 1000);
