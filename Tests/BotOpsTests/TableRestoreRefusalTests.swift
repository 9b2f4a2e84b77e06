@testable import BotOpsKit
import Testing

/// restore --tables takes a refusal only from a whole line tagged for this run: host output that
/// merely holds the mark's text (an error naming a table called so) is not a refusal.
struct TableRestoreRefusalTests {
    let tag = "5F0C1D2E-0000-4000-8000-00000000ABCD"

    @Test func aWholeTaggedLineIsTheRefusal() {
        let lines = ["psql:<stdin>:12: ERROR:  ", "botops-refused public.t has 3 rows now, written since they were counted \(tag)",
                     "CONTEXT:  PL/pgSQL function inline_code_block line 5 at RAISE"]
        #expect(TableRestore.refusal(in: lines, tag: tag) == "public.t has 3 rows now, written since they were counted")
    }

    @Test(arguments: [
        // The mark's text inside another message, with and without this run's tag.
        #"psql:<stdin>:40: ERROR:  relation "botops-refused public.x" already exists"#,
        "pg_restore: error: could not execute query: botops-refused public.t has 3 rows now 5F0C1D2E-0000-4000-8000-00000000ABCD",
        // A line of the mark with another run's tag, or none.
        "botops-refused public.t has 3 rows now, written since they were counted 00000000-0000-4000-8000-000000000000",
        "botops-refused public.t has 3 rows now, written since they were counted",
        "botops-refused: public.t has 3 rows now",
    ])
    func aLineThatOnlyHoldsTheMarkIsNot(_ line: String) {
        #expect(TableRestore.refusal(in: [line], tag: tag) == nil)
    }
}
