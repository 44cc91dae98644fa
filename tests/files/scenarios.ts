// HostFile render scenarios shared by the renderer's specs and the runtime's (every script passes shellcheck).
import { OwnerMark } from "../../components/core/owner";
import { FileSpec } from "../../components/files/render";

export const FILE_MARK: OwnerMark = { id: "home/prod/hearth:files:File/conf", aliases: ["home/prod/hearth:files:File/old"], adopt: false };
export const FILE_BASE: FileSpec = { path: "/etc/radicale/conf.d/hearth.conf", mode: "0644", owner: "root", group: "root", createParents: false, adopt: false, secret: false };

/** One FileSpec per way a HostFile's scripts differ: plain, owned, secret, created parents, adopted original. */
export const FILE_SCENARIOS: Record<string, FileSpec> = {
    plain: FILE_BASE,
    owned: { ...FILE_BASE, owner: "radicale", group: "radicale", mode: "0640" },
    secret: { ...FILE_BASE, path: "/etc/radicale/users", secret: true, mode: "0600" },
    parents: { ...FILE_BASE, path: "/usr/local/etc/app/conf.d/a.conf", createParents: true },
    adopt: { ...FILE_BASE, path: "/etc/default/radicale", adopt: true },
};
