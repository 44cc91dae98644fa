// PostgresDb renderer: resolved spec in, converge/delete scripts, pg_hba and pgbouncer fragments and stdin frames out (pure).
import { Script, contentHash, frameStdin, shq } from "../shell";
import { DbSpec, quoteLiteral, renderConvergeSql, renderDeleteSql } from "./sql";

export interface PoolerSpec {
    readonly port: number;
    readonly listenAddress: string;
    readonly poolMode: "session" | "transaction";
}

export interface HbaClient {
    readonly cidr: string;
    readonly ssl: boolean;
}

/** Where hearth keeps its fragments and what it locks; tests point these at a temp dir. */
export interface PostgresPaths {
    /** Fragments of pg_hba and pgbouncer, per database (`<dir>/postgres/<port>/hba.d`, `<dir>/pgbouncer/…`). */
    readonly hearthDir: string;
    readonly pgbouncerDir: string;
    /** Serialises every PostgresDb script on a host (they share pg_hba.conf and pgbouncer's files). */
    readonly lockFile: string;
}

export const DEFAULT_PATHS: PostgresPaths = { hearthDir: "/etc/hearth", pgbouncerDir: "/etc/pgbouncer", lockFile: "/run/hearth-postgres.lock" };

export interface PostgresSpec {
    readonly db: DbSpec;
    readonly port: number;
    readonly socketDir: string;
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
    /** Hash of everything non-secret; the password's effect reaches the command through its (secret) stdin. */
    readonly hash: string;
}

const BOUNCER_MARK = ";; hearth: pgbouncer configuration written by hearth (PostgresDb pooler)";

function hbaPath(spec: PostgresSpec): string {
    return `${spec.paths.hearthDir}/postgres/${spec.port}/hba.d/${spec.db.database}.conf`;
}
function bouncerDbPath(spec: PostgresSpec): string {
    return `${spec.paths.hearthDir}/pgbouncer/databases.d/${spec.db.database}.ini`;
}
function bouncerUserPath(spec: PostgresSpec): string {
    return `${spec.paths.hearthDir}/pgbouncer/users.d/${spec.db.user}.txt`;
}

export function renderHbaFragment(spec: PostgresSpec): string {
    const lines = [`# hearth: database ${spec.db.database}, role ${spec.db.user}`];
    const clients = [...spec.clients];
    // pgbouncer logs in over loopback TCP with the client's SCRAM proof, so loopback needs its own scram line.
    if (spec.pooler && !clients.some((c) => c.cidr === "127.0.0.1/32")) clients.push({ cidr: "127.0.0.1/32", ssl: false });
    for (const c of clients) lines.push(`${c.ssl ? "hostssl" : "host"} "${spec.db.database}" "${spec.db.user}" ${c.cidr} scram-sha-256`);
    return lines.join("\n") + "\n";
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

export function renderPgbouncerDatabase(spec: PostgresSpec, pooler: PoolerSpec): string {
    return `${spec.db.database} = host=127.0.0.1 port=${spec.port} dbname=${spec.db.database} pool_mode=${pooler.poolMode}\n`;
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

const HELPERS = String.raw`cd /
hearth_work=$(mktemp -d)
trap 'rm -rf -- "$hearth_work"; if [ -n "$hearth_tmp" ]; then rm -f -- "$hearth_tmp"; fi' EXIT
hearth_psql() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$pg_socket" -p "$pg_port" "$@"; }
# hearth_assemble TARGET MODE OWNER GROUP HEADER DIR SUFFIX: HEADER, then every DIR/*SUFFIX fragment (sorted), only when it changes.
hearth_assemble() {
  local target=$1 new="$1.hearth-new" f
  shopt -s nullglob
  { printf '%s\n' "$5"; for f in "$6"/*"$7"; do cat -- "$f"; done; } > "$new"
  shopt -u nullglob
  chown -- "$3:$4" "$new"
  chmod -- "$2" "$new"
  if [ -f "$target" ] && cmp -s -- "$new" "$target" && [ "$(stat -c '%a %U %G' -- "$target")" = "$(stat -c '%a %U %G' -- "$new")" ]; then
    rm -f -- "$new"
  else
    mv -f -T -- "$new" "$target"
    hearth_changed=$((hearth_changed + 1))
    echo "hearth: wrote $target"
  fi
}
# The server reloads asynchronously; wait until a new session sees the reload so the next login uses the new rules.
hearth_reload_pg() {
  local before
  before=$(hearth_psql -d postgres -At -c 'SELECT pg_conf_load_time()')
  hearth_psql -d postgres -At -c 'SELECT pg_reload_conf()' >/dev/null
  for _ in $(seq 1 50); do
    if [ "$(hearth_psql -d postgres -At -c 'SELECT pg_conf_load_time()')" != "$before" ]; then return 0; fi
    sleep 0.1
  done
  echo "hearth: PostgreSQL did not report the reload within 5s" >&2
}
# Rebuilds hearth's block at the top of pg_hba.conf from the fragments, keeping every other line of the file as it is.
hearth_update_hba() {
  local hba new
  hba=$(hearth_psql -d postgres -At -c 'SHOW hba_file')
  new="$hba.hearth-new"
  shopt -s nullglob
  {
    echo "# BEGIN hearth: PostgresDb entries (change the components, not these lines)"
    for f in "$pg_hba_dir"/*.conf; do cat -- "$f"; done
    echo "# END hearth"
    awk '/^# BEGIN hearth: /{skip=1; next} skip && /^# END hearth$/{skip=0; next} !skip' "$hba"
  } > "$new"
  shopt -u nullglob
  chown --reference="$hba" -- "$new"
  chmod --reference="$hba" -- "$new"
  if cmp -s -- "$new" "$hba"; then rm -f -- "$new"; return 0; fi
  cp -p -- "$hba" "$hba.hearth-prev"
  mv -f -T -- "$new" "$hba"
  # pg_hba_file_rules parses the file on disk: a rule the server would reject is caught before the reload.
  if [ "$(hearth_psql -d postgres -At -c 'SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL')" != 0 ]; then
    mv -f -T -- "$hba.hearth-prev" "$hba"
    echo "hearth: the new pg_hba.conf has errors; the previous one was restored" >&2
    exit 1
  fi
  echo "hearth: updated $hba"
  hearth_reload_pg
}
hearth_wait_pg() {
  for _ in $(seq 1 30); do
    if hearth_psql -d postgres -At -c 'SELECT 1' >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "hearth: cannot reach PostgreSQL on $pg_socket port $pg_port" >&2
  exit 1
}`;

function common(s: Script, spec: PostgresSpec): void {
    s.raw(
        `pg_port=${spec.port}`,
        `pg_socket=${shq(spec.socketDir)}`,
        `pg_hba_dir=${shq(`${spec.paths.hearthDir}/postgres/${spec.port}/hba.d`)}`,
        ...(spec.pooler ? [`bouncer_dir=${shq(spec.paths.pgbouncerDir)}`, `bouncer_frag=${shq(`${spec.paths.hearthDir}/pgbouncer`)}`] : []),
        HELPERS,
        `exec 9>>${shq(spec.paths.lockFile)}`,
        "flock 9",
    );
}

/**
 * Reassembles pgbouncer's database list and userlist from the fragments and makes pgbouncer see them: a restart when
 * pgbouncer.ini changed (listen settings are read only at start), a reload when only fragments did. Changes are
 * counted from `$hearth_bouncer_before`, set before any pgbouncer file was touched.
 */
function bouncerApply(s: Script, converge: boolean): void {
    s.raw(
        `hearth_assemble "$bouncer_dir/hearth-databases.ini" 0640 root postgres '[databases]' "$bouncer_frag/databases.d" .ini`,
        `hearth_assemble "$bouncer_dir/hearth-userlist.txt" 0600 postgres postgres ';; hearth: pgbouncer users (SCRAM verifiers)' "$bouncer_frag/users.d" .txt`,
        `if [ -f "$bouncer_dir/pgbouncer.ini" ] && head -n 1 "$bouncer_dir/pgbouncer.ini" | grep -q '^;; hearth: '; then`,
    );
    if (converge) {
        s.raw(
            '  if [ "$hearth_ini_changed" -gt 0 ] || ! systemctl is-active -q pgbouncer; then',
            "    systemctl enable -q pgbouncer",
            "    systemctl restart pgbouncer",
            "    echo 'hearth: restarted pgbouncer'",
            '  elif [ "$hearth_changed" -gt "$hearth_bouncer_before" ]; then',
        );
    } else {
        s.raw('  if [ "$hearth_changed" -gt "$hearth_bouncer_before" ] && systemctl is-active -q pgbouncer; then');
    }
    s.raw("    systemctl reload pgbouncer", "    echo 'hearth: reloaded pgbouncer'", "  fi", "fi");
}

export function renderScripts(spec: PostgresSpec): RenderedPostgres {
    const db = spec.db;
    const convergeSql = renderConvergeSql(db);
    const deleteSql = renderDeleteSql(db, spec.destroyOnDelete);
    const hbaFragment = renderHbaFragment(spec);
    const pgbouncerIni = spec.pooler ? renderPgbouncerIni(spec, spec.pooler) : undefined;
    const pgbouncerDatabase = spec.pooler ? renderPgbouncerDatabase(spec, spec.pooler) : undefined;

    const s = new Script(`postgres database ${db.database}`);
    common(s, spec);
    s.raw(
        'hearth_secret_sql="$hearth_work/secret.sql"',
        'hearth_frame "$hearth_secret_sql"',
        'hearth_sql="$hearth_work/converge.sql"',
        'hearth_frame "$hearth_sql"',
        "hearth_wait_pg",
    );
    const psqlVars: string[] = [];
    if (spec.tablespaceDataset !== undefined) {
        s.raw(
            `hearth_ds=${shq(spec.tablespaceDataset)}`,
            `if [ "$(zfs get -H -o value mounted "$hearth_ds")" != yes ]; then echo "hearth: dataset $hearth_ds is not mounted; refusing to place tablespace ${db.tablespace} on the directory beneath it" >&2; exit 1; fi`,
            // A subdirectory, not the mountpoint itself: if the dataset is ever unmounted, it is missing instead of empty.
            'hearth_loc="$(zfs get -H -o value mountpoint "$hearth_ds")/pg"',
            'install -d -o postgres -g postgres -m 0700 -- "$hearth_loc"',
        );
        psqlVars.push('-v "hearth_ts_location=$hearth_loc"');
    }
    s.raw(
        `cat -- "$hearth_secret_sql" "$hearth_sql" | hearth_psql -d postgres ${psqlVars.join(" ")}`.trimEnd(),
        `echo "hearth: database ${db.database} and role ${db.user} converged"`,
    );
    s.install({ path: hbaPath(spec), content: hbaFragment, mode: 0o644 });
    if (spec.pooler) {
        s.raw(
            // One pgbouncer serves every PostgresDb on the host, so its listen settings must agree across them.
            "hearth_others=0",
            `if [ -d "$bouncer_frag/databases.d" ]; then hearth_others=$(find "$bouncer_frag/databases.d" -name '*.ini' ! -name ${shq(`${db.database}.ini`)} | wc -l); fi`,
            `if [ "$hearth_others" -gt 0 ] && [ -f "$bouncer_dir/pgbouncer.ini" ] && ! { grep -qx ${shq(`listen_port = ${spec.pooler.port}`)} "$bouncer_dir/pgbouncer.ini" && grep -qx ${shq(`listen_addr = ${spec.pooler.listenAddress}`)} "$bouncer_dir/pgbouncer.ini"; }; then`,
            `  echo "hearth: pgbouncer on this host already listens elsewhere for other databases; every PostgresDb pooler on a host must use port ${spec.pooler.port} and address ${spec.pooler.listenAddress} alike" >&2`,
            "  exit 1",
            "fi",
            `if [ -f "$bouncer_dir/pgbouncer.ini" ] && ! head -n 1 "$bouncer_dir/pgbouncer.ini" | grep -q '^;; hearth: ' && [ ! -e "$bouncer_dir/pgbouncer.ini.hearth-orig" ]; then`,
            '  cp -p -- "$bouncer_dir/pgbouncer.ini" "$bouncer_dir/pgbouncer.ini.hearth-orig"',
            "fi",
            "hearth_bouncer_before=$hearth_changed",
        );
        s.install({ path: `${spec.paths.pgbouncerDir}/pgbouncer.ini`, content: pgbouncerIni!, mode: 0o640, group: "postgres" });
        s.raw("hearth_ini_changed=$((hearth_changed - hearth_bouncer_before))");
        s.install({ path: bouncerDbPath(spec), content: pgbouncerDatabase!, mode: 0o644 });
        s.raw(
            'hearth_user="$hearth_work/user.txt"',
            'hearth_frame "$hearth_user"',
            `hearth_user_dest=${shq(bouncerUserPath(spec))}`,
            'mkdir -p -- "$(dirname -- "$hearth_user_dest")"',
            'chmod 0700 -- "$(dirname -- "$hearth_user_dest")"',
            'if ! cmp -s -- "$hearth_user" "$hearth_user_dest"; then',
            '  install -m 0600 -- "$hearth_user" "$hearth_user_dest.hearth-new"',
            '  mv -f -T -- "$hearth_user_dest.hearth-new" "$hearth_user_dest"',
            "  hearth_changed=$((hearth_changed + 1))",
            "fi",
            "hearth_update_hba",
        );
        bouncerApply(s, true);
    } else {
        s.raw("hearth_update_hba");
    }
    s.raw(`echo "hearth: uri host port ${spec.port} database ${db.database} user ${db.user}"`);

    const d = new Script(`postgres database ${db.database} (delete)`);
    common(d, spec);
    d.raw(
        "hearth_wait_pg",
        ...(spec.pooler ? ["hearth_bouncer_before=$hearth_changed"] : []),
        `hearth_remove ${shq(hbaPath(spec))}`,
        `hearth_remove ${shq(bouncerDbPath(spec))}`,
        `hearth_remove ${shq(bouncerUserPath(spec))}`,
        "hearth_update_hba",
    );
    if (spec.pooler) {
        bouncerApply(d, false);
    }
    d.raw('hearth_sql="$hearth_work/delete.sql"', `printf '%s' ${shq(deleteSql)} > "$hearth_sql"`);
    if (spec.destroyOnDelete) {
        d.raw(
            `hearth_mark=$(hearth_psql -d postgres -At -c ${shq(`SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = ${quoteLiteral(db.database)}`)})`,
            'if [ "$hearth_mark" = hearth:managed ]; then',
            `  install -d -m 0700 -- ${shq(spec.dumpDir)}`,
            `  hearth_dump=${shq(`${spec.dumpDir}/${db.database}-`)}"$(date -u +%Y%m%dT%H%M%SZ).dump"`,
            // The final dump is written by root from pg_dump's stdout; the drop runs only once it is complete.
            `  runuser -u postgres -- pg_dump -h "$pg_socket" -p "$pg_port" -Fc -d ${shq(db.database)} > "$hearth_dump.partial"`,
            '  if [ ! -s "$hearth_dump.partial" ]; then echo "hearth: the final dump is empty; not dropping anything" >&2; exit 1; fi',
            '  mv -f -T -- "$hearth_dump.partial" "$hearth_dump"',
            '  echo "hearth: final dump written to $hearth_dump"',
            "fi",
        );
    }
    d.raw('hearth_psql -d postgres < "$hearth_sql"', `echo "hearth: ${spec.destroyOnDelete ? `dropped database ${db.database} (after a final dump)` : `kept database ${db.database} and role ${db.user}; no longer managed by hearth`}"`);

    const script = s.render();
    const deleteScript = d.render();
    const hash = contentHash(script, deleteScript, convergeSql, hbaFragment, pgbouncerIni ?? "", pgbouncerDatabase ?? "");
    return { script, deleteScript, convergeSql, deleteSql, hbaFragment, pgbouncerIni, pgbouncerDatabase, hash };
}
