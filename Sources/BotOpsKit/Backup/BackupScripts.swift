import Foundation
import HostCommands

/// The remote steps of a backup, as values. Every step is one `docker exec` or plain file
/// operation whose status is checked on its own: the host's /bin/sh has no `pipefail`, so no
/// step's failure may hide behind a pipe. Output goes to files in a private temporary directory,
/// named as a backup only by the final rename.
public struct BackupScripts: Sendable {
    public let directory: StateDirectory
    public let container: String
    public let user: String
    public let database: String
    public let checkout: String
    /// Where the throwaway server's initialised data directory is kept, one tar per db image id.
    public let templates: StateDirectory
    /// The state directory `templates` is in.
    let stateDirectory: StateDirectory
    /// Room a template takes (an initialised empty cluster is about 40 MB), counted against
    /// backup.min_free_disk when a verification will write one on backup.dir's disk.
    static let templateBytes: Int64 = 48 << 20

    public init(config: BotOpsConfig) {
        directory = config.backup.directory(state: config.deploy.stateDirectory)
        templates = StateDirectory(path: config.deploy.stateDirectory.path + "/verify-template")
        stateDirectory = config.deploy.stateDirectory
        container = config.database.container
        user = config.database.user
        database = config.database.name
        checkout = config.path
    }

    /// Settings under which `row::text` is the same on every server and client (README: Backups).
    static let settings = """
        SET TimeZone = 'UTC';
        SET DateStyle = 'ISO';
        SET IntervalStyle = 'postgres';
        SET extra_float_digits = 3;
        SET bytea_output = 'hex';
        """

    /// For every table outside the system schemas, one `table {json}` line with its row count and
    /// checksum; then one `sequence {json}` line per sequence. psql's `\gexec` runs the generated
    /// per-table queries, so no table list is assumed.
    static let figures = #"""
        SELECT format('SELECT ''table '' || json_build_object(''schema'', %L, ''name'', %L, ''rows'', count(*), ''checksum'', coalesce(sum((''x'' || substr(md5(t::text), 1, 16))::bit(64)::bigint), 0)::text)::text FROM %I.%I t',
                      n.nspname, c.relname, n.nspname, c.relname)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
           AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
         ORDER BY n.nspname, c.relname
        \gexec
        SELECT 'sequence ' || json_build_object('schema', schemaname, 'name', sequencename, 'last_value', last_value)::text
          FROM pg_sequences ORDER BY schemaname, sequencename;
        """#

    /// The dump's gzip level. pg_dump's default (6) makes the dump CPU-bound, and the figures
    /// share the host's cores with it: level 1 costs a third of the time for a file about 8 %
    /// larger (README: Benchmarks).
    static let compressionLevel = 1

    /// Refuses a backup.dir inside the checkout (before creating anything), creates it (mode 750)
    /// and reports the free space on its disk and the size of the newest dump there.
    public func preflight() -> RemoteCommand {
        RemoteCommand("""
            dir=$(realpath -m -- \(directory.script)) && app=$(realpath -m -- \(checkout)) || exit 70
            case "$dir/" in "$app"/*) echo "inside $app"; exit 0;; esac
            (umask 027 && mkdir -p -- "$dir") || { echo "cannot create the backup directory $dir" >&2; exit 70; }
            echo "dir $dir"
            \(FreeDisk.script("\"$dir\"", label: "free"))
            newest=$(ls -1t "$dir"/*.dump 2>/dev/null | head -n 1)
            if [ -n "$newest" ]; then echo "last $(stat -c %s "$newest")"; else echo "last 0"; fi
            # A verification without a kept template writes one to the state directory: on this disk, it counts.
            if ! ls \(templates.script)/*.tar >/dev/null 2>&1 && [ "$(stat -c %d -- "$dir")" = "$(stat -c %d -- \(stateDirectory.script) 2>/dev/null)" ]; then
              echo "template \(Int(Self.templateBytes))"
            fi
            """, timeout: .seconds(30), effect: .changes("creates the backup directory"))
    }

    /// The dump and its figures, from one exported snapshot: a psql session opens a repeatable-read
    /// transaction, exports its snapshot, computes the figures in it while `pg_dump --snapshot`
    /// dumps the same snapshot, and commits once the dump ended. The dump is fsynced, then renamed
    /// `ID.dump` (mode 640), with the roles beside it; anything else leaves nothing behind.
    public func dump(_ id: BackupID) -> RemoteCommand {
        let name = id.text
        let opening = Self.settings + "\nBEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSELECT 'server_version ' || current_setting('server_version');\nSELECT 'snapshot ' || pg_export_snapshot();\n"
        return RemoteCommand("""
            umask 027
            cd \(directory.script) || { echo "cannot enter the backup directory" >&2; exit 70; }
            \(Self.temporaryDirectory)
            work=$(botops_temporary .botops-partial) || { echo "cannot create a temporary directory in the backup directory" >&2; exit 70; }
            psql= roles=
            # The small files live apart from backup.dir, so a full backup disk cannot swallow the error.
            scratch=$(botops_temporary "${TMPDIR:-/tmp}/botops-dump") || { rm -rf "$work"; exit 70; }
            cleanup() { exec 3>&-; [ -z "$psql" ] || wait "$psql"; [ -z "$roles" ] || wait "$roles"; rm -rf "$work" "$scratch"; }
            trap cleanup EXIT
            trap 'exit 130' INT TERM HUP
            mkfifo "$scratch/in" || exit 70
            docker exec -i \(container) psql -X -q -A -t -v ON_ERROR_STOP=1 -U \(user) -d \(database) <"$scratch/in" >"$scratch/figures" 2>"$scratch/figures.err" &
            psql=$!
            exec 3>"$scratch/in"
            printf '%s\\n' \(opening) >&3
            tries=0
            until snapshot=$(sed -n 's/^snapshot //p' "$scratch/figures") && [ -n "$snapshot" ]; do
              if ! kill -0 "$psql" 2>/dev/null; then
                echo "could not open a transaction in the $(printf %s \(container)) container: $(tail -n 3 "$scratch/figures.err")" >&2; exit 71
              fi
              tries=$((tries + 1))
              [ "$tries" -le 3000 ] || { echo "the database did not export a snapshot within 60 s" >&2; exit 71; }
              sleep 0.02
            done
            printf '%s\\n' \(Self.figures) >&3
            # The roles are the cluster's, outside the snapshot: dumped meanwhile.
            docker exec \(container) pg_dumpall --roles-only -U \(user) >"$work/roles" 2>"$scratch/roles.err" &
            roles=$!
            docker exec \(container) pg_dump --format=custom --compress=\(Self.compressionLevel) --snapshot="$snapshot" -U \(user) -d \(database) >"$work/dump" 2>"$scratch/dump.err"
            status=$?
            [ "$status" -eq 0 ] || { echo "pg_dump ended with status $status: $(tail -n 3 "$scratch/dump.err")" >&2; exit 72; }
            printf 'COMMIT;\\n' >&3
            exec 3>&-
            wait "$psql"; status=$?; psql=
            [ "$status" -eq 0 ] || { echo "the figures could not be computed (psql status $status): $(tail -n 3 "$scratch/figures.err")" >&2; exit 73; }
            wait "$roles"; status=$?; roles=
            [ "$status" -eq 0 ] || { echo "pg_dumpall --roles-only failed: $(tail -n 3 "$scratch/roles.err")" >&2; exit 74; }
            sha256sum "$work/dump" >"$scratch/sum" &
            summing=$!
            docker exec -i \(container) pg_restore --list <"$work/dump" >"$scratch/toc" 2>"$scratch/toc.err" \\
              || { echo "the dump is not a readable archive: $(tail -n 3 "$scratch/toc.err")" >&2; exit 75; }
            grep -v '^;' "$scratch/toc" >"$scratch/toc.body"
            wait "$summing" && sum=$(cat "$scratch/sum") && toc=$(sha256sum "$scratch/toc.body") && size=$(stat -c %s "$work/dump") \\
              && roles_sum=$(sha256sum "$work/roles") || exit 76
            chmod 640 "$work/dump" && chmod 600 "$work/roles" || exit 76
            sync "$work/dump" "$work/roles" || { echo "could not flush the dump to disk" >&2; exit 76; }
            mv "$work/roles" \(name + ".roles.sql") && mv "$work/dump" \(name + ".dump") && sync . || { echo "could not name the dump" >&2; exit 76; }
            echo "size $size"
            echo "sha256 ${sum%% *}"
            echo "toc ${toc%% *}"
            echo "roles_sha256 ${roles_sum%% *}"
            cat "$scratch/figures"
            """, timeout: .seconds(6 * 3600), effect: .changes("writes \(name).dump in \(directory.path)"))
    }

    /// Writes `ID.json` atomically (temporary file, fsync, rename).
    public func writeRecord(_ record: BackupRecord) -> RemoteCommand {
        let final = record.id + ".json"
        let temporary = ".\(record.id).json.partial"
        return RemoteCommand("""
            cd \(directory.script) && umask 027 && printf '%s\\n' \(record.json) > \(temporary) && sync \(temporary) && mv \(temporary) \(final) && sync .
            """, timeout: .seconds(30), effect: .changes("writes the backup record \(final)"))
    }

    /// The sha256 of `ID.dump` as it is on disk now.
    public func checksum(_ id: String) -> RemoteCommand {
        RemoteCommand("cd \(directory.script) && sha256sum -- \(id + ".dump")", timeout: .seconds(3600))
    }

    static let verifyUser = "botops_verify"

    /// `botops_temporary PREFIX`: a new directory `PREFIX-PID-XXXXXX` (PID: this script's), after
    /// removing the `PREFIX-PID-*` left by a run whose process is gone (killed with SIGKILL, its
    /// traps never ran). One whose pid is in /proc (its run, or another process that reused the
    /// pid) is kept.
    static let temporaryDirectory: ShellScript = """
        botops_temporary() {
          for old in "$1"-*-*; do
            pid=${old#"$1"-}; pid=${pid%%-*}
            [ -d "$old" ] && [ "$pid" -gt 1 ] 2>/dev/null && [ ! -e /proc/"$pid" ] && rm -rf -- "$old" 2>/dev/null
          done
          mktemp -d "$1-$$-XXXXXX"
        }
        """

    /// For a script botops runs with its stdin held open (`BackupJob.heldOpen`) until it has the
    /// result: the end of that stdin (botops interrupted, killed or cut off, whereupon sshd closes
    /// the pipe; no tty, so no SIGHUP comes) stops the script's whole process group (CONT first, so
    /// a stopped member takes the TERM too), and the script's traps clean up. The script's EXIT
    /// trap starts with `stopWatching`; `$watcher` must be set (empty) before that trap.
    static let stopWhenBotopsLeaves: ShellScript = """
        exec 9<&0 </dev/null
        group=$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f3)
        { while read -r _; do :; done; kill -CONT -"$group"; kill -TERM -"$group"; } <&9 >/dev/null 2>&1 &
        watcher=$!
        """

    /// The watcher of `stopWhenBotopsLeaves` ended on the script's own way out, so botops closing
    /// the stdin afterwards stops nothing. Text for the start of a single-quoted EXIT trap.
    static let stopWatching: ShellScript = #"[ -z "$watcher" ] || kill "$watcher" 2>/dev/null; "#

    /// Restores `ID.dump` (with the roles) into a throwaway server started from the db
    /// container's own image: no network, 512 MB, no volume of the project; a run that finished
    /// kills it and dockerd removes it (`--rm`), any other way out removes it before returning. Prints the restored database's figures. Exit 81: no throwaway server could start; 84:
    /// the dump's sha256 is not `sha256` (when given).
    ///
    /// Speed (README: Benchmarks): the server starts first, in the background, while the dump's
    /// sha256 is checked. Its data directory comes from a tar of an initialised one, made by the
    /// first verification with this db image (initdb costs more than unpacking it) and kept in
    /// the state directory under the image's id; writing a new one removes the others. The server
    /// is disposable, so initdb skips its fsyncs and the server runs without fsync, autovacuum or
    /// checkpoints; readiness is polled inside the container every 50 ms; with
    /// `wal_level=minimal`, pg_restore's parallel mode loads each table created in the same run
    /// without writing its rows to the WAL; the dump (and the template) are bind-mounted
    /// read-only (the group read bit of their mode 640, through `--group-add`) so `pg_restore -j 2`
    /// can read the dump by offset, and no copy is made.
    public func verify(_ id: BackupID, sha256: String? = nil) -> RemoteCommand {
        let name = id.text
        // Named per run (`$server`: this prefix and a random tail), labelled with the prefix: a server
        // removed in the background (below) never holds a name the next run of this id needs.
        let server = "botops-verify-" + name.lowercased().replacing(".", with: "-")
        // A template that does not unpack (or none mounted) falls back to initdb, whose result is
        // then tarred for the host to keep; a tar that fails only skips the keeping.
        let start: ShellScript = """
            { [ -r /tmp/botops-template.tar ] && tar -xf /tmp/botops-template.tar -C /tmp && [ -f /tmp/pgdata/PG_VERSION ]; } \
            || { rm -rf /tmp/pgdata && initdb --no-sync -D /tmp/pgdata -U \(Self.verifyUser) -A trust >/dev/null \
            && { tar -C /tmp -cf /tmp/botops-new-template.tar pgdata || rm -f /tmp/botops-new-template.tar; }; } \
            && exec postgres -D /tmp/pgdata -c listen_addresses= -k /tmp \
            -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c autovacuum=off -c max_wal_size=64GB -c checkpoint_timeout=1d \
            -c wal_level=minimal -c max_wal_senders=0 -c maintenance_work_mem=128MB
            """
        // One `docker exec` (each costs 0.1-0.3 s on a busy host): wait until the server answers,
        // load the roles (stdin), create the database, and say whether the mounted dump is readable.
        let prepare: ShellScript = """
            i=0; until pg_isready -q -d postgres -U \(Self.verifyUser); do i=$((i + 1)); [ $i -le 1200 ] || exit 81; sleep 0.05; done
            psql -X -q -U \(Self.verifyUser) -d postgres >/dev/null 2>&1
            createdb -U \(Self.verifyUser) -O \(user) \(database) 2>&1 || exit 82
            if test -r /tmp/backup.dump; then echo mounted; fi
            """
        // With the dump mounted, the restore and the figures (stdin) in one `docker exec` too.
        let restoreMounted: ShellScript = """
            pg_restore --jobs=2 --exit-on-error -U \(Self.verifyUser) -d \(database) /tmp/backup.dump 2>&1 || exit 83
            psql -X -q -A -t -v ON_ERROR_STOP=1 -U \(Self.verifyUser) -d \(database) 2>&1
            """
        let restored = Self.settings + "\n" + Self.figures
        let check: ShellScript = sha256.map { (expected: String) -> ShellScript in """
            sum=$(sha256sum <\(name + ".dump")) || exit 70
            [ "${sum%% *}" = \(expected) ] || { echo "its sha256 differs from the record's" >&2; exit 84; }
            """ } ?? ""
        return RemoteCommand("""
            cd \(directory.script) || exit 70
            \(Self.temporaryDirectory)
            scratch=$(botops_temporary "${TMPDIR:-/tmp}/botops-verify") || exit 70
            # An image that cannot be read starts no server, but the sha256 is checked first even
            # then: a damaged dump must not go on to backup.verify_on_live's restore on the live server.
            image=$(docker inspect --format '{{.Image}}' \(container) 2>"$scratch/unread") || image=
            dump="$(pwd)/"\(name + ".dump") && group=$(stat -c %g -- "$dump") || { rm -rf "$scratch"; exit 70; }
            # The image id names the template: another image is another cluster.
            template_dir=\(templates.script) template="$template_dir/${image##*:}.tar" tmount= tgroup=
            # --mount's value is comma-separated: a path holding a comma or quote is not mounted (stdin below; initdb).
            mount=; case "$dump" in *[,\\"]*) ;; *) mount="type=bind,source=$dump,target=/tmp/backup.dump,readonly";; esac
            # A template that is not a whole archive of a data directory is made again.
            if [ -e "$template" ] && ! tar -tf "$template" pgdata/PG_VERSION >/dev/null 2>&1; then rm -f -- "$template"; fi
            if [ -r "$template" ]; then
              case "$template" in *[,\\"]*) ;; *) tmount="type=bind,source=$template,target=/tmp/botops-template.tar,readonly" && tgroup=$(stat -c %g -- "$template");; esac
            fi
            starting= watcher= finished= server=
            # A run that got to its end only kills its server (0.2-0.3 s): `--rm` has dockerd remove it. Any other way
            # out removes it before returning (`docker rm -f`, 0.6-1.3 s).
            trap '\(Self.stopWatching)[ -z "$starting" ] || wait "$starting"; { [ -n "$finished" ] && docker kill "$server" >/dev/null 2>&1; } || docker rm -f "$server" >/dev/null 2>&1; rm -rf "$scratch"; rm -f "$template.partial"' EXIT
            trap 'exit 130' INT TERM HUP
            server=\(server)-$(head -c 8 /proc/sys/kernel/random/uuid) || exit 70
            \(Self.stopWhenBotopsLeaves)
            # Servers an earlier run of this id left (killed before its trap ran).
            docker ps -aq --filter \("label=botops.verify=" + server) | xargs -r docker rm -f >/dev/null 2>&1
            run_server() {
              docker run -d --rm --name "$server" --label \("botops.verify=" + server) --network none --memory 512m --user postgres --group-add "$group" ${tgroup:+--group-add "$tgroup"} \\
                --entrypoint /bin/sh ${1:+--mount "$1"} ${tmount:+--mount "$tmount"} -e PGHOST=/tmp -e PGPORT=5432 "$image" -c \(start.text) 2>&1 >/dev/null
            }
            # A mount docker refuses (a newline ends its CSV value; a path dockerd cannot see) is not a
            # server that cannot start: once more without the mounts, the dump then goes through stdin.
            start_server() {
              err=$(run_server "$mount") && return
              [ -n "$mount$tmount" ] && docker rm -f "$server" >/dev/null 2>&1 && tmount= && : >"$scratch/unmounted" && err=$(run_server "") && return
              echo "$err"; return 1
            }
            # Started first, waited for only when the restore needs it. Deaf to the stop's TERM (so is
            # its docker run): dockerd goes on creating a container whose client was killed, after
            # the trap's docker rm -f; the trap waits for the start to end instead, then removes it.
            [ -z "$image" ] || { (trap '' TERM; start_server) >"$scratch/start" 2>&1 & starting=$!; }
            \(check)
            [ -n "$image" ] || { cat "$scratch/unread" >&2; echo "cannot read the image of the $(printf %s \(container)) container" >&2; exit 81; }
            not_started() { echo "cannot start a throwaway server from image $image: $(cat "$scratch/start")" >&2; exit 81; }
            prepare() { prepared=$(docker exec -i "$server" sh -c \(prepare.text) <\(name + ".roles.sql") 2>&1); }
            wait "$starting" || { starting=; not_started; }
            starting=
            prepare; status=$?
            # A kept template no server comes up from (damaged inside, though a whole archive) would
            # fail every verification: it is removed, and the server starts once more from initdb.
            if [ "$status" -ne 0 ] && [ -n "$tmount" ] && [ ! -e "$scratch/unmounted" ]; then
              rm -f -- "$template"; tmount=
              docker rm -f "$server" >/dev/null 2>&1
              # FIXME: in the foreground, this start takes the stop's TERM: a container dockerd creates after it may stay.
              start_server >"$scratch/start" 2>&1 || not_started
              prepare; status=$?
            fi
            # 82 is createdb's failure; any other (docker exec into a container that exited) is a server that did not start.
            [ "$status" -ne 82 ] || { printf '%s\\n' "$prepared"; exit 82; }
            [ "$status" -eq 0 ] || { echo "the throwaway server from image $image did not start: $(docker logs --tail 3 "$server" 2>&1)" >&2; exit 81; }
            echo "image $image"
            # Where the mount is not readable inside (user namespaces, say), the dump goes through stdin, one job.
            if [ "$prepared" = mounted ]; then
              printf '%s\\n' \(restored) | docker exec -i "$server" sh -c \(restoreMounted.text)
            else
              docker exec -i "$server" pg_restore --exit-on-error -U \(Self.verifyUser) -d \(database) <\(name + ".dump") 2>&1 || { echo "pg_restore failed" >&2; exit 83; }
              printf '%s\\n' \(restored) | docker exec -i "$server" psql -X -q -A -t -v ON_ERROR_STOP=1 -U \(Self.verifyUser) -d \(database) 2>&1
            fi
            status=$?
            [ "$status" -ne 83 ] || { echo "pg_restore failed" >&2; exit 83; }
            [ "$status" -eq 0 ] || exit "$status"
            # The first server from this image unpacked no template: its fresh one is kept for the next.
            if [ -z "$tmount" ] || [ -e "$scratch/unmounted" ]; then
              if (umask 077 && mkdir -p "$template_dir") && docker exec "$server" cat /tmp/botops-new-template.tar >"$template.partial" 2>/dev/null \
                && chmod 640 "$template.partial" && sync "$template.partial" && mv "$template.partial" "$template"; then
                for old in "$template_dir"/*.tar; do [ "$old" = "$template" ] || rm -f -- "$old"; done
                echo "template $template"
              else
                rm -f -- "$template.partial"; echo "template-skipped $template"
              fi
            fi
            finished=1
            exit 0
            """, timeout: .seconds(6 * 3600), effect: .changes("starts and removes a throwaway database server"))
    }

    /// The scratch database on the live server that a verification of `id` restores into
    /// (`backup.verify_on_live`): `botops_verify_` and the id, lower-case, `_` for any other character.
    public func scratchDatabase(_ id: BackupID) -> String {
        let tail = id.text.lowercased().unicodeScalars.map { ("a"..."z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "_" }
        return String(("botops_verify_" + String(tail)).prefix(63))
    }

    /// A scratch database's marker in backup.dir, written before the database is created and
    /// removed once it is dropped. It holds a fresh token that botops's createdb sets as the
    /// database's comment: a marker names a database, the comment proves botops created it, and
    /// botops drops only a database with both (a name someone else took is never dropped, even
    /// when a run killed between its marker and its failed createdb leaves the marker behind).
    static let scratchMarkerPrefix = ".botops-scratch-"

    /// `drop_scratch DB TOKEN`: drops DB when its comment is TOKEN and prints `dropped DB`; a
    /// database that is not there, or not botops's, is left alone (status 0, said on stderr); 1
    /// when it could not be read or dropped. Uses the
    /// script's `$container`, `$user` and `$live` (the configured database, sure to exist).
    static let dropScratch: ShellScript = """
        drop_scratch() {
          ours=$(printf '%s\\n' "SELECT count(*) FROM pg_database WHERE datname = :'db' AND shobj_description(oid, 'pg_database') = :'token';" \\
            | docker exec -i "$container" psql -X -q -A -t -v ON_ERROR_STOP=1 -U "$user" -d "$live" -v db="$1" -v token="$2") || return 1
          [ "$ours" = 1 ] || { echo "left $1 alone: no database of that name with botops's token as its comment" >&2; return 0; }
          # A pg_restore whose docker exec was killed (botops gone) still works in it: its session is ended first.
          printf '%s\\n' "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :'db' AND pid <> pg_backend_pid();" \\
            | docker exec -i "$container" psql -X -q -A -t -U "$user" -d "$live" -v db="$1" >/dev/null || return 1
          docker exec "$container" dropdb -U "$user" --if-exists "$1" && echo "dropped $1"
        }
        """

    /// In backup.dir (`directory`, default the configured one), with `clear_marker MARKER`: drops
    /// the scratch database a marker names when its token proves it botops's (printing `dropped
    /// NAME`), then removes the marker.
    private func scratchClearing(in directory: StateDirectory? = nil) -> ShellScript {
        """
        cd \((directory ?? self.directory).script) || exit 70
        container=\(container) user=\(user) live=\(database)
        \(Self.dropScratch)
        clear_marker() {
          db=${1#\(Self.scratchMarkerPrefix)}
          # An empty marker was cut short before its createdb ran: nothing of botops's to drop.
          token=$(cat -- "$1") || return 0
          { [ -z "$token" ] || drop_scratch "$db" "$token"; } && rm -f -- "$1"
        }
        """
    }

    /// Drops the scratch databases that earlier verifications left on the live server (a run cut
    /// short), each named by its marker and proved botops's by its token; prints `dropped NAME`
    /// for each one dropped. Never any other database. First prints `dir PATH`: backup.dir as an
    /// absolute path, for `dropScratchByHand`.
    public func dropLeftScratch() -> RemoteCommand {
        RemoteCommand("""
            \(scratchClearing())
            printf 'dir %s\\n' "$(pwd -P)"
            for marker in \(Self.scratchMarkerPrefix)botops_verify_*; do
              [ -f "$marker" ] && clear_marker "$marker"
            done
            exit 0
            """, timeout: .seconds(300), effect: .changes("drops scratch databases left by earlier verifications"))
    }

    /// What an operator pastes on the host to drop the scratch database `scratch` when a
    /// verification was cut short: the same guard as botops's own (the marker in backup.dir and
    /// the database's comment must hold the same token), never a plain dropdb. `resolved`:
    /// backup.dir as `dropLeftScratch` printed it, so the command works for whoever pastes it (root
    /// in an emergency has another `$HOME` than botops's ssh user).
    public func dropScratchByHand(_ scratch: String, resolved: String?) -> String {
        let marker = Self.scratchMarkerPrefix + scratch
        let script: ShellScript = """
            \(scratchClearing(in: resolved.map(StateDirectory.init(path:))))
            [ ! -f \(marker) ] || clear_marker \(marker)
            """
        return ShellScript(argv: ["sh", "-c", script.text]).text
    }

    /// Restores `ID.dump` into the scratch database on the live server (`backup.verify_on_live`)
    /// and prints its figures; the database is dropped on every way out, and its marker in
    /// backup.dir names it until then. A database of that name that botops did not create is
    /// left alone (exit 82). Exit 82: createdb failed; 83: pg_restore failed.
    public func verifyOnLive(_ id: BackupID) -> RemoteCommand {
        let name = id.text, scratch = scratchDatabase(id)
        let marker = Self.scratchMarkerPrefix + scratch
        let restored = Self.settings + "\n" + Self.figures
        return RemoteCommand("""
            cd \(directory.script) || exit 70
            container=\(container) user=\(user) live=\(database) scratch=\(scratch) marker=\(marker)
            token="botops scratch $(cat /proc/sys/kernel/random/uuid)" || exit 70
            \(Self.dropScratch)
            # The marker exists before the database does, so a run cut short leaves its name behind.
            printf '%s\\n' "$token" >"$marker" && sync -- "$marker" . || exit 70
            # Dropped only when its comment is this run's token: a name taken already is someone else's.
            watcher=
            trap '\(Self.stopWatching)drop_scratch "$scratch" "$token" >/dev/null 2>&1 && rm -f -- "$marker"' EXIT
            trap 'exit 130' INT TERM HUP
            \(Self.stopWhenBotopsLeaves)
            echo "image the live server"
            # The scratch database takes the live one's encoding and locale, not the cluster's default.
            facts=$(printf '%s\n' \(DatabaseLocale.query(row: "SELECT * FROM pg_database WHERE datname = current_database()")) \
              | docker exec -i "$container" psql -X -q -A -t -v ON_ERROR_STOP=1 -U "$user" -d "$live" 2>&1) && \(DatabaseLocale.shellRead) \
              || { echo "cannot read the encoding of $live: $facts"; exit 82; }
            docker exec "$container" createdb -U "$user" -O "$user" -T template0 -E "$encoding" --lc-collate="$collate" --lc-ctype="$ctype" "$scratch" "$token" 2>&1 || exit 82
            docker exec -i "$container" pg_restore --exit-on-error -U "$user" -d "$scratch" <\(name + ".dump") 2>&1 || { echo "pg_restore failed" >&2; exit 83; }
            printf '%s\\n' \(restored) | docker exec -i "$container" psql -X -q -A -t -v ON_ERROR_STOP=1 -U "$user" -d "$scratch" 2>&1
            """, timeout: .seconds(6 * 3600), effect: .changes("creates, restores into and drops the scratch database \(scratch) on the live server"))
    }
}
