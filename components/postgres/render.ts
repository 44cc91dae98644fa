// PostgresDb renderer: resolved spec and owner mark in, converge/delete scripts, pg_hba and pgbouncer fragments and
// stdin frames out (pure). Scripts are call sequences over the one runtime (components/core/runtime.sh).
import { OwnerMark } from "../core/owner";
import { Script, contentHash, frameStdin, shq } from "../shell";
import {
    DbSpec, managedSchemas, quoteLiteral, renderConvergeSql, renderCreateDatabaseSql, renderCreateRoleSql, renderDeleteSql, renderMoveBackSql, renderTablespaceSql,
} from "./sql";

export interface PoolerSpec {
    readonly port: number;
    readonly listenAddress: string;
    readonly poolMode: "session" | "transaction";
}

export interface HbaClient {
    readonly cidr: string;
    readonly ssl: boolean;
}

/** Where hearth keeps its fragments and state; tests point these at a root-only temp dir. */
export interface PostgresPaths {
    /** Fragments of pg_hba and pgbouncer, per database (`<dir>/postgres/<port>/hba.d`, `<dir>/pgbouncer/…`). */
    readonly hearthDir: string;
    readonly pgbouncerDir: string;
    /** Root-only state: the previous pg_hba.conf per cluster, kept for a rollback (`<dir>/<port>/pg_hba.conf.prev`). */
    readonly stateDir: string;
}

export const DEFAULT_PATHS: PostgresPaths = { hearthDir: "/etc/hearth", pgbouncerDir: "/etc/pgbouncer", stateDir: "/var/lib/hearth/postgres" };

export interface PostgresSpec {
    readonly db: DbSpec;
    readonly port: number;
    readonly socketDir: string;
    /** The cluster's server unit (`postgresql@<version>-<cluster>.service`): the converge starts it when it is stopped. */
    readonly unit: string;
    readonly clients: readonly HbaClient[];
    readonly pooler?: PoolerSpec;
    /** The ZFS dataset whose mountpoint (`<mountpoint>/pg`) holds the tablespace. */
    readonly tablespaceDataset?: string;
    readonly destroyOnDelete: boolean;
    readonly dumpDir: string;
    readonly paths: PostgresPaths;
}

export interface RenderedPostgres {
    readonly script: string;
    readonly deleteScript: string;
    readonly convergeSql: string;
    readonly deleteSql: string;
    readonly hbaFragment: string;
    readonly pgbouncerIni?: string;
    readonly pgbouncerDatabase?: string;
    /** The component's read-only drift checks (core/check.ts), from the same spec as the converge. */
    readonly check: readonly string[];
    /** Hash of everything non-secret; the password's effect reaches the command through its (secret) stdin. */
    readonly hash: string;
}

const BOUNCER_MARK = ";; hearth: pgbouncer configuration written by hearth (PostgresDb pooler)";

function hbaDir(spec: PostgresSpec): string {
    return `${spec.paths.hearthDir}/postgres/${spec.port}/hba.d`;
}
// Fragment names: `<database>.db.conf`, `<database>.db.ini`, `<user>.role.txt`. Earlier releases wrote `<database>.conf`,
// `<database>.ini` and `<user>.txt`, and their deletes (still stored in some state after an upgrade) remove those
// names without looking at any mark: a fragment of this release must never carry one of them. Names are SQL
// identifiers (no dots), so the two sets never meet.
function hbaPath(spec: PostgresSpec): string {
    return `${hbaDir(spec)}/${spec.db.database}.db.conf`;
}
function bouncerDbPath(spec: PostgresSpec): string {
    return `${spec.paths.hearthDir}/pgbouncer/databases.d/${spec.db.database}.db.ini`;
}
function bouncerUserPath(spec: PostgresSpec): string {
    return `${spec.paths.hearthDir}/pgbouncer/users.d/${spec.db.user}.role.txt`;
}
/** The names earlier releases gave this database's fragments: taken over (removed) by the converge. */
function legacyFragmentPaths(spec: PostgresSpec): string[] {
    return [
        `${hbaDir(spec)}/${spec.db.database}.conf`,
        `${spec.paths.hearthDir}/pgbouncer/databases.d/${spec.db.database}.ini`,
        `${spec.paths.hearthDir}/pgbouncer/users.d/${spec.db.user}.txt`,
    ];
}

/** Removes the fragments earlier releases wrote under this database's names, when they are this resource's to take. */
function dropLegacyFragments(s: Script, spec: PostgresSpec): void {
    for (const f of legacyFragmentPaths(spec)) {
        s.raw(
            `if [ -f ${shq(f)} ] && hearth_mine "$(hearth_pg_fragment_owner ${shq(f)})"; then`,
            `  hearth_remove ${shq(f)}`,
            "fi",
        );
    }
}

/** The database's pg_hba rules, in order. */
function hbaRules(spec: PostgresSpec): string[] {
    const clients = [...spec.clients];
    // pgbouncer logs in over loopback TCP with the client's SCRAM proof, so loopback needs its own scram line.
    if (spec.pooler && !clients.some((c) => c.cidr === "127.0.0.1/32")) clients.push({ cidr: "127.0.0.1/32", ssl: false });
    return clients.map((c) => `${c.ssl ? "hostssl" : "host"} "${spec.db.database}" "${spec.db.user}" ${c.cidr} scram-sha-256`);
}

export function renderHbaFragment(spec: PostgresSpec, mark: OwnerMark): string {
    return [`# hearth: database ${spec.db.database}, role ${spec.db.user}`, `# hearth-owner: ${mark.id}`, ...hbaRules(spec)].join("\n") + "\n";
}

export function renderPgbouncerIni(spec: PostgresSpec, pooler: PoolerSpec): string {
    const d = spec.paths.pgbouncerDir;
    return [
        BOUNCER_MARK,
        ";; Shared by every PostgresDb with a pooler on this host; the package's file was kept as pgbouncer.ini.hearth-orig.",
        `%include ${d}/hearth-databases.ini`,
        "",
        "[pgbouncer]",
        `listen_addr = ${pooler.listenAddress}`,
        `listen_port = ${pooler.port}`,
        "unix_socket_dir = /var/run/postgresql",
        "auth_type = scram-sha-256",
        `auth_file = ${d}/hearth-userlist.txt`,
        "pool_mode = session",
        "ignore_startup_parameters = extra_float_digits",
        "logfile = /var/log/postgresql/pgbouncer.log",
        "pidfile = /var/run/postgresql/pgbouncer.pid",
        "",
    ].join("\n");
}

/** The database's line in pgbouncer's [databases] list. */
function pgbouncerEntry(spec: PostgresSpec, pooler: PoolerSpec): string {
    return `${spec.db.database} = host=127.0.0.1 port=${spec.port} dbname=${spec.db.database} pool_mode=${pooler.poolMode}`;
}

export function renderPgbouncerDatabase(spec: PostgresSpec, pooler: PoolerSpec, mark: OwnerMark): string {
    return `; hearth-owner: ${mark.id}\n${pgbouncerEntry(spec, pooler)}\n`;
}

/** The applied-state key the converge records the digest of the role's password verifier under. */
export function verifierKey(spec: PostgresSpec): string {
    return `postgres/${spec.port}/role/${spec.db.user}/verifier`;
}

/**
 * The read-only checks of a converged database (runtime hearth_pg_check_*), from the same spec as its converge: the
 * server runs, the database and role are as declared (the verifier against what the converge recorded), the access
 * hearth grants, its pg_hba lines and pgbouncer entry. The converge's files and completion are checked without them.
 */
export function renderChecks(spec: PostgresSpec, mark: OwnerMark): string[] {
    const db = spec.db;
    const at = [shq(spec.socketDir), String(spec.port)];
    const line = (fn: string, ...args: string[]) => [fn, ...at, ...args.map(shq)].join(" ");
    const grantees = [...new Set(db.grants.map((g) => g.role))].sort();
    const out = [
        ["hearth_pg_check_server", shq(spec.unit), ...at].join(" "),
        line("hearth_pg_check_database", db.database, db.user, String(db.connectionLimit), db.tablespace ?? "-", mark.id),
        line("hearth_pg_check_connect", db.database, grantees.join(",")),
        line("hearth_pg_check_role", db.user, mark.id, verifierKey(spec)),
        ...db.extensions.map((e) => line("hearth_pg_check_extension", db.database, e)),
        ...managedSchemas(db).map((schema) => {
            const grants = db.grants.filter((g) => g.schema === schema).flatMap((g) => g.privileges.map((p) => `${g.role}=${p}`));
            return line("hearth_pg_check_schema", db.database, schema, db.user, [...new Set(grants)].sort().join(" "));
        }),
        line("hearth_pg_check_hba", ...hbaRules(spec)),
    ];
    if (spec.pooler) {
        out.push(["hearth_pg_check_bouncer", ...[spec.paths.pgbouncerDir, db.database, pgbouncerEntry(spec, spec.pooler), db.user, verifierKey(spec)].map(shq)].join(" "));
    }
    return out;
}

/** The secret stdin frames, in the order the converge script reads them: psql's verifier variable, then the pgbouncer user line. */
export function secretFrames(spec: PostgresSpec, verifier: string): string[] {
    if (!/^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/.test(verifier)) throw new Error("not a SCRAM-SHA-256 verifier");
    const frames = [`\\set hearth_verifier ${quoteLiteral(verifier)}\n`];
    if (spec.pooler) frames.push(`"${spec.db.user}" "${verifier}"\n`);
    return frames;
}

/** Every stdin frame of the converge script, given the verifier (call inside an Output so the result stays secret). */
export function convergeStdin(r: RenderedPostgres, spec: PostgresSpec, verifier: string): string {
    const [pw, user] = secretFrames(spec, verifier);
    const files = [r.hbaFragment, ...(r.pgbouncerIni !== undefined ? [r.pgbouncerIni, r.pgbouncerDatabase!] : [])];
    return frameStdin([pw, r.convergeSql, ...files, ...(user !== undefined ? [user] : [])]);
}

function common(s: Script, spec: PostgresSpec, mark: OwnerMark, start = false): void {
    s.owner(mark);
    s.raw(
        `pg_port=${spec.port}`,
        `pg_socket=${shq(spec.socketDir)}`,
        `pg_hba_dir=${shq(hbaDir(spec))}`,
        `pg_state=${shq(`${spec.paths.stateDir}/${spec.port}`)}`,
        `bouncer_dir=${shq(spec.paths.pgbouncerDir)}`,
        `bouncer_frag=${shq(`${spec.paths.hearthDir}/pgbouncer`)}`,
        // Every PostgresDb script on a host shares pg_hba.conf and pgbouncer's files.
        "hearth_lock postgres",
    );
    // hearth_pg_start waits for the server itself, after one look when it answers already.
    s.raw(start ? `hearth_pg_start "$pg_socket" "$pg_port" ${shq(spec.unit)}` : 'hearth_pg_wait "$pg_socket" "$pg_port"');
}

/** Removes this resource's fragments: those it marked under any name, and legacy ones under its own names. */
function dropOwnFragments(d: Script, spec: PostgresSpec): void {
    for (const f of [hbaPath(spec), bouncerDbPath(spec), bouncerUserPath(spec), ...legacyFragmentPaths(spec)]) {
        d.raw(
            `if [ -f ${shq(f)} ]; then`,
            `  hearth_found=$(hearth_pg_fragment_owner ${shq(f)})`,
            '  if hearth_mine "$hearth_found"; then',
            `    hearth_remove ${shq(f)}`,
            "  else",
            `    hearth_say ${shq(`leaving ${f}: it is owned by `)}"$hearth_found"`,
            "  fi",
            "fi",
        );
    }
    d.raw(
        'hearth_pg_drop_strays "$pg_hba_dir" .conf -',
        'hearth_pg_drop_strays "$bouncer_frag/databases.d" .ini -',
        'hearth_pg_drop_strays "$bouncer_frag/users.d" .txt -',
    );
}

export function renderScripts(spec: PostgresSpec, mark: OwnerMark): RenderedPostgres {
    const db = spec.db;
    const convergeSql = renderConvergeSql(db, mark);
    const deleteSql = renderDeleteSql(db, spec.destroyOnDelete, mark);
    const hbaFragment = renderHbaFragment(spec, mark);
    const pgbouncerIni = spec.pooler ? renderPgbouncerIni(spec, spec.pooler) : undefined;
    const pgbouncerDatabase = spec.pooler ? renderPgbouncerDatabase(spec, spec.pooler, mark) : undefined;
    const role = shq(`role "${db.user}"`);
    const database = shq(`database "${db.database}"`);
    // The tablespace a database of this name gets (args.ts): the one to leave when `tablespace` is no longer declared.
    const ownTablespace = db.tablespace ?? `hearth_${db.database}`.slice(0, 63);

    const s = new Script(`postgres database ${db.database}`);
    common(s, spec, mark, true);
    s.raw(
        "hearth_private_tmp",
        "hearth_secret_sql=$hearth_tmp",
        'hearth_frame "$hearth_secret_sql"',
        "hearth_private_tmp",
        "hearth_sql=$hearth_tmp",
        'hearth_frame "$hearth_sql"',
        // Ownership first: nothing is changed on a role or database another resource (or no one) owns.
        `hearth_pg_probe "$pg_socket" "$pg_port" ${shq(db.user)} ${shq(db.database)}`,
        `if [ "$hearth_role_new" = 0 ]; then hearth_claim ${role} "$hearth_role_mark"; fi`,
        `if [ "$hearth_db_new" = 0 ]; then hearth_claim ${database} "$hearth_db_mark"; fi`,
        // Everything the database needs runs as one psql session, in order, each statement committed before the next
        // (see the pieces' own comments): a session stopped anywhere is finished by the re-run, which probes again.
        "hearth_private_tmp",
        "hearth_session=$hearth_tmp",
    );
    if (spec.tablespaceDataset !== undefined && db.tablespace !== undefined) {
        s.raw(
            `hearth_ds=${shq(spec.tablespaceDataset)}`,
            `if [ "$(zfs get -H -o value mounted "$hearth_ds")" != yes ]; then hearth_die 1 "dataset $hearth_ds is not mounted; refusing to place tablespace ${db.tablespace} on the directory beneath it"; fi`,
            // A subdirectory, not the mountpoint itself: if the dataset is ever unmounted, it is missing instead of empty.
            'hearth_mnt=$(zfs get -H -o value mountpoint "$hearth_ds")',
            'hearth_dir "$hearth_mnt"',
            'hearth_loc="$hearth_mnt/pg"',
            'if [ ! -e "$hearth_loc" ] && [ ! -L "$hearth_loc" ]; then',
            '  mkdir -m 0700 -- "$hearth_loc"',
            "  hearth_step",
            "fi",
            'if [ ! -d "$hearth_loc" ] || [ -L "$hearth_loc" ]; then hearth_die 65 "$hearth_loc is not a directory"; fi',
            'if [ "$(stat -c \'%a %U %G\' -- "$hearth_loc")" != "700 postgres postgres" ]; then',
            // The parent is root-only (hearth_dir above), so nobody can swap the directory between the check and here.
            '  chown postgres:postgres -- "$hearth_loc"',
            '  chmod 0700 -- "$hearth_loc"',
            "  hearth_step",
            "fi",
            `printf '%s' ${shq(renderTablespaceSql(db.tablespace, mark))} >>"$hearth_session"`,
        );
    } else {
        s.raw(
            '# A database that lost its tablespace moves back to pg_default before its dataset can be released.',
            'if [ "$hearth_db_new" = 0 ]; then',
            `  printf '%s' ${shq(renderMoveBackSql(db, ownTablespace, mark))} >>"$hearth_session"`,
            "fi",
        );
    }
    s.raw(
        `if [ "$hearth_role_new" = 1 ]; then printf '%s' ${shq(renderCreateRoleSql(db, mark))} >>"$hearth_session"; fi`,
        // Created under a name of this resource's own, marked, then renamed into place: a run stopped in between
        // leaves no unmarked database under the real name, and the re-run drops the leftover and starts over.
        `if [ "$hearth_db_new" = 1 ]; then printf '%s' ${shq(renderCreateDatabaseSql(db, mark))} >>"$hearth_session"; fi`,
        'cat -- "$hearth_secret_sql" "$hearth_sql" >>"$hearth_session"',
        // The verifier it set is recorded as a digest: the drift check tells a password changed behind hearth's back.
        `hearth_pg_converge "$pg_socket" "$pg_port" ${shq(db.user)} "$hearth_session"${spec.tablespaceDataset !== undefined && db.tablespace !== undefined ? ' -v "hearth_ts_location=$hearth_loc"' : ""}`,
        `if [ "$hearth_role_new" = 1 ]; then hearth_say ${shq(`created role ${db.user}`)}; fi`,
        `if [ "$hearth_db_new" = 1 ]; then hearth_say ${shq(`created database ${db.database}`)}; fi`,
        `hearth_say ${shq(`database ${db.database} and role ${db.user} converged`)}`,
    );
    s.raw(
        `hearth_found=$(if [ -f ${shq(hbaPath(spec))} ]; then hearth_pg_fragment_owner ${shq(hbaPath(spec))}; fi)`,
        `if [ -n "$hearth_found" ]; then hearth_claim ${shq(`pg_hba fragment ${hbaPath(spec)}`)} "$hearth_found"; fi`,
    );
    s.install({ path: hbaPath(spec), content: hbaFragment, mode: 0o644 });
    s.raw(`hearth_pg_drop_strays "$pg_hba_dir" .conf ${shq(`${db.database}.db.conf`)}`);
    if (spec.pooler) {
        s.raw(
            // One pgbouncer serves every PostgresDb on the host, so its listen settings must agree across them.
            // Other resources' entries count; this resource's own (under any name) do not.
            "hearth_others=0",
            'for hearth_f in "$bouncer_frag/databases.d"/*.ini; do',
            '  if [ -f "$hearth_f" ] && [ -z "$(hearth_marked "$hearth_f")" ]; then hearth_others=$((hearth_others + 1)); fi',
            "done",
            `if [ "$hearth_others" -gt 0 ] && [ -f "$bouncer_dir/pgbouncer.ini" ] && ! { grep -qxF ${shq(`listen_port = ${spec.pooler.port}`)} "$bouncer_dir/pgbouncer.ini" && grep -qxF ${shq(`listen_addr = ${spec.pooler.listenAddress}`)} "$bouncer_dir/pgbouncer.ini"; }; then`,
            `  hearth_die 1 ${shq(`pgbouncer on this host already listens elsewhere for other databases; every PostgresDb pooler on a host must use port ${spec.pooler.port} and address ${spec.pooler.listenAddress} alike`)}`,
            "fi",
            // The package's own pgbouncer.ini is kept once (atomically: a partial copy would be kept forever).
            'hearth_first=""',
            'if [ -f "$bouncer_dir/pgbouncer.ini" ] && [ ! -L "$bouncer_dir/pgbouncer.ini" ]; then IFS= read -r hearth_first <"$bouncer_dir/pgbouncer.ini" || true; fi',
            'if [ -f "$bouncer_dir/pgbouncer.ini" ] && [ "${hearth_first#;; hearth: }" = "$hearth_first" ] && [ ! -e "$bouncer_dir/pgbouncer.ini.hearth-orig" ]; then',
            '  hearth_dir "$bouncer_dir"',
            '  hearth_tmp_in "$bouncer_dir"',
            '  hearth_orig=$hearth_tmp',
            '  cp -p -- "$bouncer_dir/pgbouncer.ini" "$hearth_orig"',
            '  mv -f -T -- "$hearth_orig" "$bouncer_dir/pgbouncer.ini.hearth-orig"',
            "  hearth_step",
            "fi",
            `hearth_found=$(if [ -f ${shq(bouncerDbPath(spec))} ]; then hearth_pg_fragment_owner ${shq(bouncerDbPath(spec))}; fi)`,
            `if [ -n "$hearth_found" ]; then hearth_claim ${shq(`pgbouncer entry ${db.database}`)} "$hearth_found"; fi`,
            `hearth_found=$(if [ -f ${shq(bouncerUserPath(spec))} ]; then hearth_pg_fragment_owner ${shq(bouncerUserPath(spec))}; fi)`,
            `if [ -n "$hearth_found" ]; then hearth_claim ${shq(`pgbouncer user ${db.user}`)} "$hearth_found"; fi`,
        );
        s.install({ path: `${spec.paths.pgbouncerDir}/pgbouncer.ini`, content: pgbouncerIni!, mode: 0o640, group: "postgres" });
        s.install({ path: bouncerDbPath(spec), content: pgbouncerDatabase!, mode: 0o644 });
        s.raw(
            // The user line is a secret frame; the owner line goes above it.
            `hearth_user_dest=${shq(bouncerUserPath(spec))}`,
            'hearth_dir "${hearth_user_dest%/*}" 0700',
            "hearth_private_tmp",
            "hearth_user=$hearth_tmp",
            'hearth_frame "$hearth_user"',
            'hearth_tmp_in "${hearth_user_dest%/*}"',
            'hearth_user_new=$hearth_tmp',
            `{ printf '; hearth-owner: %s\\n' "$hearth_owner"; cat -- "$hearth_user"; } >"$hearth_user_new"`,
            'hearth_put "$hearth_user_new" "$hearth_user_dest" 0600 root root',
        );
    }
    s.raw(
        `hearth_pg_drop_strays "$bouncer_frag/databases.d" .ini ${spec.pooler ? shq(`${db.database}.db.ini`) : "-"}`,
        `hearth_pg_drop_strays "$bouncer_frag/users.d" .txt ${spec.pooler ? shq(`${db.user}.role.txt`) : "-"}`,
    );
    dropLegacyFragments(s, spec);
    s.raw(
        'hearth_pg_update_hba "$pg_socket" "$pg_port" "$pg_hba_dir" "$pg_state"',
        `hearth_bouncer_apply "$bouncer_dir" "$bouncer_frag" ${spec.pooler ? 1 : 0}`,
        `hearth_say ${shq(`uri host port ${spec.port} database ${db.database} user ${db.user}`)}`,
    );

    const d = new Script(`postgres database ${db.database} (delete)`);
    common(d, spec, mark);
    dropOwnFragments(d, spec);
    d.raw('hearth_pg_update_hba "$pg_socket" "$pg_port" "$pg_hba_dir" "$pg_state"', 'hearth_bouncer_apply "$bouncer_dir" "$bouncer_frag" 0');
    d.raw(
        `hearth_pg_probe "$pg_socket" "$pg_port" ${shq(db.user)} ${shq(db.database)}`,
        'if [ "$hearth_db_new" = 0 ] && ! hearth_mine "$hearth_db_mark"; then',
        `  hearth_say ${shq(`database ${db.database} is not this resource's (mark: `)}"\${hearth_db_mark:-none}); the delete leaves it alone"`,
        "fi",
        'if [ "$hearth_role_new" = 0 ] && ! hearth_mine "$hearth_role_mark"; then',
        `  hearth_say ${shq(`role ${db.user} is not this resource's (mark: `)}"\${hearth_role_mark:-none}); the delete leaves it alone"`,
        "fi",
    );
    if (spec.destroyOnDelete) {
        d.raw(
            'if [ -n "$hearth_db_mark" ] && hearth_mine "$hearth_db_mark"; then',
            `  hearth_dir ${shq(spec.dumpDir)} 0700`,
            `  hearth_dump=${shq(`${spec.dumpDir}/${db.database}-`)}"$(date -u +%Y%m%dT%H%M%SZ).dump"`,
            // The final dump is written by root from pg_dump's stdout; the drop runs only once it is complete.
            `  hearth_tmp_in ${shq(spec.dumpDir)}`,
            '  hearth_partial=$hearth_tmp',
            `  runuser -u postgres -- pg_dump -h "$pg_socket" -p "$pg_port" -Fc -d ${shq(db.database)} >"$hearth_partial"`,
            '  if [ ! -s "$hearth_partial" ]; then hearth_die 1 "the final dump is empty; not dropping anything"; fi',
            '  chmod 0600 -- "$hearth_partial"',
            '  mv -f -T -- "$hearth_partial" "$hearth_dump"',
            "  hearth_step",
            '  hearth_say "final dump written to $hearth_dump"',
            "fi",
        );
    }
    d.raw(
        `printf '%s' ${shq(deleteSql)} | hearth_pg_psql "$pg_socket" "$pg_port"`,
        "hearth_step",
        `hearth_say ${shq(spec.destroyOnDelete ? `dropped what this resource owned of database ${db.database} and role ${db.user} (after a final dump)` : `kept database ${db.database} and role ${db.user}; no longer managed by hearth`)}`,
    );

    const script = s.render();
    const deleteScript = d.render();
    const hash = contentHash(script, deleteScript, convergeSql, hbaFragment, pgbouncerIni ?? "", pgbouncerDatabase ?? "");
    return { script, deleteScript, convergeSql, deleteSql, hbaFragment, pgbouncerIni, pgbouncerDatabase, check: renderChecks(spec, mark), hash };
}
