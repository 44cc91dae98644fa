// Golden files for the nspawn specs, through the one golden-file helper (`UPDATE_GOLDEN=1` rewrites them).
import * as path from "path";
import { golden as compare } from "../golden";

export function golden(name: string, actual: string): void {
    compare(path.join(__dirname, "golden"), name, actual);
}
