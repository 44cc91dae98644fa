// Type tokens of every hearth component (`hearth:<module>:<Type>`), shared by components, mocks and policies.
export const SERVICE_TYPE = "hearth:systemd:Service";
export const DATASET_TYPE = "hearth:zfs:Dataset";
export const CONTAINER_TYPE = "hearth:nspawn:Container";
export const WIREGUARD_TYPE = "hearth:wireguard:Link";
export const DATABASE_TYPE = "hearth:postgres:Database";
export const ZONE_TYPE = "hearth:dns:Zone";
export const FILE_TYPE = "hearth:files:File";
export const PACKAGES_TYPE = "hearth:apt:Packages";
export const DRIFT_TIMER_TYPE = "hearth:check:DriftTimer";
export const FIREWALL_TYPE = "hearth:host:Firewall";
export const ACCOUNTS_TYPE = "hearth:host:Accounts";
export const UPGRADES_TYPE = "hearth:host:Upgrades";
export const TUNING_TYPE = "hearth:host:Tuning";
export const BASELINE_TYPE = "hearth:host:Baseline";

/** The @pulumi/command resource every component converges a host with. */
export const REMOTE_COMMAND_TYPE = "command:remote:Command";
