import Foundation
import Postgres

/// The shape of the ledger's tables in one schema, as PostgreSQL's catalog describes them: what
/// `migrate --adopt` compares between the user's tables and the engine's migrations.
struct LedgerCatalog: Sendable, Equatable {
    struct Column: Sendable, Equatable {
        var name: String
        /// As `format_type` spells it: `numeric(20,8)`, `character varying(64)`, `timestamp with time zone`.
        var type: String
        var notNull: Bool
        var defaultExpression: String?
        /// numeric's precision and scale; nil when unconstrained or another type.
        var precision: Int?
        var scale: Int?
    }

    struct Constraint: Sendable, Equatable {
        var name: String
        /// c (check), f (foreign key), p (primary key), u (unique).
        var kind: String
        /// `pg_get_constraintdef`: `CHECK ((price > (0)::numeric))`, `FOREIGN KEY (order_id) REFERENCES trade_records(order_id)`.
        var definition: String
        var validated: Bool
        var columns: [String]
        /// A check's expression; a foreign key's referenced table and columns.
        var expression: String?
        var referencedTable: String?
        var referencedColumns: [String]
    }

    struct Index: Sendable, Equatable {
        var name: String
        var unique: Bool
        var valid: Bool
        /// The key columns or expressions, as `pg_get_indexdef` prints them.
        var keys: [String]
        var predicate: String?
    }

    struct Table: Sendable, Equatable {
        var name: String
        var columns: [Column] = []
        var constraints: [Constraint] = []
        var indexes: [Index] = []
        /// 1 if the table holds a row, else 0.
        var rows: Int = 0

        func column(_ name: String) -> Column? { columns.first { $0.name == name } }
    }

    var tables: [String: Table]

    /// Reads `tables` of `schema`. Names print unqualified when `schema` is first on the search path.
    static func read(_ connection: PostgresConnection, schema: String, tables names: [String]) async throws -> LedgerCatalog {
        let list = names.joined(separator: ",")
        var tables: [String: Table] = [:]
        for row in try await connection.query("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname = ANY (string_to_array($2, ','))
            """, [schema, list]).rows {
            let name = try row.string(0)
            tables[name] = Table(name: name)
        }
        for row in try await connection.query("""
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
                   CASE WHEN a.atttypid = 'numeric'::regtype AND a.atttypmod >= 4 THEN ((a.atttypmod - 4) >> 16) & 65535 END,
                   CASE WHEN a.atttypid = 'numeric'::regtype AND a.atttypmod >= 4 THEN (a.atttypmod - 4) & 65535 END
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
            WHERE n.nspname = $1 AND c.relname = ANY (string_to_array($2, ',')) AND c.relkind IN ('r', 'p')
            ORDER BY c.relname, a.attnum
            """, [schema, list]).rows {
            tables[try row.string(0)]?.columns.append(Column(
                name: try row.string(1), type: try row.string(2), notNull: try row.bool(3), defaultExpression: row.optionalString(4),
                precision: row.optionalString(5).flatMap { Int($0) }, scale: row.optionalString(6).flatMap { Int($0) }))
        }
        for row in try await connection.query("""
            SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid), k.convalidated,
                   coalesce((SELECT string_agg(a.attname, ',' ORDER BY array_position(k.conkey, a.attnum))
                             FROM pg_attribute a WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)), ''),
                   pg_get_expr(k.conbin, k.conrelid), r.relname,
                   coalesce((SELECT string_agg(a.attname, ',' ORDER BY array_position(k.confkey, a.attnum))
                             FROM pg_attribute a WHERE a.attrelid = k.confrelid AND a.attnum = ANY (k.confkey)), '')
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_class r ON r.oid = k.confrelid
            WHERE n.nspname = $1 AND c.relname = ANY (string_to_array($2, ',')) AND k.contype IN ('c', 'f', 'p', 'u')
            ORDER BY c.relname, k.conname
            """, [schema, list]).rows {
            tables[try row.string(0)]?.constraints.append(Constraint(
                name: try row.string(1), kind: try row.string(2), definition: try row.string(3), validated: try row.bool(4),
                columns: try row.string(5).split(separator: ",").map(String.init), expression: row.optionalString(6),
                referencedTable: row.optionalString(7), referencedColumns: try row.string(8).split(separator: ",").map(String.init)))
        }
        for row in try await connection.query("""
            SELECT c.relname, i.relname, x.indisunique, x.indisvalid,
                   (SELECT array_to_json(array_agg(pg_get_indexdef(x.indexrelid, k, true) ORDER BY k))::text FROM generate_series(1, x.indnkeyatts) k),
                   pg_get_expr(x.indpred, x.indrelid, true)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = ANY (string_to_array($2, ','))
            ORDER BY c.relname, i.relname
            """, [schema, list]).rows {
            tables[try row.string(0)]?.indexes.append(Index(name: try row.string(1), unique: try row.bool(2), valid: try row.bool(3),
                                                            keys: try jsonStrings(try row.string(4)), predicate: row.optionalString(5)))
        }
        for name in tables.keys {
            // Whether the table holds any row at all (1 or 0): rows are only counted when there are some.
            tables[name]?.rows = try await connection.query("SELECT count(*) FROM (SELECT 1 FROM \(identifier(schema)).\(identifier(name)) LIMIT 1) t").rows[0].int(0)
        }
        return LedgerCatalog(tables: tables)
    }
}

/// A name as SQL spells it, double-quoted.
func identifier(_ name: String) -> String {
    "\"" + name.replacing("\"", with: "\"\"") + "\""
}

/// A JSON array of strings, as `array_to_json` prints it.
private func jsonStrings(_ text: String) throws -> [String] {
    try JSONDecoder().decode([String].self, from: Data(text.utf8))
}
