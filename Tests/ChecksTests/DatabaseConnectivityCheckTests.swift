@testable import Checks
import Testing

@Suite struct DatabaseConnectivityCheckTests {
    @Test func reportsTheRowCount() {
        let verdict = DatabaseConnectivityCheck().evaluate(Fixture.database(), settings: Fixture.settings)
        #expect(verdict.status == .pass)
        #expect(verdict.evidence == [Evidence("trade_records", "60")])
    }

    @Test func missingTableNamesTheFix() {
        let verdict = DatabaseConnectivityCheck().evaluate(Fixture.database(["trade-count": .failure(Fixture.missingTable)]), settings: Fixture.settings)
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("trade_records\" does not exist"))
        #expect(verdict.message.contains("migrations"))
    }
}
