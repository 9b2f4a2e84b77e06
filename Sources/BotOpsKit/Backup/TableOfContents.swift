import Foundation

/// A dump's table of contents as `pg_restore --list --verbose` prints it, with each entry's
/// dependencies (`;\tdepends on: 227 3284`), and the `-L` list that restores chosen tables with
/// everything that hangs on them: plain `pg_restore -t` restores a table's rows without its
/// primary key, indexes, foreign keys, triggers, sequences or grants.
public struct TableOfContents: Sendable {
    public struct Entry: Sendable, Equatable {
        public var id: Int
        /// The line as pg_restore printed it: what goes into the `-L` list.
        public var line: String
        /// `TABLE`, `TABLE DATA`, `FK CONSTRAINT`, …
        public var kind: String
        public var schema: String
        /// The name, or for a constraint or trigger `TABLE NAME`.
        public var tag: String
        /// The owner as read from the line's end ("" when it names none).
        public var owner: String = ""
        /// Other names the line may give, with another of the roles as owner, that neither the
        /// dump's tables nor the owners of what the entry depends on rule out.
        public var otherTags: [String] = []
        public var dependencies: [Int] = []
    }

    /// One way to split a line's `TAG OWNER`.
    struct Reading: Equatable {
        var tag: String
        var owner: String
    }

    public var entries: [Entry] = []

    /// Kinds of more than one word, longest first, so the kind is told from the schema after it.
    static let kinds = ["MATERIALIZED VIEW DATA", "SEQUENCE OWNED BY", "MATERIALIZED VIEW", "CHECK CONSTRAINT", "FK CONSTRAINT", "STATISTICS DATA",
                        "SECURITY LABEL", "DEFAULT ACL", "INDEX ATTACH", "ROW SECURITY", "SEQUENCE SET", "TABLE ATTACH", "TABLE DATA"]

    /// What may hang on a restored table (or a view brought back with it).
    static let dependents: Set<String> = ["MATERIALIZED VIEW DATA", "TABLE DATA", "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT", "INDEX", "TRIGGER", "ACL", "COMMENT",
                                          "DEFAULT", "SEQUENCE", "SEQUENCE SET", "SEQUENCE OWNED BY", "POLICY", "ROW SECURITY", "RULE",
                                          "STATISTICS", "SECURITY LABEL"]

    /// `owners`: the role names that may own entries (the live server's). pg_restore prints
    /// `TAG OWNER` unquoted, space-separated, so `links toc admin` is `links toc` owned by `admin`
    /// or `links` owned by `toc admin` when both roles exist. Every split that ends in a known role
    /// is a reading (without one, the owner is the last word); among several, the one naming a
    /// table in `tables` (the backup's, from its record) is taken, then the one whose owner owns
    /// what the entry depends on (pg_dump gives an index or constraint its table's owner). What
    /// still reads two ways keeps the others in `otherTags`: a table restore refuses it.
    public init(verboseList: String, owners: Set<String> = [], tables: Set<TableName> = []) {
        // pg_restore prints names unquoted, space-separated: a schema named with a space is told
        // from the name after it by the dump's own SCHEMA entries (listed before what is in them).
        var schemas: [String] = ["public"]
        var unsure: [Int: [Reading]] = [:]
        for raw in verboseList.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(raw)
            if line.hasPrefix(";") {
                let words = line.dropFirst().trimmingCharacters(in: .whitespaces)
                guard words.hasPrefix("depends on:"), !entries.isEmpty else { continue }
                entries[entries.count - 1].dependencies += words.dropFirst("depends on:".count).split(separator: " ").compactMap { Int($0) }
                continue
            }
            // `ID; CATALOG-OID OID KIND SCHEMA TAG OWNER`
            let head = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard head.count == 4, head[0].hasSuffix(";"), let id = Int(head[0].dropLast()) else { continue }
            let rest = String(head[3])
            let kind = Self.kinds.first { rest.hasPrefix($0 + " ") } ?? String(rest.prefix { $0 != " " })
            let fields = String(rest.dropFirst(kind.count + 1))
            let known = schemas.filter { fields.hasPrefix($0 + " ") }.max { $0.count < $1.count }
            let schema = known ?? String(fields.prefix { $0 != " " })
            guard !schema.isEmpty else { continue }
            let readings = Self.readings(String(fields.dropFirst(schema.count + 1)), owners: owners)
            let tag = readings[0].tag
            if kind == "SCHEMA", schema == "-" { schemas.append(tag) }
            if readings.count > 1 { unsure[entries.count] = readings }
            entries.append(Entry(id: id, line: line, kind: kind, schema: schema, tag: tag, owner: readings[0].owner))
        }
        // The dependencies follow their entry's line: a reading is chosen once all are known, by
        // the tables first, so an owner it takes from what it depends on is a sure one.
        for (index, readings) in unsure {
            let entry = entries[index]
            let left = Self.narrowed(readings) { Self.names(entry.kind, $0.tag, schema: entry.schema, tables: tables) }
            unsure[index] = left
            (entries[index].tag, entries[index].owner, entries[index].otherTags) = (left[0].tag, left[0].owner, left.dropFirst().map(\.tag))
        }
        let sureOwner = Dictionary(entries.indices.filter { (unsure[$0]?.count ?? 1) == 1 }.map { (entries[$0].id, entries[$0].owner) }, uniquingKeysWith: { first, _ in first })
        for (index, readings) in unsure where readings.count > 1 {
            let owners = Set(entries[index].dependencies.compactMap { sureOwner[$0] })
            let left = Self.narrowed(readings) { owners.contains($0.owner) }
            (entries[index].tag, entries[index].owner, entries[index].otherTags) = (left[0].tag, left[0].owner, left.dropFirst().map(\.tag))
        }
    }

    /// The ways `named` (`TAG OWNER`) splits with a role of `owners` at its end, longest owner
    /// first; without one, the last word is the owner.
    static func readings(_ named: String, owners: Set<String>) -> [Reading] {
        let ends = owners.filter { named.count > $0.count + 1 && named.hasSuffix(" " + $0) }.sorted { ($0.count, $0) > ($1.count, $1) }
        if !ends.isEmpty { return ends.map { Reading(tag: String(named.dropLast($0.count + 1)), owner: $0) } }
        var words = named.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let owner = words.count > 1 ? words.removeLast() : ""
        return [Reading(tag: words.joined(separator: " "), owner: owner)]
    }

    /// Those of `readings` that pass `test`, or all when none does.
    private static func narrowed(_ readings: [Reading], by test: (Reading) -> Bool) -> [Reading] {
        let passing = readings.filter(test)
        return passing.isEmpty ? readings : passing
    }

    /// Whether `tag`, as the tag of a `kind` entry in `schema`, names one of `tables`: a table or
    /// its data by its name, a constraint, trigger or default by `TABLE NAME`.
    private static func names(_ kind: String, _ tag: String, schema: String, tables: Set<TableName>) -> Bool {
        switch kind {
        case "TABLE", "TABLE DATA": return tables.contains(TableName(schema: schema, name: tag))
        case "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT", "TRIGGER", "DEFAULT", "POLICY", "RULE":
            return tables.contains { $0.schema == schema && tag.hasPrefix($0.name + " ") }
        default: return false
        }
    }

    /// A table named on the command line: `NAME` (schema public) or `SCHEMA.NAME`.
    public struct TableName: Sendable, Hashable, CustomStringConvertible {
        public var schema: String
        public var name: String
        public init(schema: String, name: String) {
            self.schema = schema
            self.name = name
        }

        /// One name as `--tables` takes it; see `list(parsing:)`.
        public init(parsing text: String) {
            self = (try? Self.list(parsing: text).first) ?? TableName(schema: "public", name: text)
        }

        /// `--tables`: names separated by commas, each `NAME` (schema public) or `SCHEMA.NAME`.
        /// A part in double quotes is taken as written, with `""` for a quote inside, and may hold
        /// a comma, a dot or spaces (`"My Schema"."Trade Links"`); an unquoted part is taken as
        /// written too (no case folding), trimmed of the spaces around it.
        public static func list(parsing text: String) throws -> [TableName] {
            var names: [TableName] = []
            var parts: [String] = []
            var part = ""
            var quoted = false, wasQuoted = false
            var characters = text.makeIterator()
            func endPart() throws {
                let value = wasQuoted ? part : part.trimmingCharacters(in: .whitespaces)
                guard !value.isEmpty else { throw NameError("an empty name in \(text)") }
                parts.append(value)
                part = ""
                wasQuoted = false
            }
            func endName() throws {
                try endPart()
                guard parts.count <= 2 else { throw NameError("\(parts.joined(separator: ".")) has more than SCHEMA.NAME: quote a name that holds a dot (\"a.b\")") }
                names.append(parts.count == 2 ? TableName(schema: parts[0], name: parts[1]) : TableName(schema: "public", name: parts[0]))
                parts = []
            }
            while let character = characters.next() {
                if quoted {
                    if character == "\"" {
                        // `""` is a quote inside; a lone one ends the quoted part.
                        var lookahead = characters
                        if lookahead.next() == "\"" {
                            part.append("\"")
                            characters = lookahead
                        } else {
                            quoted = false
                        }
                    } else {
                        part.append(character)
                    }
                    continue
                }
                switch character {
                case "\"":
                    guard part.trimmingCharacters(in: .whitespaces).isEmpty, !wasQuoted else { throw NameError("a quote inside a name in \(text): quote the whole part") }
                    part = ""
                    quoted = true
                    wasQuoted = true
                case ".": try endPart()
                case ",": try endName()
                default:
                    if wasQuoted, character != " " { throw NameError("text after a quoted name in \(text)") }
                    if !wasQuoted || character != " " { part.append(character) }
                }
            }
            guard !quoted else { throw NameError("an unclosed quote in \(text)") }
            try endName()
            return names
        }

        public struct NameError: Error, CustomStringConvertible {
            public let description: String
            init(_ description: String) { self.description = "--tables: " + description }
        }

        public var description: String { "\(schema).\(name)" }
    }

    /// A foreign key of another table that points at a restored table: the live one (still
    /// pointing at the table set aside) is dropped so the list can add it again.
    public struct Reference: Sendable, Equatable {
        public var table: TableName
        public var constraint: String
        public var target: TableName
        public init(table: TableName, constraint: String, target: TableName) {
            self.table = table
            self.constraint = constraint
            self.target = target
        }
    }

    public struct Selection: Sendable {
        public var entries: [Entry]
        public var references: [Reference]
        /// The `-L` list: the chosen entries' lines in the dump's order.
        public var list: String { entries.map(\.line).joined(separator: "\n") + "\n" }
    }

    public enum SelectionError: Error, Equatable, CustomStringConvertible {
        case notInDump([TableName])
        /// The backup's table of contents reads two ways for the table: its name and owner, or
        /// another table's name and a role whose name holds a space.
        case ownerUnclear([TableName])
        public var description: String {
            switch self {
            case .notInDump(let names):
                return "the backup has no table " + names.map(\.description).joined(separator: ", ") + " (botops backups --format json lists its tables)"
            case .ownerUnclear(let names):
                return "the backup's table of contents cannot tell " + names.map(\.description).joined(separator: ", ")
                    + " from another table of the backup owned by a role whose name ends like it (pg_restore lists names and owners unquoted);"
                    + " restore the whole backup instead, or rename that role (ALTER ROLE … RENAME TO, a name without spaces) and take a new backup"
            }
        }
    }

    /// Relations a view can depend on.
    static let relations: Set<String> = ["TABLE", "VIEW", "MATERIALIZED VIEW"]

    /// The tables' entries and, transitively, every entry of the kinds above that depends on one of
    /// them (pg_dump makes a sequence a table owns depend on the table). A view or materialized
    /// view over a chosen entry comes too when it is not in `live` (the live database's relations)
    /// and every other relation it reads is: dropped with its table (CASCADE), it comes back; one
    /// still there (it followed a table set aside) or one over a table that is gone stays as it is.
    public func selection(for tables: [TableName], live: Set<TableName> = []) throws -> Selection {
        let byID = Dictionary(entries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var roots: [Int: TableName] = [:]
        var missing: [TableName] = []
        var unclear: [TableName] = []
        for table in tables {
            let tables = entries.filter { $0.kind == "TABLE" && $0.schema == table.schema }
            if tables.contains(where: { $0.otherTags.contains(table.name) || ($0.tag == table.name && !$0.otherTags.isEmpty) }) {
                unclear.append(table)
            } else if let entry = tables.first(where: { $0.tag == table.name }) {
                roots[entry.id] = table
            } else {
                missing.append(table)
            }
        }
        guard missing.isEmpty else { throw SelectionError.notInDump(missing) }
        guard unclear.isEmpty else { throw SelectionError.ownerUnclear(unclear) }
        var chosen = Set(roots.keys)
        var grew = true
        while grew {
            grew = false
            for entry in entries where !chosen.contains(entry.id) && entry.dependencies.contains(where: chosen.contains) {
                if Self.relations.contains(entry.kind) {
                    let name = TableName(schema: entry.schema, name: entry.tag)
                    let reads = entry.dependencies.compactMap { byID[$0] }.filter { Self.relations.contains($0.kind) }
                    guard !live.contains(name), reads.allSatisfy({ chosen.contains($0.id) || live.contains(TableName(schema: $0.schema, name: $0.tag)) }) else { continue }
                } else if !Self.dependents.contains(entry.kind) {
                    continue
                }
                chosen.insert(entry.id)
                grew = true
            }
        }
        var references: [Reference] = []
        for entry in entries where chosen.contains(entry.id) && entry.kind == "FK CONSTRAINT" {
            let target = entry.dependencies.compactMap { roots[$0] }.first
            let owner = entry.dependencies.compactMap { byID[$0] }.first { $0.kind == "TABLE" && roots[$0.id] == nil }
            guard let target, let owner, entry.tag.hasPrefix(owner.tag + " ") else { continue }
            references.append(Reference(table: TableName(schema: owner.schema, name: owner.tag), constraint: String(entry.tag.dropFirst(owner.tag.count + 1)), target: target))
        }
        return Selection(entries: entries.filter { chosen.contains($0.id) }, references: references)
    }
}
