// Dataset specs for renderer specs: the defaults resolveZfsDatasetArgs would give, overridden per case.
import { DatasetSpec } from "../../components/zfs/render";

export function parseTestSpec(over: Partial<DatasetSpec> & { dataset: string }): DatasetSpec {
    return {
        properties: {},
        userProperties: {},
        encryption: false,
        adopt: false,
        previousNames: [],
        destroyOnDelete: false,
        recursive: false,
        autosnap: false,
        ...over,
    };
}
