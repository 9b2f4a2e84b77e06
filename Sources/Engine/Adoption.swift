import Postgres

/// One change `migrate --adopt` makes to the user's tables. Additive changes run together in one
/// transaction; indexes are built `CONCURRENTLY` (each on its own, no transaction may hold them);
/// constraints, added `NOT VALID`, are validated last (a scan that does not block writes).
public struct AdoptionStep: Sendable, Equatable {
    public enum Phase: Int, Sendable, Comparable {
        case additive, index, validate
        public static func < (lhs: Phase, rhs: Phase) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var phase: Phase
    /// The table it changes, for messages.
    public var table: String
    public var description: String
    public var sql: String
}

/// What adoption found: the changes it would make, and why it must refuse, if it must.
public struct AdoptionPlan: Sendable, Equatable {
    public var steps: [AdoptionStep] = []
    public var refusals: [String] = []
    /// The existing tables it compared, for the plan's first line.
    public var adoptedTables: [String] = []

    public var text: String {
        var lines = ["existing tables: " + (adoptedTables.isEmpty ? "none" : adoptedTables.joined(separator: ", "))]
        if !refusals.isEmpty {
            lines.append("incompatible with the engine:")
            lines += refusals.map { "  - " + $0 }
        }
        lines.append(steps.isEmpty ? "changes: none" : "changes (nothing dropped, renamed or rewritten):")
        lines += steps.map { "  - " + $0.description }
        return lines.joined(separator: "\n")
    }
}

public struct AdoptionResult: Sendable, Equatable {
    /// The database has `schema_migrations`: there was nothing to adopt, `migrate` ran as usual.
    public var alreadyManaged = false
    public var plan: AdoptionPlan
    /// Versions recorded as the baseline, then versions applied normally after it.
    public var baseline: [Int]
    public var applied: [Int]
}

public struct AdoptionRefused: Error, Equatable, CustomStringConvertible {
    public var refusals: [String]
    /// The plan was applied, and comparing again still found these.
    public var afterApplying = false

    public var description: String {
        if afterApplying {
            return "adoption applied its plan, but the tables still differ from what the engine needs:\n" + refusals.map { "  - " + $0 }.joined(separator: "\n")
                + "\nNo baseline was recorded. Run `bot-engine migrate --adopt --dry-run` to see what is left."
        }
        return "cannot adopt this database; nothing was changed:\n" + refusals.map { "  - " + $0 }.joined(separator: "\n")
            + "\nCorrect these (or use a database the engine creates with `bot-engine migrate`), then run `bot-engine migrate --adopt` again."
    }
}

/// Adoption's ALTER TABLE waited its lock timeout for a table another session held: a long query
/// or an open transaction of the bot's. Waiting longer would queue every insert of the bot
/// behind the ALTER's ACCESS EXCLUSIVE request, so it gives up, changing nothing.
public struct AdoptionLockTimeout: Error, Equatable, CustomStringConvertible {
    public var table: String
    public var step: String
    public var timeout: Duration

    public var description: String {
        let milliseconds = Int(timeout / .milliseconds(1))
        let seconds = milliseconds % 1000 == 0 ? String(milliseconds / 1000) : String(Double(milliseconds) / 1000)
        return "could not lock \(table) within \(seconds) s (to \(step)): another session holds it, a long query or an open transaction "
            + "(pg_stat_activity shows which); nothing was changed. Run `bot-engine migrate --adopt` again once it is done."
    }
}

/// A step after the additive ones failed (an index build, a validation): what was added before
/// stays, no baseline was recorded, and adopting again resumes.
public struct AdoptionInterrupted: Error, Equatable, CustomStringConvertible {
    public var step: String
    public var reason: String

    public var description: String {
        "adoption stopped at '\(step)': \(reason)\nWhat it added before stays (nothing was dropped or rewritten; an index build it "
            + "stopped is left invalid and built again next time) and no baseline was recorded. Correct the cause (`bot-engine migrate "
            + "--adopt --dry-run` shows what is left), then run `bot-engine migrate --adopt` again: it resumes where it stopped."
    }
}

/// `migrate --adopt`: takes over a ledger whose tables the user's own bot created. Each existing
/// table is compared with the shape the engine's ledger migrations build (built for real in a
/// scratch schema inside a transaction that is rolled back, so the migrations stay the one
/// definition); anything that would need a rewrite or a guess is refused, the rest added.
struct Adoption {
    let migrations: [Migration]
    let connection: PostgresConnection
    /// How long an ALTER TABLE of the additive step waits for its lock.
    let lockTimeout: Duration

    static let referenceSchema = "bot_engine_adoption_reference"

    /// Reads the engine's shape and the user's, then compares them (queries that count offending
    /// rows included). Changes nothing.
    func plan() async throws -> AdoptionPlan {
        let schema = try await connection.query("SELECT current_schema(), current_setting('search_path')").rows[0]
        let userSchema = try schema.string(0), searchPath = try schema.string(1)
        let statements = SchemaStatement.split(migrations)
        let tables = SchemaStatement.tables(statements)
        try await connection.query("BEGIN")
        let catalogs: (reference: LedgerCatalog, found: LedgerCatalog)
        do {
            try await connection.execute(script: "CREATE SCHEMA \(identifier(Self.referenceSchema)); SET LOCAL search_path = \(identifier(Self.referenceSchema))")
            for migration in migrations { try await connection.execute(script: migration.sql) }
            let reference = try await LedgerCatalog.read(connection, schema: Self.referenceSchema, tables: tables)
            try await connection.query("SELECT set_config('search_path', $1, true)", [searchPath])
            catalogs = (reference, try await LedgerCatalog.read(connection, schema: userSchema, tables: tables))
            try await connection.query("ROLLBACK")
        } catch {
            _ = try? await connection.query("ROLLBACK")
            throw error
        }
        var comparison = Comparison(schema: userSchema, statements: statements, reference: catalogs.reference, found: catalogs.found)
        comparison.compare(tables)
        // Tables the search path finds in a later schema: compared there they would look missing,
        // and an empty ledger would be created beside the bot's.
        for row in try await connection.query("""
            SELECT t, n.nspname FROM unnest(string_to_array($1, ',')) WITH ORDINALITY AS u(t, i)
            JOIN pg_class c ON c.oid = to_regclass(t) JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname <> current_schema() ORDER BY i
            """, [tables.joined(separator: ",")]).rows {
            let table = try row.string(0), schema = try row.string(1)
            comparison.plan.refusals.append("\(table) is in schema \(schema), but \(userSchema) comes first on search_path, where the engine "
                                            + "would create the tables it adds: put \(schema) first on search_path (or move the tables), then adopt")
        }
        for check in comparison.prechecks {
            let offending = try await connection.query(check.sql).rows[0].int(0)
            if offending > 0 { comparison.plan.refusals.append(check.refusal(offending)) }
        }
        return comparison.plan
    }

    /// Applies `plan` (which has no refusal) phase by phase, then checks that nothing is left to do.
    func apply(_ plan: AdoptionPlan) async throws {
        let additive = plan.steps.filter { $0.phase == .additive }
        if !additive.isEmpty {
            var current = additive[0]
            do {
                try await connection.transaction { connection in
                    try await connection.query("SELECT set_config('lock_timeout', $1, true)", ["\(Int(lockTimeout / .milliseconds(1)))ms"])
                    for step in additive {
                        current = step
                        try await connection.execute(script: step.sql)
                    }
                }
            } catch let error as PostgresError where error.sqlstate == "55P03" {
                throw AdoptionLockTimeout(table: current.table, step: current.description, timeout: lockTimeout)
            }
        }
        for step in plan.steps where step.phase != .additive {
            do {
                try await connection.execute(script: step.sql)
            } catch {
                throw AdoptionInterrupted(step: step.description, reason: String(describing: error))
            }
        }
        let after = try await self.plan()
        guard after.steps.isEmpty, after.refusals.isEmpty else {
            throw AdoptionRefused(refusals: after.refusals + after.steps.map { "still to do: \($0.description)" }, afterApplying: true)
        }
    }
}

/// One statement of a ledger migration and the table it concerns, so adoption can create a
/// missing table exactly as the migrations do.
struct SchemaStatement: Equatable {
    var table: String
    var sql: String

    static func split(_ migrations: [Migration]) -> [SchemaStatement] {
        migrations.flatMap { migration in
            // The ledger's migrations hold no `;` inside a literal or a comment (a test makes sure).
            migration.sql.split(separator: ";").compactMap { chunk -> SchemaStatement? in
                let code = chunk.split(separator: "\n").filter { !$0.trimmingPrefix(while: \.isWhitespace).hasPrefix("--") }.joined(separator: "\n")
                guard let match = code.firstMatch(of: /(?:CREATE TABLE|ALTER TABLE|DELETE FROM|\bON)\s+([a-z_]+)/) else { return nil }
                return SchemaStatement(table: String(match.1), sql: chunk.trimmingPrefix(while: \.isWhitespace) + ";")
            }
        }
    }

    /// The tables the statements create, in order.
    static func tables(_ statements: [SchemaStatement]) -> [String] {
        statements.filter { $0.sql.contains("CREATE TABLE \($0.table) ") }.map(\.table)
    }
}

/// A query counting rows that would make a step fail, and the refusal it means.
struct Precheck {
    var sql: String
    var refusal: @Sendable (Int) -> String
}

/// The comparison of the user's tables with the engine's: a pure function of the two catalogs.
struct Comparison {
    let schema: String
    let statements: [SchemaStatement]
    let reference: LedgerCatalog
    let found: LedgerCatalog
    var plan = AdoptionPlan()
    var prechecks: [Precheck] = []

    func qualified(_ table: String) -> String { identifier(schema) + "." + identifier(table) }

    mutating func compare(_ tables: [String]) {
        plan.adoptedTables = tables.filter { found.tables[$0] != nil }
        for name in tables {
            guard let needed = reference.tables[name] else { continue }
            guard let table = found.tables[name] else {
                for statement in statements where statement.table == name {
                    plan.steps.append(AdoptionStep(phase: .additive, table: name, description: Self.summary(statement.sql), sql: statement.sql))
                }
                continue
            }
            compareColumns(needed, table)
            compareKeys(needed, table)
            compareConstraints(needed, table)
            compareIndexes(needed, table)
        }
        limitCachedMetadata()
        plan.steps.sort { $0.phase < $1.phase }
    }

    /// Linking copies cached metadata into trade_strategy_link; a varchar(n) column the bot gave
    /// that table (trigger_type varchar(32)) would refuse a longer value only then, failing the
    /// whole recording of fills until the metadata expired. The cache gets the same limit, so
    /// `metadata cache` refuses such a value instead.
    mutating func limitCachedMetadata() {
        guard let link = found.tables["trade_strategy_link"],
              let cache = found.tables["strategy_metadata_cache"] ?? reference.tables["strategy_metadata_cache"] else { return }
        for column in link.columns where cache.column(column.name) != nil {
            guard let limit = column.type.wholeMatch(of: /character varying\((\d+)\)/).map({ String($0.1) }) else { continue }
            let name = column.name
            addCheck(to: cache, name: "strategy_metadata_cache_\(name)_length", definition: "CHECK ((char_length(\(name)) <= \(limit)))",
                     columns: [name], violation: "char_length(\(identifier(name))) > \(limit)",
                     refusal: { "\($0) rows of strategy_metadata_cache have a \(name) longer than trade_strategy_link holds (\(limit)): they could never be linked; delete them" })
        }
    }

    /// A statement's first line of code, as the plan shows it.
    static func summary(_ sql: String) -> String {
        let line = sql.split(separator: "\n").first { !$0.trimmingPrefix(while: \.isWhitespace).hasPrefix("--") } ?? ""
        return line.trimmingCharacters(in: .whitespaces).replacing(/\s*\($/, with: "")
    }

    mutating func compareColumns(_ needed: LedgerCatalog.Table, _ table: LedgerCatalog.Table) {
        let name = table.name
        for column in needed.columns {
            guard let existing = table.column(column.name) else {
                addColumn(column, to: table)
                continue
            }
            switch Self.compatibility(found: existing, needed: column) {
            case .same:
                if let scale = column.scale, existing.type.hasPrefix("numeric"), (existing.scale ?? Int.max) > scale, table.rows > 0 {
                    readableAmounts(table, column.name, scale: scale)
                }
            case .widen:
                plan.steps.append(AdoptionStep(
                    phase: .additive, table: name, description: "widen \(name).\(column.name) from \(existing.type) to \(column.type) (same scale: no rewrite)",
                    sql: "ALTER TABLE \(qualified(name)) ALTER COLUMN \(identifier(column.name)) TYPE \(column.type);"))
            case .incompatible:
                plan.refusals.append("\(name).\(column.name) is \(existing.type); the engine needs \(column.type) (changing it would rewrite the table)")
            }
            if column.notNull, !existing.notNull {
                addCheck(to: table, name: "\(name)_\(column.name)_not_null", definition: "CHECK ((\(column.name) IS NOT NULL))",
                         columns: [column.name], violation: "\(identifier(column.name)) IS NULL",
                         refusal: { "\(name).\(column.name) is NULL in \($0) rows; the engine needs a value in each: fill them in" })
            }
        }
        for column in table.columns where needed.column(column.name) == nil && column.notNull && column.defaultExpression == nil {
            plan.refusals.append("\(name).\(column.name) is NOT NULL without a default, and the engine's inserts do not write it: give it a default or allow NULL")
        }
    }

    /// A numeric column with more decimals than the engine's takes, as it is: the engine reads its
    /// values as `Amount`s (8 decimals, 30 digits before the point), so a row beyond that would
    /// make `allocate`, `performance` and the report fail after adoption. Such rows refuse it.
    /// FIXME: a value the bot writes after adoption is not checked (a constraint would refuse the
    /// bot's own insert); the engine's read then fails naming the value.
    mutating func readableAmounts(_ table: LedgerCatalog.Table, _ column: String, scale: Int) {
        let name = table.name, quoted = identifier(column)
        prechecks.append(Precheck(
            sql: "SELECT count(*) FROM \(qualified(name)) WHERE NOT (\(quoted) = round(\(quoted), \(scale)) AND abs(\(quoted)) < 1e30)",
            refusal: { "\(name).\(column) holds \($0) values with more than \(scale) decimals (or beyond 30 digits, or NaN), which the engine cannot read: "
                + "round them (UPDATE \(name) SET \(column) = round(\(column), \(scale)) WHERE \(column) <> round(\(column), \(scale)))" }))
    }

    mutating func addColumn(_ column: LedgerCatalog.Column, to table: LedgerCatalog.Table) {
        let name = "\(table.name).\(column.name) (\(column.type))"
        guard let value = column.defaultExpression else {
            if column.notNull {
                plan.refusals.append("\(table.name) has no column \(column.name) (\(column.type)); the engine needs one and cannot invent its values")
            } else {
                plan.steps.append(AdoptionStep(phase: .additive, table: table.name, description: "add column \(name), NULL in existing rows",
                                               sql: "ALTER TABLE \(qualified(table.name)) ADD COLUMN \(identifier(column.name)) \(column.type);"))
            }
            return
        }
        // The engine's volatile defaults (ids, random uuids) would write every existing row.
        guard !value.contains("nextval("), !value.contains("random") else {
            plan.refusals.append("\(table.name) has no column \(column.name) (\(column.type) DEFAULT \(value)); adding it would rewrite every row")
            return
        }
        plan.steps.append(AdoptionStep(
            phase: .additive, table: table.name, description: "add column \(name) DEFAULT \(value)\(column.notNull ? " NOT NULL" : ""): existing rows read \(value)",
            sql: "ALTER TABLE \(qualified(table.name)) ADD COLUMN \(identifier(column.name)) \(column.type) DEFAULT \(value)\(column.notNull ? " NOT NULL" : "");"))
    }

    enum Compatibility { case same, widen, incompatible }

    /// Text takes varchar; a numeric takes any numeric that holds its values (unconstrained, or at
    /// least as many digits on each side of the point); bigint ids take integer ones (the engine
    /// never writes an id). A numeric with fewer integer digits but the same scale is widened.
    static func compatibility(found: LedgerCatalog.Column, needed: LedgerCatalog.Column) -> Compatibility {
        if found.type == needed.type { return .same }
        if needed.type == "text", found.type.hasPrefix("character varying") { return .same }
        if needed.type == "bigint", found.type == "integer" { return .same }
        guard needed.type.hasPrefix("numeric"), found.type.hasPrefix("numeric") else { return .incompatible }
        guard let precision = found.precision, let scale = found.scale else { return .same }
        guard let neededPrecision = needed.precision, let neededScale = needed.scale else { return .incompatible }
        if scale >= neededScale, precision - scale >= neededPrecision - neededScale { return .same }
        return scale == neededScale ? .widen : .incompatible
    }

    mutating func compareKeys(_ needed: LedgerCatalog.Table, _ table: LedgerCatalog.Table) {
        for key in needed.constraints where key.kind == "p" || key.kind == "u" {
            let unique = table.indexes.contains { $0.unique && $0.valid && $0.predicate == nil && $0.keys == key.columns }
            if !unique {
                plan.refusals.append("\(table.name) has no primary key or unique index on (\(key.columns.joined(separator: ", "))), "
                                     + "which the engine's merge (ON CONFLICT) relies on")
            }
        }
    }

    mutating func compareConstraints(_ needed: LedgerCatalog.Table, _ table: LedgerCatalog.Table) {
        for constraint in needed.constraints where constraint.kind == "c" || constraint.kind == "f" {
            let name = table.name
            var violation: String
            if constraint.kind == "c" {
                violation = "(\(constraint.expression ?? "true")) IS FALSE"
            } else {
                let column = identifier(constraint.columns[0]), target = constraint.referencedTable ?? ""
                violation = "\(column) IS NOT NULL"
                if found.tables[target] != nil {
                    violation += " AND NOT EXISTS (SELECT 1 FROM \(qualified(target)) r WHERE r.\(identifier(constraint.referencedColumns[0])) = t.\(column))"
                }
            }
            let definition = constraint.definition
            addCheck(to: table, name: constraint.name, definition: definition, columns: constraint.columns, violation: violation,
                     refusal: { "\($0) rows of \(name) break the engine's rule \(definition): correct them" })
        }
    }

    /// Adds a constraint `NOT VALID` and validates it, unless the table has it already; rows that
    /// would fail the validation are counted first, and refuse the adoption.
    mutating func addCheck(to table: LedgerCatalog.Table, name: String, definition: String, columns: [String], violation: String,
                           refusal: @escaping @Sendable (Int) -> String) {
        let existing = table.constraints.first { Self.normalized($0.definition) == Self.normalized(definition) }
        if existing?.validated == true { return }
        var constraintName = existing?.name ?? name
        if existing == nil {
            if table.constraints.contains(where: { $0.name == constraintName }) { constraintName += "_engine" }
            plan.steps.append(AdoptionStep(
                phase: .additive, table: table.name, description: "add constraint \(constraintName) on \(table.name): \(definition), NOT VALID",
                sql: "ALTER TABLE \(qualified(table.name)) ADD CONSTRAINT \(identifier(constraintName)) \(definition) NOT VALID;"))
        }
        plan.steps.append(AdoptionStep(phase: .validate, table: table.name, description: "validate \(constraintName) on \(table.name)",
                                       sql: "ALTER TABLE \(qualified(table.name)) VALIDATE CONSTRAINT \(identifier(constraintName));"))
        // Columns being added hold their default, which meets the engine's rules.
        if table.rows > 0, columns.allSatisfy({ table.column($0) != nil }) {
            prechecks.append(Precheck(sql: "SELECT count(*) FROM \(qualified(table.name)) t WHERE \(violation)", refusal: refusal))
        }
    }

    /// A constraint's definition without `NOT VALID` and without the casts PostgreSQL prints for a
    /// varchar column compared with text: the same rule whichever of the two the column is.
    static func normalized(_ definition: String) -> String {
        definition.replacing(/\sNOT VALID$/, with: "").replacing(/\((\w+)\)::(?:text|character varying)/) { String($0.1) }
    }

    mutating func compareIndexes(_ needed: LedgerCatalog.Table, _ table: LedgerCatalog.Table) {
        let keyIndexes = Set(needed.constraints.filter { $0.kind == "p" || $0.kind == "u" }.map(\.name))
        for index in needed.indexes where !keyIndexes.contains(index.name) {
            let present = table.indexes.contains { $0.valid && $0.unique == index.unique && $0.keys == index.keys && $0.predicate == index.predicate }
            if present { continue }
            var name = index.name
            // The user's own index may hold the name (then the engine's is NAME_engine), and an
            // interrupted build of either name leaves it invalid, to be dropped and built again.
            while let clash = table.indexes.first(where: { $0.name == name }) {
                if clash.valid {
                    name += "_engine"
                } else {
                    plan.steps.append(AdoptionStep(phase: .index, table: table.name, description: "drop the invalid index \(name) an interrupted build left",
                                                   sql: "DROP INDEX CONCURRENTLY \(qualified(name));"))
                    break
                }
            }
            let keyList = index.keys.map { $0.hasPrefix("(") || $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } ? $0 : "(\($0))" }
            let keys = keyList.joined(separator: ", ")
            let predicate = index.predicate.map { " WHERE \($0)" } ?? ""
            plan.steps.append(AdoptionStep(
                phase: .index, table: table.name, description: "create \(index.unique ? "unique " : "")index \(name) on \(table.name) (\(keys))\(predicate), CONCURRENTLY",
                sql: "CREATE \(index.unique ? "UNIQUE " : "")INDEX CONCURRENTLY \(identifier(name)) ON \(qualified(table.name)) (\(keys))\(predicate);"))
            if index.unique, table.rows > 0 {
                let tableName = table.name
                // Keys named in a subquery: GROUP BY refuses a constant key such as (true).
                let aliased = keyList.indices.map { "k\($0)" }.joined(separator: ", ")
                let selected = keyList.enumerated().map { "\($1) AS k\($0)" }.joined(separator: ", ")
                prechecks.append(Precheck(
                    sql: "SELECT count(*) FROM (SELECT 1 FROM (SELECT \(selected) FROM \(qualified(table.name))\(predicate)) s GROUP BY \(aliased) HAVING count(*) > 1) d",
                    refusal: { "\(tableName) has \($0) groups of rows sharing (\(keys))\(predicate), which the engine keeps unique: remove the repeats" }))
            }
        }
    }
}
