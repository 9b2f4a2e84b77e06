import Foundation
import HostCommands

/// A database's encoding, collation and ctype: what a database created to hold its dump must
/// take (restored into another encoding, text is converted and its figures differ). One probe for
/// the full restore (read by botops) and the verification on the live server (read by its script).
// FIXME: an ICU-provider database (PostgreSQL 15+) is read, and re-created, with its libc collation only.
enum DatabaseLocale {
    /// SQL printing `encoding E`, `collate C` and `ctype T` of the one `pg_database` row the
    /// query `row` gives (as `d`), as BackupFigures reads facts.
    static func query(row: String) -> String {
        "SELECT x FROM (\(row)) d, LATERAL (VALUES ('encoding ' || pg_encoding_to_char(d.encoding)), ('collate ' || d.datcollate), ('ctype ' || d.datctype)) v(x);"
    }

    /// Sets `$encoding`, `$collate` and `$ctype` from the query's output in `$facts`; status 1 when one is missing.
    static let shellRead: ShellScript = """
        encoding=$(printf '%s\\n' "$facts" | sed -n 's/^encoding //p') collate=$(printf '%s\\n' "$facts" | sed -n 's/^collate //p') \\
          ctype=$(printf '%s\\n' "$facts" | sed -n 's/^ctype //p') && [ -n "$encoding" ] && [ -n "$collate" ] && [ -n "$ctype" ]
        """
}
