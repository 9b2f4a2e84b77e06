@testable import Checks
import Testing

@Suite struct QueriesPresentCheckTests {
    @Test func passesWhenAllPresentAndNonEmpty() {
        let verdict = QueriesPresentCheck().evaluate(Fixture.host, settings: Fixture.settings)
        #expect(verdict.status == .pass)
        #expect(verdict.evidence == [Evidence("a.sql", "100 bytes"), Evidence("b.sql", "100 bytes")])
    }

    @Test func namesMissingAndEmptyQueries() {
        var facts = Fixture.host
        facts.queries = ["a.sql": nil, "b.sql": Fixture.file(size: 0)]
        let verdict = QueriesPresentCheck().evaluate(facts, settings: Fixture.settings)
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("missing: a.sql"))
        #expect(verdict.message.contains("empty: b.sql"))
    }

    /// A directory named like a query has a non-zero size and used to pass as present.
    @Test func aDirectoryIsNotAQueryFile() {
        var facts = Fixture.host
        facts.queries["b.sql"] = Fixture.file(size: 4096, kind: "directory")
        let verdict = QueriesPresentCheck().evaluate(facts, settings: Fixture.settings)
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("not a regular file: b.sql"))
    }

    /// A query of blanks and newlines has a size, and used to pass as present.
    @Test func aQueryOfOnlyWhitespaceIsEmpty() {
        var facts = Fixture.host
        facts.blankQueries = ["a.sql"]
        let verdict = QueriesPresentCheck().evaluate(facts, settings: Fixture.settings)
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("only whitespace: a.sql"))
    }
}
