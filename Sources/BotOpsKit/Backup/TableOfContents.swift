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
        public var dependencies: [Int] = []
    }

    public var entries: [Entry] = []

    /// Kinds of more than one word, longest first, so the kind is told from the schema after it.
    static let kinds = ["MATERIALIZED VIEW DATA", "SEQUENCE OWNED BY", "MATERIALIZED VIEW", "CHECK CONSTRAINT", "FK CONSTRAINT", "STATISTICS DATA",
                        "SECURITY LABEL", "DEFAULT ACL", "INDEX ATTACH", "ROW SECURITY", "SEQUENCE SET", "TABLE ATTACH", "TABLE DATA"]

    /// What may hang on a restored table (or a view brought back with it).
    static let dependents: Set<String> = ["MATERIALIZED VIEW DATA", "TABLE DATA", "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT", "INDEX", "TRIGGER", "ACL", "COMMENT",
                                          "DEFAULT", "SEQUENCE", "SEQUENCE SET", "SEQUENCE OWNED BY", "POLICY", "ROW SECURITY", "RULE",
                                          "STATISTICS", "SECURITY LABEL"]

    /// `owners`: the role names that may own entries (the live server's): an owner whose name
    /// holds a space is told from the name before it only by knowing it; any other owner is the
    /// line's last word.
    public init(verboseList: String, owners: Set<String> = []) {
        // pg_restore prints names unquoted, space-separated: a schema named with a space is told
        // from the name after it by the dump's own SCHEMA entries (listed before what is in them).
        let spaced = owners.filter { $0.contains(" ") }.sorted { $0.count > $1.count }
        var schemas: [String] = ["public"]
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
            let named = String(fields.dropFirst(schema.count + 1))
            let tag: String
            if let owner = spaced.first(where: { named.hasSuffix(" " + $0) && named.count > $0.count + 1 }) {
                tag = String(named.dropLast(owner.count + 1))
            } else {
                var words = named.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                if words.count > 1 { words.removeLast() }   // the owner
                tag = words.joined(separator: " ")
            }
            if kind == "SCHEMA", schema == "-" { schemas.append(tag) }
            entries.append(Entry(id: id, line: line, kind: kind, schema: schema, tag: tag))
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
        public var description: String {
            guard case .notInDump(let names) = self else { return "" }
            return "the backup has no table " + names.map(\.description).joined(separator: ", ") + " (botops backups --format json lists its tables)"
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
        for table in tables {
            if let entry = entries.first(where: { $0.kind == "TABLE" && $0.schema == table.schema && $0.tag == table.name }) {
                roots[entry.id] = table
            } else {
                missing.append(table)
            }
        }
        guard missing.isEmpty else { throw SelectionError.notInDump(missing) }
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
