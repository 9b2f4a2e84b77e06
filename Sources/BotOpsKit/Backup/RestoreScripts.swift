import Foundation
import HostCommands

/// The remote steps of a full restore, as values: facts about the live database, the restore
/// into a new database beside it, the rename swap, and the commands that undo the swap.
public struct RestoreScripts: Sendable {
    public let backup: BackupScripts
    /// The new database the dump goes into, and the name the live one gets.
    public let newName: String
    public let replacedName: String
    /// The restore's time, lower-case as in its database and table names.
    public let stamp: String

    public init(config: BotOpsConfig, now: Date) {
        let stamp = BackupID(date: now, label: nil).text.lowercased()
        self.stamp = stamp
        backup = BackupScripts(config: config)
        newName = "botops_restore_" + stamp
        replacedName = config.database.name + "_replaced_" + stamp
    }

    var live: String { backup.database }

    /// A PostgreSQL identifier, double-quoted.
    static func identifier(_ name: String) -> String {
        "\"" + name.replacing("\"", with: "\"\"") + "\""
    }

    /// A PostgreSQL string literal.
    static func literal(_ text: String) -> String {
        "'" + text.replacing("'", with: "''") + "'"
    }

    /// SQL fed to psql on stdin in the db container, connected to `database`; stops at the first error.
    func psql(_ sql: String, database: String = "postgres") -> ShellScript {
        "printf '%s\\n' \(sql) | docker exec -i \(backup.container) psql -X -q -A -t -v ON_ERROR_STOP=1 -U \(backup.user) -d \(database)"
    }

    /// The live database's owner, encoding, collation, ctype and size, whether the two new names
    /// are free, and the free space on the disk of the db container's data directory. Without a
    /// live database (a recreated, empty cluster): `missing yes`, and template1's encoding,
    /// collation and ctype.
    public func facts() -> RemoteCommand {
        let name = Self.literal(live)
        let sql = """
            SELECT 'owner ' || pg_get_userbyid(datdba) FROM pg_database WHERE datname = \(name);
            \(DatabaseLocale.query(row: "SELECT * FROM pg_database WHERE datname IN (\(name), 'template1') ORDER BY datname = \(name) DESC LIMIT 1"))
            SELECT 'missing yes' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = \(name));
            SELECT 'live_size ' || coalesce((SELECT pg_database_size(datname) FROM pg_database WHERE datname = \(name)), 0);
            SELECT 'taken ' || datname FROM pg_database WHERE datname IN (\(Self.literal(newName)), \(Self.literal(replacedName)));
            """
        let disk = FreeDisk.script(#""${PGDATA:-/var/lib/postgresql/data}""#, label: "free")
        return RemoteCommand("""
            \(psql(sql)) || exit 90
            docker exec \(backup.container) sh -c \(disk.text) || exit 90
            """, timeout: .seconds(60))
    }

    /// Creates the new database like the live one (owner, encoding, collation, ctype,
    /// database-level settings), restores the dump into it and prints its figures. With `roles`,
    /// first creates the roles of `ID.roles.sql` that the server lacks (`createMissingRoles`),
    /// from a copy whose sha256 must still be `rolesSha256` (when the record has one).
    public func restoreBeside(_ id: String, owner: String, encoding: String, collate: String, ctype: String, roles: Bool = false,
                              rolesSha256: String? = nil) -> RemoteCommand {
        let settings = """
            DO $$ DECLARE s text; BEGIN
              FOR s IN SELECT unnest(d.setconfig) FROM pg_db_role_setting d JOIN pg_database b ON b.oid = d.setdatabase
                        WHERE b.datname = \(Self.literal(live)) AND d.setrole = 0 LOOP
                EXECUTE format('ALTER DATABASE %I SET %s = %L', \(Self.literal(newName)), split_part(s, '=', 1), substr(s, strpos(s, '=') + 1));
              END LOOP;
            END $$;
            """
        return RemoteCommand("""
            cd \(backup.directory.script) || exit 70
            \(roles ? createMissingRoles(id, sha256: rolesSha256) : "")
            docker exec \(backup.container) createdb -U \(backup.user) -O \(owner) -E \(encoding) --lc-collate=\(collate) --lc-ctype=\(ctype) -T template0 \(newName) 2>&1 || exit 91
            \(psql(settings)) 2>&1 || exit 92
            docker exec -i -e PGAPPNAME=\(applicationName) \(backup.container) pg_restore --exit-on-error -U \(backup.user) -d \(newName) <\(id + ".dump") 2>&1 || { echo "pg_restore failed" >&2; exit 92; }
            \(figures(of: newName))
            """, timeout: .seconds(6 * 3600), effect: .changes("creates the database \(newName) and restores \(id).dump into it"))
    }

    /// The throwaway server that reads a roles file: from the db container's own image, no
    /// network, no volume, removed on every way out.
    var rolesServer: String { "botops-roles-" + stamp }

    /// Creates the roles of `ID.roles.sql` (in backup.dir, the shell's directory) missing on the
    /// server, so a dump whose objects belong or are granted to them restores onto a recreated
    /// cluster; prints `role_created NAME` for each. The file is never read by the live server nor
    /// parsed by botops: a throwaway server from the db image runs it (its own bootstrap role
    /// differs from every role of the file), and its catalog's roles go to the live server as data
    /// (COPY, one JSON row each), where SQL built with format('%I'/%L') creates those whose name is
    /// not taken, with their attributes, password hash and memberships, in one transaction. A role
    /// that exists is never altered, dropped or given another password: the server's roles win.
    /// psql is terse there, so no error prints a statement holding a password hash. Exit 93.
    /// The file is not trusted with the server (a record without its sha256, or one rewritten with
    /// it, lets any file through): what the throwaway sends back reaches the live psql only as
    /// lines of COPY data (the file's SQL runs as that server's superuser and can write into its
    /// pipes, so a line that is not a JSON object, `\.` first of all, is dropped), and no created
    /// role gets SUPERUSER, CREATEROLE, REPLICATION or BYPASSRLS, nor membership in a `pg_` role or
    /// a role that has one of those or is a member of one: each withheld is printed as `role_withheld NAME: WHAT`.
    /// FIXME: a created role's own settings (ALTER ROLE … SET) are not carried over.
    func createMissingRoles(_ id: String, sha256: String?) -> ShellScript {
        let bootstrap = BackupScripts.verifyUser
        let start: ShellScript = """
            initdb --no-sync -D /tmp/pgdata -U \(bootstrap) -A trust >/dev/null && exec postgres -D /tmp/pgdata -c listen_addresses= -k /tmp -c fsync=off
            """
        let export = """
            COPY (SELECT json_build_object('name', a.rolname, 'super', a.rolsuper, 'inherit', a.rolinherit, 'createrole', a.rolcreaterole,
                    'createdb', a.rolcreatedb, 'login', a.rolcanlogin, 'replication', a.rolreplication, 'bypassrls', a.rolbypassrls,
                    'connlimit', a.rolconnlimit, 'password', a.rolpassword, 'valid_until', a.rolvaliduntil,
                    'member_of', coalesce((SELECT json_agg(json_build_object('role', r.rolname, 'admin', m.admin_option))
                                             FROM pg_auth_members m JOIN pg_authid r ON r.oid = m.roleid WHERE m.member = a.oid), '[]'))
                    FROM pg_authid a WHERE a.oid <> 10 AND a.rolname !~ '^pg_' ORDER BY a.rolname) TO STDOUT
            """
        // The file on stdin; its errors (a role it creates twice, say) are the throwaway's own.
        let load: ShellScript = """
            i=0; until pg_isready -q -d postgres -U \(bootstrap); do i=$((i + 1)); [ $i -le 1200 ] || exit 81; sleep 0.05; done
            psql -X -q -U \(bootstrap) -d postgres >/dev/null 2>&1
            psql -X -q -v ON_ERROR_STOP=1 -U \(bootstrap) -d postgres -c \(export)
            """
        let receive = """
            BEGIN;
            CREATE TEMP TABLE botops_roles (spec json) ON COMMIT DROP;
            COPY botops_roles FROM STDIN;
            """
        let check: ShellScript = sha256.map { (expected: String) -> ShellScript in """
            sum=$(sha256sum <"$roles_dir/file") && [ "${sum%% *}" = \(expected) ] \\
              || { echo "$(printf %s \(BackupRoles.fileName(id))) changed since it was checked: its sha256 is no longer the record's (nothing was created)" >&2; exit 93; }
            """ } ?? ""
        let flag = { (key: String, yes: String) in "CASE WHEN (r.spec->>'\(key)')::boolean THEN '\(yes)' ELSE 'NO\(yes)' END" }
        let withheld = { (key: String, name: String) in "CASE WHEN (spec->>'\(key)')::boolean THEN '\(name)' END" }
        let create = """
            \\.
            CREATE TEMP TABLE botops_new_roles ON COMMIT DROP AS
              SELECT spec->>'name' AS name, spec FROM botops_roles WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = spec->>'name');
            -- A role whose membership is the server's master: a pg_ role (pg_execute_server_program
            -- runs programs on it), one that is or can make a superuser, replicate or bypass RLS, or
            -- a member of one of those, however indirectly (SET ROLE goes through it).
            CREATE FUNCTION pg_temp.botops_powerful(role_name text) RETURNS boolean LANGUAGE sql STABLE AS
              $f$ SELECT EXISTS (SELECT 1 FROM pg_roles p WHERE (p.rolname ~ '^pg_' OR p.rolsuper OR p.rolcreaterole OR p.rolreplication OR p.rolbypassrls)
                    AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role_name AND pg_has_role(r.oid, p.oid, 'MEMBER'))) $f$;
            DO $$ DECLARE r record; m json; BEGIN
              FOR r IN SELECT name, spec FROM botops_new_roles ORDER BY name LOOP
                EXECUTE format('CREATE ROLE %I WITH NOSUPERUSER %s NOCREATEROLE %s %s NOREPLICATION NOBYPASSRLS CONNECTION LIMIT %s PASSWORD %L', r.name,
                  \(flag("inherit", "INHERIT")), \(flag("createdb", "CREATEDB")), \(flag("login", "LOGIN")),
                  (r.spec->>'connlimit')::integer, r.spec->>'password')
                  || CASE WHEN r.spec->>'valid_until' IS NULL THEN '' ELSE format(' VALID UNTIL %L', r.spec->>'valid_until') END;
              END LOOP;
              -- Memberships of the roles created only: an existing role's are never changed.
              FOR r IN SELECT name, spec FROM botops_new_roles ORDER BY name LOOP
                FOR m IN SELECT json_array_elements(r.spec->'member_of') LOOP
                  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = m->>'role') AND NOT pg_temp.botops_powerful(m->>'role') THEN
                    EXECUTE format('GRANT %I TO %I', m->>'role', r.name) || CASE WHEN (m->>'admin')::boolean THEN ' WITH ADMIN OPTION' ELSE '' END;
                  END IF;
                END LOOP;
              END LOOP;
            END $$;
            SELECT 'role_created ' || name FROM botops_new_roles ORDER BY name;
            SELECT 'role_withheld ' || name || ': ' || withheld FROM (
              SELECT name, concat_ws(', ', \(withheld("super", "SUPERUSER")), \(withheld("createrole", "CREATEROLE")),
                       \(withheld("replication", "REPLICATION")), \(withheld("bypassrls", "BYPASSRLS")),
                       (SELECT 'member of ' || string_agg(m->>'role', ', ' ORDER BY m->>'role') FROM json_array_elements(spec->'member_of') m
                         WHERE pg_temp.botops_powerful(m->>'role'))) AS withheld
                FROM botops_new_roles) w WHERE withheld <> '' ORDER BY name;
            COMMIT;
            """
        return """
            # A throwaway left by an earlier restore killed or cut off in this step (SIGKILL runs no
            # EXIT trap): only a full restore starts one, under the deploy lock, so any there is a leftover.
            docker ps -aq --filter name=^botops-roles- | xargs -r docker rm -f >/dev/null 2>&1
            roles_server=\(rolesServer) roles_dir=$(mktemp -d) || exit 70
            trap 'docker rm -f "$roles_server" >/dev/null 2>&1; rm -rf "$roles_dir"' EXIT
            trap 'exit 130' INT TERM HUP
            # The plan checked the file; what is read is a copy checked again, so a file changed since is not used.
            cp -- \(BackupRoles.fileName(id)) "$roles_dir/file" || { echo "cannot read $(printf %s \(BackupRoles.fileName(id))) (nothing was created)" >&2; exit 93; }
            \(check)
            image=$(docker inspect --format '{{.Image}}' \(backup.container)) || { echo "cannot read the image of the $(printf %s \(backup.container)) container" >&2; exit 93; }
            docker run -d --rm --name "$roles_server" --network none --memory 512m --user postgres -e PGHOST=/tmp --entrypoint /bin/sh "$image" -c \(start.text) >/dev/null \\
              || { echo "cannot start a throwaway server from image $image to read $(printf %s \(BackupRoles.fileName(id))) (to restore without creating its roles, move it out of backup.dir)" >&2; exit 93; }
            docker exec -i "$roles_server" sh -c \(load.text) <"$roles_dir/file" >"$roles_dir/roles" 2>"$roles_dir/err" \\
              || { echo "a throwaway server could not read $(printf %s \(BackupRoles.fileName(id))): $(tail -n 3 "$roles_dir/err")" >&2; exit 93; }
            { printf '%s\\n' \(receive); grep '^{' "$roles_dir/roles"; printf '%s\\n' \(create); } \\
              | docker exec -i \(backup.container) psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=terse -v SHOW_CONTEXT=never -U \(backup.user) -d postgres 2>&1 \\
              || { echo "creating the missing roles failed (none was created)" >&2; exit 93; }
            docker rm -f "$roles_server" >/dev/null 2>&1; rm -rf "$roles_dir"
            trap - EXIT INT TERM HUP
            """
    }

    /// Every table's figures in `database`, as a backup records them.
    func figures(of database: String) -> ShellScript {
        psql(BackupScripts.settings + "\n" + BackupScripts.figures, database: database)
    }

    public func figuresCommand(of database: String) -> RemoteCommand {
        RemoteCommand(figures(of: database), timeout: .seconds(3600))
    }

    /// The application name of the restore's pg_restore session, which an interruption ends.
    var applicationName: String { "botops-restore-" + stamp }

    /// Drops the new database this run created (never any other), ending a session still in it
    /// (an interrupted pg_restore's).
    public func dropNew() -> RemoteCommand {
        RemoteCommand("docker exec \(backup.container) dropdb -U \(backup.user) --if-exists --force \(newName)", timeout: .seconds(120),
                      effect: .changes("drops \(newName), created by this restore"))
    }

    /// Ends the restore's pg_restore session (an interruption): pg_restore stops with an error and
    /// the step returns, to drop the new database.
    public func endRestoreSession() -> RemoteCommand {
        RemoteCommand(psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = \(Self.literal(newName)) AND application_name = \(Self.literal(applicationName));"),
                      timeout: .seconds(60), effect: .changes("ends the pg_restore session filling \(newName)"))
    }

    /// Closes the live database to new connections, then names and terminates the backends left
    /// in it and waits (at most 30 s) until they are gone. Prints `backend PID USER APPLICATION
    /// CLIENT` lines and `closed`. A step of its own, so an interruption between it and the rename
    /// finds the live database whole, to open again.
    public func close() -> RemoteCommand {
        let others = "FROM pg_stat_activity WHERE datname = \(Self.literal(live)) AND pid <> pg_backend_pid()"
        let sql = """
            ALTER DATABASE \(Self.identifier(live)) ALLOW_CONNECTIONS false;
            SELECT 'backend ' || pid || ' ' || coalesce(nullif(usename, ''), '-') || ' ' || coalesce(nullif(application_name, ''), '-') || ' ' || coalesce(client_addr::text, 'local') \(others);
            SELECT count(pg_terminate_backend(pid)) = count(*) \(others);
            DO $$ BEGIN
              FOR i IN 1..300 LOOP
                EXIT WHEN NOT EXISTS (SELECT 1 \(others));
                PERFORM pg_sleep(0.1);
              END LOOP;
            END $$;
            SELECT 'closed';
            """
        return RemoteCommand("\(psql(sql)) 2>&1", timeout: .seconds(120),
                             effect: .changes("closes \(live) to connections and terminates the sessions in it"))
    }

    /// Renames live → replaced and new → live in one transaction, then opens the replaced one
    /// again. Prints `swapped` once the rename committed.
    public func swap() -> RemoteCommand {
        let sql = """
            BEGIN;
            ALTER DATABASE \(Self.identifier(live)) RENAME TO \(Self.identifier(replacedName));
            ALTER DATABASE \(Self.identifier(newName)) RENAME TO \(Self.identifier(live));
            COMMIT;
            SELECT 'swapped';
            ALTER DATABASE \(Self.identifier(replacedName)) ALLOW_CONNECTIONS true;
            """
        return RemoteCommand("\(psql(sql)) 2>&1", timeout: .seconds(120),
                             effect: .changes("renames \(live) to \(replacedName) and \(newName) to \(live)"))
    }

    /// On a cluster without the live database: the restored database takes its name.
    public func takeName() -> RemoteCommand {
        RemoteCommand(psql("ALTER DATABASE \(Self.identifier(newName)) RENAME TO \(Self.identifier(live));"), timeout: .seconds(60),
                      effect: .changes("renames \(newName) to \(live)"))
    }

    /// After a swap that did not happen: the live database takes connections again.
    public func reopenLive() -> RemoteCommand {
        RemoteCommand(psql("ALTER DATABASE \(Self.identifier(live)) ALLOW_CONNECTIONS true;"), timeout: .seconds(60),
                      effect: .changes("allows connections to \(live) again"))
    }

    /// What a person runs to open the live database to connections again, and the replaced one
    /// when it exists (a swap whose last statement did not run): right before and after a rename.
    public var reopenCommand: String {
        let replaced = "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_database WHERE datname = \(Self.literal(replacedName))) "
            + "THEN ALTER DATABASE \(Self.identifier(replacedName)) ALLOW_CONNECTIONS true; END IF; END $$"
        return Self.reopenLiveCommand(backup, then: [replaced])
    }

    /// What a person runs to open the live database to connections again, then the `more` SQL.
    public static func reopenLiveCommand(_ backup: BackupScripts, then more: [String] = []) -> String {
        ShellScript(argv: ["docker", "exec", backup.container, "psql", "-U", backup.user, "-d", "postgres",
                           "-c", "ALTER DATABASE \(identifier(backup.database)) ALLOW_CONNECTIONS true"] + more.flatMap { ["-c", $0] }).text
    }

    /// What a person runs to drop the new database (ending a pg_restore still filling it); nothing
    /// when the rename made it the live one.
    public var dropNewCommand: String {
        ShellScript(argv: ["docker", "exec", backup.container, "dropdb", "-U", backup.user, "--if-exists", "--force", newName]).text
    }

    /// What a person runs to put the replaced database back (the restored one keeps its data as `newName`).
    public var swapBackCommands: [String] {
        let psql = ["docker", "exec", backup.container, "psql", "-U", backup.user, "-d", "postgres", "-c"]
        let close = "ALTER DATABASE \(Self.identifier(live)) ALLOW_CONNECTIONS false"
        let terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(Self.literal(live))"
        let rename = "BEGIN; ALTER DATABASE \(Self.identifier(live)) RENAME TO \(Self.identifier(newName)); ALTER DATABASE \(Self.identifier(replacedName)) RENAME TO \(Self.identifier(live)); COMMIT;"
        let wait = "DO $$ BEGIN FOR i IN 1..300 LOOP EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = \(Self.literal(live))); PERFORM pg_sleep(0.1); END LOOP; END $$"
        // The database put back takes connections again, also when the swap stopped with it closed.
        let reopen = "ALTER DATABASE \(Self.identifier(live)) ALLOW_CONNECTIONS true"
        return [ShellScript(argv: psql + [close, "-c", terminate, "-c", wait]).text, ShellScript(argv: psql + [rename, "-c", reopen]).text]
    }
}
