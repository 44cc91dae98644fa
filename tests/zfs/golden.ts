// The zfs and postgres specs use the one golden-file helper.
export { golden } from "../golden";
