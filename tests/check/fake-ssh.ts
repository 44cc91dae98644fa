// A fake `ssh` for specs: put first on PATH, it records its argv, its stdin and the config and known_hosts it was
// given (-F), and answers as FAKE_SSH_MODE says. No connection is ever made.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export type FakeSshMode = "clean" | "drift" | "silent" | "unreachable" | "fail" | "hang" | "leak";

const SCRIPT = `#!/bin/bash
log=$FAKE_SSH_LOG
printf '%s\\n' "$@" >"$log/argv"
cfg=
prev=
for a in "$@"; do
  if [ "$prev" = -F ]; then cfg=$a; fi
  prev=$a
done
if [ -n "$cfg" ]; then
  cp -- "$cfg" "$log/config"
  stat -c %a -- "$cfg" >"$log/config.mode"
  kh=$(awk '$1 == "UserKnownHostsFile" { print $2; exit }' "$cfg")
  if [ -n "$kh" ]; then cp -- "$kh" "$log/known_hosts"; fi
  idf=$(awk '$1 == "IdentityFile" { print $2; exit }' "$cfg")
  printf '%s' "$idf" >"$log/identity"
fi
cat >"$log/stdin"
names=$(sed -n 's/^ *hearth_check_begin //p' "$log/stdin" | sed "s/^'\\(.*\\)'$/\\1/")
case $FAKE_SSH_MODE in
  unreachable)
    echo "ssh: connect to host 10.0.0.5 port 22: Connection refused" >&2
    exit 255
    ;;
  hang) exec sleep 30 ;;
  fail)
    echo "bash: line 1: hearth_check_begin: command not found" >&2
    exit 3
    ;;
  silent) exit 0 ;;
esac
echo "Welcome (a banner the report ignores)"
first=1
while IFS= read -r n; do
  printf 'hearth-check\\t%s\\n' "$n"
  if [ "$FAKE_SSH_MODE" = drift ] && [ $first = 1 ]; then printf 'hearth-drift\\t%s\\t%s\\t%s\\n' "unit web.service active" active inactive; fi
  if [ "$FAKE_SSH_MODE" = leak ] && [ $first = 1 ]; then printf 'hearth-error\\t1\\n'; fi
  first=0
done <<<"$names"
exit 0
`;

/** Installs the fake on PATH for the duration of a spec; `log` is where it records each run. */
export class FakeSsh {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-fake-ssh-"));
    readonly log = path.join(this.dir, "log");
    private saved: Record<string, string | undefined> = {};

    install(mode: FakeSshMode): void {
        fs.mkdirSync(this.log, { recursive: true });
        for (const f of fs.readdirSync(this.log)) fs.rmSync(path.join(this.log, f));
        fs.writeFileSync(path.join(this.dir, "ssh"), SCRIPT, { mode: 0o755 });
        for (const k of ["PATH", "FAKE_SSH_LOG", "FAKE_SSH_MODE"]) if (!(k in this.saved)) this.saved[k] = process.env[k];
        process.env.PATH = `${this.dir}:${this.saved.PATH ?? "/usr/bin:/bin"}`;
        process.env.FAKE_SSH_LOG = this.log;
        process.env.FAKE_SSH_MODE = mode;
    }

    /** What the last run recorded, or undefined when ssh never ran. */
    read(file: "argv" | "stdin" | "config" | "config.mode" | "known_hosts" | "identity"): string | undefined {
        const p = path.join(this.log, file);
        return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : undefined;
    }

    ran(): boolean {
        return this.read("argv") !== undefined;
    }

    uninstall(): void {
        for (const [k, v] of Object.entries(this.saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
        this.saved = {};
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
