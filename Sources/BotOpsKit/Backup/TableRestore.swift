import Foundation
import HostCommands
import Remote

/// `restore BACKUP --tables T,…`: the named tables come back from the dump with everything that
/// hangs on them, in one transaction on the live database that also sets aside a table still
/// there and checks the restored figures against the record before it commits. The caller holds
/// the backup lock.
public struct TableRestore: Sendable {
    public struct Plan: Sendable {
        public var record: BackupRecord
        public var selection: TableOfContents.Selection
        public var tables: [TableOfContents.TableName]
        /// Tables still in the live database, with their rows: set aside as `NAME_replaced_TIME`.
        public var present: [TableOfContents.TableName: Int64]
        /// `--replace`: a table with rows is set aside; without it, rows found inside the
        /// transaction (written since the plan) refuse the restore.
        public var replace: Bool
        public var suffix: String
        /// Per table still there: other tables' foreign keys to it that the backup does not
        /// re-create (`NAME of TABLE`); they stay on the table set aside.
        public var stranded: [TableOfContents.TableName: [String]] = [:]
        /// Per table still there: the views and materialized views over it, which PostgreSQL keeps
        /// on the table set aside (they do not read the restored one).
        public var followers: [TableOfContents.TableName: [String]] = [:]

        static func followerWarning(_ view: String, aside: String) -> String {
            "warning: the view \(view) still reads \(aside) (it follows the table set aside), not the restored table; re-create it over the restored one"
        }

        public var lines: [String] {
            var lines: [String] = []
            for table in tables {
                let recorded = record.tables.first { $0.schema == table.schema && $0.name == table.name }
                if let rows = present[table] {
                    let aside = "\(table.schema).\(TableRestore.setAsideName(table.name, suffix: suffix))"
                    lines.append("rename \(table) (\(rows) rows) → \(aside), with its indexes and owned sequences")
                    for key in stranded[table] ?? [] {
                        lines.append("warning: the foreign key \(key) is not in the backup: it stays on \(aside), not on the restored table; re-create it by hand")
                    }
                    lines += (followers[table] ?? []).map { Self.followerWarning($0, aside: aside) }
                }
                lines.append("restore \(table) from \(record.id) (\(recorded?.rows ?? 0) rows recorded)")
            }
            let items = selection.entries.filter { $0.kind != "TABLE" && $0.kind != "TABLE DATA" }.map { "\($0.kind.lowercased()) \($0.tag)" }
            if !items.isEmpty { lines.append("with " + items.joined(separator: ", ")) }
            for reference in selection.references {
                lines.append("move the foreign key \(reference.constraint) of \(reference.table) to the restored \(reference.target)")
            }
            lines.append("compare the restored tables' figures with the record and commit only when they are equal; otherwise nothing changes")
            return lines
        }
    }

    public let config: BotOpsConfig
    public let runner: any CommandRunner
    public let scripts: RestoreScripts
    let suffix: String
    /// What botops sends the host to let the restore commit; one per run.
    let commitWord = "commit-" + UUID().uuidString
    /// Ends the host's own lines on the restore's stdout; one per run. psql's output comes there
    /// too, and a row or a name a warning prints could otherwise pass for one of them (a `restored`
    /// after a rollback, an ask or a mark while psql still works).
    let lineTag = UUID().uuidString
    /// How long the host waits for that word (tests shorten it).
    var commitWait = Self.commitWait

    public init(config: BotOpsConfig, runner: any CommandRunner, now: Date = Date()) {
        self.config = config
        self.runner = runner
        scripts = RestoreScripts(config: config, now: now)
        suffix = "_replaced_" + scripts.stamp
    }

    /// `NAME_replaced_TIME`, cut so it fits PostgreSQL's 63-byte names.
    static func setAsideName(_ name: String, suffix: String) -> String {
        var head = name
        while head.utf8.count + suffix.utf8.count > 63 { head.removeLast() }
        return head + suffix
    }

    /// Checks the dump, reads its table of contents and the live tables; refuses a table that
    /// still has rows unless `replace`.
    public func plan(_ entry: BackupCatalog.Entry, tables: [TableOfContents.TableName], replace: Bool) async throws -> Plan {
        let id = entry.record.id
        try await entry.checkIntact(scripts.backup, runner: runner)
        let listed = try await runner.run(contents(id))
        guard listed.succeeded else { throw RestoreError.damaged(id: id, detail: "pg_restore --list failed: \(listed.shownOutput)") }
        let probed = try await runner.run(probe(tables))
        guard probed.succeeded else { throw RestoreError.failed("cannot read the live tables: \(probed.shownOutput)") }
        var live = Set<TableOfContents.TableName>()
        var roles = Set<String>()
        for line in probed.stdout.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if fields.count == 3, fields[0] == "rel" { live.insert(.init(schema: fields[1], name: fields[2])) }
            if fields.count == 2, fields[0] == "role" { roles.insert(fields[1]) }
        }
        let contents = TableOfContents(verboseList: listed.stdout, owners: roles,
                                       tables: Set(entry.record.tables.map { TableOfContents.TableName(schema: $0.schema, name: $0.name) }))
        do {
            _ = try contents.selection(for: tables)
        } catch let error as TableOfContents.SelectionError {
            if case .ownerUnclear = error { throw RestoreError.refused(error.description) }
            throw RestoreError.unknownTables(error.description)
        }
        let selection = try contents.selection(for: tables, live: live)
        var present: [TableOfContents.TableName: Int64] = [:]
        var stranded: [TableOfContents.TableName: [String]] = [:]
        var followers: [TableOfContents.TableName: [String]] = [:]
        for line in probed.stdout.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if (fields.count == 3 && fields[0] == "rel") || (fields.count == 2 && fields[0] == "role") { continue }
            if fields.count == 3, fields[0] == "view", let index = Int(fields[1]), tables.indices.contains(index) {
                followers[tables[index], default: []].append(fields[2])
                continue
            }
            if fields.count == 4, fields[0] == "fk", let index = Int(fields[1]), tables.indices.contains(index),
               !selection.references.contains(where: { $0.target == tables[index] && $0.constraint == fields[3] }) {
                stranded[tables[index], default: []].append("\(fields[3]) of \(fields[2])")
                continue
            }
            let words = line.split(separator: " ")
            guard words.count == 3, words[0] == "rows", let index = Int(words[1]), tables.indices.contains(index), let rows = Int64(words[2]) else { continue }
            present[tables[index]] = rows
        }
        let full = present.filter { $0.value > 0 }
        if !replace, !full.isEmpty {
            throw RestoreError.refused(full.keys.map { "\($0) still has \(full[$0]!) rows" }.sorted().joined(separator: "; ")
                                       + "; add --replace to set it aside as NAME\(suffix) and restore the backup's")
        }
        return Plan(record: entry.record, selection: selection, tables: tables, present: present, replace: replace, suffix: suffix, stranded: stranded,
                    followers: followers)
    }

    /// Restores the plan's tables in one transaction; returns what the operator is told. An
    /// interruption ends the restore's session on the host, so the transaction rolls back there
    /// (the restore is waited for, not abandoned: abandoned, it went on and committed after botops
    /// had exited and released the lock).
    ///
    /// The COMMIT waits for botops's word on the session's stdin, sent when the host says psql has
    /// run all but the COMMIT (not when it was merely handed to psql, which may then work on for
    /// long, locks, index builds: the host asked too early): a connection lost before then (stdin at its end, or no word within
    /// `commitWait`) rolls the restore back on the host, never commits it behind botops's back.
    /// `beforeCommit` runs when the host asks, before the word is sent (tests cut the connection there).
    public func run(_ plan: Plan, interruption: Interruption = Interruption(), beforeCommit: (@Sendable () -> Void)? = nil) async throws -> [String] {
        let runner = runner
        let cancel = cancel(plan)
        let gate = try CommitGate()
        defer { gate.pipe.close() }
        interruption.onRequest(stillRunning: { "the restore of \(plan.tables.map(\.description).joined(separator: ", ")) (psql in the db container)" }) { _ in
            // No word after an interruption: the host's stdin ends without it and it rolls back.
            gate.withhold()
            Task { _ = try? await runner.run(cancel) }
        }
        let commitWord = commitWord, commitAsked = line(Self.commitAsked)
        let result: RemoteCommandResult
        do {
            result = try await runner.run(restore(plan), input: gate.pipe.input) { kind, line in
                guard kind == .stdout, line == commitAsked else { return }
                beforeCommit?()
                gate.send(commitWord + "\n")
            }
        } catch let error as RemoteError where error.isUnreachable {
            throw RestoreError.tablesConnectionLost(detail: "\(error)", commitSent: gate.wasSent, check: committedCheck(plan))
        }
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let restored = BackupFigures(parsing: result.stdout)
        let recorded = plan.tables.compactMap { table in plan.record.tables.first { $0.schema == table.schema && $0.name == table.name } }
        guard result.succeeded, lines.contains(line(Self.restored)) else {
            if let refusal = Self.refusal(in: lines, tag: lineTag) {
                throw RestoreError.refused(refusal + "; nothing changed (the transaction rolled back); add --replace to set it aside and restore the backup's")
            }
            if let signal = interruption.signal {
                // The word went before the signal: the COMMIT may have run before the session was ended.
                if gate.wasSent { throw RestoreError.tablesInterruptedAtCommit(signal: signal, check: committedCheck(plan)) }
                throw RestoreError.tablesNotRestored("interrupted (\(signalName(signal))): the restore's session on the host was ended before COMMIT")
            }
            if lines.contains(line(Self.commitNotGiven)) {
                throw RestoreError.tablesNotRestored("botops's word to commit did not reach the host within \(commitWait.components.seconds) s "
                                                     + "(a slow or stopped connection, or botops stopped), so the host rolled back; run the restore again")
            }
            let problems = BackupFigures.differences(recorded: BackupFigures(tables: recorded), restored: BackupFigures(tables: restored.tables))
            let detail = restored.tables.isEmpty || problems.isEmpty ? String(result.shownOutput.suffix(800)) : problems.joined(separator: "; ")
            throw RestoreError.tablesNotRestored(detail)
        }
        var notes = recorded.map { "\($0.qualifiedName): \($0.rows) rows restored, figures equal the record" }
        notes += plan.present.keys.sorted { $0.description < $1.description }.map { "\($0) was set aside as \($0.schema).\(Self.setAsideName($0.name, suffix: plan.suffix))" }
        notes += plan.stranded.sorted { $0.key.description < $1.key.description }.flatMap { table, keys in
            keys.map { "warning: the foreign key \($0) still points at \(table.schema).\(Self.setAsideName(table.name, suffix: plan.suffix)) (not in the backup); re-create it on the restored \(table) by hand" }
        }
        notes += plan.followers.filter { plan.present[$0.key] != nil }.sorted { $0.key.description < $1.key.description }.flatMap { table, views in
            views.map { Plan.followerWarning($0, aside: "\(table.schema).\(Self.setAsideName(table.name, suffix: plan.suffix))") }
        }
        notes += plan.selection.references.map { "\($0.table) foreign key \($0.constraint) now points at the restored \($0.target)" }
        return notes
    }

    /// The restore's psql session, by its application name.
    static func applicationName(_ plan: Plan) -> String { "botops-restore" + plan.suffix }

    /// Ends the restore's session in the db container: its open transaction rolls back.
    func cancel(_ plan: Plan) -> RemoteCommand {
        RemoteCommand(scripts.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = \(RestoreScripts.literal(Self.applicationName(plan)));"),
                      timeout: .seconds(60), effect: .changes("ends the restore's session in the \(scripts.backup.container) container (its transaction rolls back)"))
    }

    /// The dump's table of contents with dependencies.
    func contents(_ id: String) -> RemoteCommand {
        RemoteCommand("cd \(scripts.backup.directory.script) && docker exec -i \(scripts.backup.container) pg_restore --list --verbose <\(id + ".dump")",
                      timeout: .seconds(600))
    }

    /// `rows INDEX COUNT` for each table that exists in the live database, `fk\tINDEX\tTABLE\tNAME`
    /// for each other table's foreign key to it, `view\tINDEX\tVIEW` for each view over it, `rel\tSCHEMA\tNAME` for every live relation and `role\tNAME` for every role (the owners in the table of contents)
    /// (whether a view over a restored table is still there, and what it reads).
    func probe(_ tables: [TableOfContents.TableName]) -> RemoteCommand {
        let sql = tables.enumerated().map { index, table in
            let name = RestoreScripts.literal(RestoreScripts.identifier(table.schema) + "." + RestoreScripts.identifier(table.name))
            return """
                SELECT 'rows \(index) ' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', c), false, true, '')))[1]::text
                  FROM (SELECT to_regclass(\(name)) AS c) t WHERE c IS NOT NULL;
                SELECT concat_ws(E'\\t', 'fk', \(index), conrelid::regclass, conname) FROM pg_constraint
                 WHERE confrelid = to_regclass(\(name)) AND contype = 'f' AND conrelid <> confrelid;
                SELECT DISTINCT concat_ws(E'\\t', 'view', \(index), v.oid::regclass) FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
                 WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass(\(name)) AND v.oid <> d.refobjid;
                """
        }.joined(separator: "\n") + """

            SELECT concat_ws(E'\\t', 'rel', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema');
            SELECT concat_ws(E'\\t', 'role', rolname) FROM pg_roles;
            """
        return RemoteCommand(scripts.psql(sql, database: scripts.live), timeout: .seconds(600))
    }

    /// One psql session: BEGIN, set the present tables aside, the `-L` list's SQL from pg_restore,
    /// the figures of the restored tables, and COMMIT only when they equal the record's. If
    /// pg_restore fails, no COMMIT is sent and psql's end rolls everything back.
    func restore(_ plan: Plan) -> RemoteCommand {
        let list = "/tmp/botops-restore" + plan.suffix + ".list"
        let container = scripts.backup.container
        var opening = "SET lock_timeout = '60s';\nBEGIN;\n"
        for table in plan.tables where plan.present[table] != nil {
            opening += setAside(table, references: plan.selection.references.filter { $0.target == table }, suffix: plan.suffix,
                                refuseRows: !plan.replace) + "\n"
        }
        let recorded = plan.tables.compactMap { table in plan.record.tables.first { $0.schema == table.schema && $0.name == table.name } }
        let figures = recorded.map { table in
            "SELECT \(RestoreScripts.literal(table.schema)) AS schema, \(RestoreScripts.literal(table.name)) AS name, count(*) AS rows, "
                + "coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text AS checksum "
                + "FROM \(RestoreScripts.identifier(table.schema)).\(RestoreScripts.identifier(table.name)) t"
        }.joined(separator: "\nUNION ALL ")
        let expected = recorded.map { "(\(RestoreScripts.literal($0.schema)), \(RestoreScripts.literal($0.name)), \($0.rows)::bigint, \(RestoreScripts.literal($0.checksum)))" }
            .joined(separator: ", ")
        // The figures under the settings the record's were computed with (README: Backups).
        let closing = BackupScripts.settings + """

            CREATE TEMPORARY TABLE botops_restored ON COMMIT DROP AS \(figures);
            SELECT 'table ' || json_build_object('schema', schema, 'name', name, 'rows', rows, 'checksum', checksum)::text FROM pg_temp.botops_restored;
            SELECT count(*) = \(recorded.count) AS botops_equal FROM pg_temp.botops_restored r JOIN (VALUES \(expected)) AS e(schema, name, rows, checksum) USING (schema, name, rows, checksum) \\gset
            SELECT \(RestoreScripts.literal(line(Self.reached)));
            """
        let decision = """
            \\if :botops_equal
            COMMIT;
            SELECT \(RestoreScripts.literal(line(Self.restored)));
            \\else
            ROLLBACK;
            \\endif
            """
        return RemoteCommand("""
            cd \(scripts.backup.directory.script) || exit 70
            work=$(mktemp -d) && err="$work/err" && mkfifo "$work/reached" || exit 70
            trap 'rm -rf "$work"; docker exec \(container) rm -f \(list)' EXIT
            trap 'exit 130' INT TERM HUP
            printf '%s' \(plan.selection.list) | docker exec -i \(container) sh -c 'cat >"$1"' sh \(list) || { echo "cannot write the restore list in the $(printf %s \(container)) container" >&2; exit 93; }
            # Opened read-write on both sides, so no open waits for the other and no line written is lost while the writer of psql's input lives.
            exec 3>&1 4<>"$work/reached"
            {
              {
                printf '%s\\n' \(opening)
                docker exec -i \(container) pg_restore -L \(list) -f - <\(plan.record.id + ".dump") 2>"$err" || exit 0
                printf '%s\\n' \(closing)
                # psql has run it all (not only been given it: the pipe holds what it has not read yet) or has ended.
                read -r reached <&4 && [ "$reached" = reached ] || exit 0
                # The COMMIT only on botops's word: no word (the connection gone) ends psql's input in the transaction, which rolls back.
                echo \(line(Self.commitAsked)) >&3
                word=$(timeout \(Int(commitWait.components.seconds)) head -n 1) || word=
                if [ "$word" = \(commitWord) ]; then printf '%s\\n' \(decision); else echo \(line(Self.commitNotGiven)) >&3; fi
              } | {
                docker exec -i -e PGAPPNAME=\(Self.applicationName(plan)) \(container) psql -X -q -A -t -v ON_ERROR_STOP=1 -U \(scripts.backup.user) -d \(scripts.live) 2>&1
                status=$?
                # psql ended (an error, its session terminated) without the mark: the writer stops waiting for it.
                echo ended 1<>"$work/reached"
                echo "botops-psql-status $status"
              }
            } | {
              status=1
              while IFS= read -r line; do
                case "$line" in
                  \(line(Self.reached))) echo reached 1<>"$work/reached";;
                  "botops-psql-status "*) status=${line#botops-psql-status };;
                  *) printf '%s\\n' "$line";;
                esac
              done
              exit "$status"
            }
            status=$?
            # Whether it committed is the `restored` line; pg_restore's words explain a rollback.
            [ -s "$err" ] && tail -n 5 "$err" >&2
            exit $status
            """, timeout: .seconds(6 * 3600), effect: .changes("restores \(plan.tables.map(\.description).joined(separator: ", ")) from \(plan.record.id).dump into \(scripts.live)"))
    }

    /// One of the host's own lines below, as this run prints it (with its `lineTag`).
    func line(_ word: String) -> String { word + " " + lineTag }
    /// What the host prints when everything but the COMMIT went into the transaction.
    static let commitAsked = "botops-commit-asked"
    /// What psql prints, on the host only, once it has run everything before the COMMIT.
    static let reached = "botops-reached-commit"
    /// How long the host waits for botops's word before it rolls the restore back.
    static let commitWait = Duration.seconds(60)
    /// What the host prints when botops's word did not come (in time): it rolls back.
    static let commitNotGiven = "botops-commit-not-given"
    /// What psql prints once the COMMIT went through.
    static let restored = "restored"

    /// A command that says whether the restore committed (`t`: a table set aside exists only
    /// then, and a table that was absent exists only then; `f`: it did not) or may still commit
    /// (`running`: its session is still on the server, so an `f` now could turn `t`).
    func committedCheck(_ plan: Plan) -> String {
        let names = plan.tables.map { table in
            plan.present[table] != nil ? TableOfContents.TableName(schema: table.schema, name: Self.setAsideName(table.name, suffix: plan.suffix)) : table
        }
        let committed = names.map { name in
            "to_regclass(" + RestoreScripts.literal(RestoreScripts.identifier(name.schema) + "." + RestoreScripts.identifier(name.name)) + ") IS NOT NULL"
        }.joined(separator: " AND ")
        let running = "EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = \(RestoreScripts.literal(Self.applicationName(plan))))"
        let sql = "SELECT CASE WHEN \(running) THEN 'running' WHEN \(committed) THEN 't' ELSE 'f' END AS committed"
        return RemoteCommand(scripts.psql(sql, database: scripts.live), timeout: .seconds(60)).displayText
    }

    /// What the set-aside step raises when a table gained rows since the plan (without --replace):
    /// a line of its own, `botops-refused DETAIL TAG` (the run's `lineTag`).
    static let refusalMark = "botops-refused"

    /// The detail of the refusal line among the host's `lines`: a whole line that starts with the
    /// mark and ends with this run's `tag`, never one that merely holds the mark's text (a name an
    /// error message prints, say).
    static func refusal(in lines: [String], tag: String) -> String? {
        let head = refusalMark + " ", tail = " " + tag
        return lines.first { $0.hasPrefix(head) && $0.hasSuffix(tail) && $0.count > head.count + tail.count }
            .map { String($0.dropFirst(head.count).dropLast(tail.count)) }
    }

    /// Renames a live table, its indexes (and so its key and unique constraints) and the sequences
    /// it owns out of the restored names' way, and drops the listed foreign keys of other tables
    /// that point at it (the list adds them again, pointing at the restored table). The table is
    /// locked first; with `refuseRows`, rows there now (a writer since the plan's count) abort the
    /// transaction. The block's dollar quote is one no name in it holds.
    func setAside(_ table: TableOfContents.TableName, references: [TableOfContents.Reference], suffix: String, refuseRows: Bool) -> String {
        let relation = RestoreScripts.literal(RestoreScripts.identifier(table.schema) + "." + RestoreScripts.identifier(table.name))
        let constraints = "ARRAY[" + references.map { RestoreScripts.literal($0.constraint) }.joined(separator: ", ") + "]::text[]"
        let target = RestoreScripts.literal(Self.setAsideName(table.name, suffix: suffix))
        let suffix = RestoreScripts.literal(suffix)
        // On a line of its own (psql prints `ERROR:  ` first), tagged: see `refusal(in:tag:)`.
        let refusal = RestoreScripts.literal("\n" + line(Self.refusalMark + " %s has %s rows now, written since they were counted"))
        let body = """
            DECLARE t regclass := \(relation)::regclass; r record; n bigint; BEGIN
              EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', t);
              IF \(refuseRows ? "true" : "false") THEN
                EXECUTE format('SELECT count(*) FROM %s', t) INTO n;
                IF n > 0 THEN RAISE EXCEPTION USING MESSAGE = format(\(refusal), \(RestoreScripts.literal(table.description)), n); END IF;
              END IF;
              FOR r IN SELECT conname, conrelid::regclass AS rel FROM pg_constraint
                        WHERE confrelid = t AND contype = 'f' AND conrelid <> t AND conname = ANY (\(constraints)) LOOP
                EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.rel, r.conname);
              END LOOP;
              FOR r IN SELECT i.oid::regclass AS rel, i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = t LOOP
                EXECUTE format('ALTER INDEX %s RENAME TO %I', r.rel, left(r.relname, 63 - length(\(suffix))) || \(suffix));
              END LOOP;
              FOR r IN SELECT s.oid::regclass AS rel, s.relname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
                        WHERE d.classid = 'pg_class'::regclass AND d.refobjid = t AND d.deptype IN ('a', 'i') AND s.relkind = 'S' LOOP
                EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', r.rel, left(r.relname, 63 - length(\(suffix))) || \(suffix));
              END LOOP;
              EXECUTE format('ALTER TABLE %s RENAME TO %I', t, \(target));
            END
            """
        var quote = "$botops$"
        while body.contains(quote) { quote = "$botops" + String(quote.count) + "$" }
        return "DO " + quote + " " + body + " " + quote + ";"
    }
}

/// botops's word to commit, on the restore's stdin: sent once when the host asks, unless an
/// interruption came first (then withheld for good, and the stdin ended at once).
private final class CommitGate: @unchecked Sendable {
    let pipe: CommandInputPipe
    private let lock = NSLock()
    private var state = State.waiting
    private enum State { case waiting, sent, withheld }

    init() throws { pipe = try CommandInputPipe() }

    /// Moves from waiting to `next`; false when the word was already sent or withheld.
    private func settle(_ next: State) -> Bool {
        lock.withLock {
            guard state == .waiting else { return false }
            state = next
            return true
        }
    }

    func send(_ word: String) {
        if settle(.sent) { pipe.write(Data(word.utf8)) }
    }

    func withhold() {
        if settle(.withheld) { pipe.closeWriting() }
    }

    var wasSent: Bool { lock.withLock { state == .sent } }
}
