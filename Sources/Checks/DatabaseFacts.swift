import HostCommands
import Remote

/// The three database checks' queries, sent in one `docker exec … psql` round trip, as the runbook
/// runs them. Each query is followed by a row carrying psql's ERROR / LAST_ERROR_* variables
/// (psql 11+), so a failure is attributed to its own query without relying on stream ordering.
struct DatabaseFacts: Sendable, Equatable {
    struct Failure: Sendable, Equatable, Error {
        var sqlstate: String
        var message: String
    }

    /// Rows per query id, or the query's error.
    var results: [String: Result<[[String]], Failure>]

    static let separator = "\u{1F}"

    /// Query id → SQL. Values come in as psql variables (`:'window'`), which psql quotes as literals.
    static let queries: [(id: String, sql: String)] = [
        ("trade-count", "SELECT COUNT(*) FROM trade_records;"),
        ("links", "SELECT COUNT(*) FROM trade_strategy_link WHERE linked_at >= NOW() - :'window'::interval;"),
        // The linkage rate: linked / filled trades. Separate, so a missing trade_records
        // table costs the rate, not the link count.
        ("linkage-rate", """
            SELECT COUNT(*), COUNT(tsl.order_id) FROM trade_records tr
            LEFT JOIN trade_strategy_link tsl ON tr.order_id = tsl.order_id
            WHERE tr.order_time >= NOW() - :'window'::interval AND tr.status IN ('filled', 'done');
            """),
        ("snapshots", """
            SELECT snapshot_id, to_char(active_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), score_buy_target,
                   EXTRACT(EPOCH FROM NOW() - active_from)::bigint
            FROM strategy_snapshots WHERE active_until IS NULL ORDER BY active_from;
            """),
    ]

    /// The probe: every query in one psql session, gated on the host by the template db-running
    /// judges. The marker reaches psql as a variable, like the window, never spliced into SQL.
    static func probe(_ settings: CheckSettings, marker: SectionMarker) -> HostProbe<DatabaseFacts> {
        var script = ""
        for (id, sql) in queries {
            script += """
                SELECT :'marker' || ' \(id)';
                \(sql)
                SELECT :'marker' || ' status-\(id)' || chr(10) || :'ERROR' || chr(31) || :'LAST_ERROR_SQLSTATE' || chr(31) || :'LAST_ERROR_MESSAGE';

                """
        }
        let psql: [String] = [
            "docker", "exec", "-i", settings.databaseContainer, "psql", "-X", "-q", "-A", "-t", "-F", separator,
            "-v", "window=\(settings.linkageWindow)", "-v", "marker=\(marker.text)",
            "-U", settings.databaseUser, "-d", settings.databaseName,
        ]
        // The here-document's delimiter is quoted, so the shell expands nothing in the SQL; the
        // SQL is botops' own text (values come in as psql variables).
        let delimiter = ShellScript(stringLiteral: "BOTOPS_SQL_\(marker.text.suffix(8))")
        // Gated on the host, in the same command, by the template db-running judges: the checks
        // start before db-running has answered, and a `docker exec` into a container paused under
        // it hangs until the container is unpaused.
        let gate = ShellScript(stringLiteral: ContainerState.gateCommand(container: settings.databaseContainer))
        let command = RemoteCommand("""
            gate=$(\(gate) 2>&1) || gate="missing: $gate"
            if [ "$gate" != ok ]; then \(marker.start("refused")); printf '%s\\n' "$gate"; exit 0; fi
            \(psql) <<'\(delimiter)'
            \(ShellScript(stringLiteral: script))\(delimiter)
            """, timeout: settings.commandTimeout)
        return HostProbe("psql in \(settings.databaseContainer)", command) { result in
            parse(result, marker: marker)
        }
    }

    /// Never throws: whatever psql printed becomes each query's result or failure.
    static func parse(_ result: CommandResult, marker: SectionMarker) -> DatabaseFacts {
        let sections = marker.split(result.stdoutText)
        if let refused = sections["refused"] {
            let state = refused.joined(separator: " ").trimmingCharacters(in: .whitespaces)
            let failure = Failure(sqlstate: "", message: "psql not run: the database container is \(state)")
            return DatabaseFacts(results: Dictionary(uniqueKeysWithValues: queries.map { ($0.id, .failure(failure)) }))
        }
        if sections.isEmpty {
            // psql never ran a statement: no such container, no such role or database, …
            let reason = (result.stderrText + result.stdoutText).trimmingCharacters(in: .whitespacesAndNewlines)
            let failure = Failure(sqlstate: "", message: reason.isEmpty ? "psql exited with \(result.termination)" : reason)
            return DatabaseFacts(results: Dictionary(uniqueKeysWithValues: queries.map { ($0.id, .failure(failure)) }))
        }
        var results: [String: Result<[[String]], Failure>] = [:]
        for (id, _) in queries {
            let rows = (sections[id] ?? []).filter { !$0.isEmpty }.map { $0.components(separatedBy: separator) }
            let status = sections["status-\(id)"]?.first?.components(separatedBy: separator) ?? []
            if status.count >= 3, status[0] == "true" {
                results[id] = .failure(Failure(sqlstate: status[1], message: status[2...].joined(separator: separator)))
            } else if status.isEmpty {
                results[id] = .failure(Failure(sqlstate: "", message: "psql stopped before this query: \(result.stderrText.prefix(300))"))
            } else {
                results[id] = .success(rows)
            }
        }
        return DatabaseFacts(results: results)
    }
}
